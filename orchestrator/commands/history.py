"""`restoreproof history [JOB]`: past runs, newest first."""

from __future__ import annotations

import argparse
import json
import sys

from orchestrator.commands import EXIT_OK, job_named, load, open_database
from orchestrator.report import run_to_dict, write_history

HELP = "past runs, newest first"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", nargs="?", help="only this job")
    parser.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(arguments: argparse.Namespace) -> int:
    config = load(arguments)
    if arguments.job:
        job_named(config, arguments.job)
    runs = open_database(config).history(arguments.job, arguments.limit)
    if arguments.json:
        print(json.dumps([run_to_dict(run) for run in runs], indent=2))
    else:
        write_history(runs, sys.stdout)
    return EXIT_OK
