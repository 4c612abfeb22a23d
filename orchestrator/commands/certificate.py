"""`restoreproof certificate --month YYYY-MM`: issue a month's signed restore-test certificate."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from orchestrator.certificates.issue import CertificateError, issue_certificate, output_directory
from orchestrator.certificates.keys import KeyProblem
from orchestrator.certificates.period import Month
from orchestrator.commands import EXIT_COULD_NOT_RUN, EXIT_OK, UsageError, job_named, load, open_database

HELP = "issue a month's signed restore-test certificate: PDF, HTML, evidence JSON and signature envelope"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--month", required=True, help="the month to certify, YYYY-MM (UTC)")
    parser.add_argument("--lang", choices=("fr", "en"), help="language (default: certificates.language, else en)")
    parser.add_argument("--job", action="append", metavar="NAME", help="only this job (repeatable; default: all)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: certificates.output_dir in the state dir)")


def run(arguments: argparse.Namespace) -> int:
    config = load(arguments)
    try:
        month = Month.parse(arguments.month)
    except ValueError as invalid:
        raise UsageError(str(invalid)) from None
    jobs = sorted({job_named(config, name).name for name in arguments.job}) if arguments.job else None
    database = open_database(config)
    try:
        issued = issue_certificate(config, database, month, language=arguments.lang or config.settings.certificates.language,
                                   job_names=jobs, directory=arguments.out or output_directory(config),
                                   now=datetime.now(timezone.utc))
    except KeyProblem as problem:
        raise UsageError(str(problem)) from None
    except CertificateError as error:
        print(f"restoreproof: {error}")
        return EXIT_COULD_NOT_RUN
    summary = issued.summary
    print(f"certificate no. {issued.sequence} for {month} ({issued.language}): {summary['systems']} system(s), "
          f"{summary['runs']} test(s), {summary['passed']} passed, {summary['failed']} failed, "
          f"{summary['errors'] + summary['aborted']} could not run")
    for name in issued.names.all():
        print(f"  {issued.path(name)}")
    print(f"signed with key {issued.fingerprint}")
    return EXIT_OK
