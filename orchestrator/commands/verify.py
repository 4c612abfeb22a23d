"""`restoreproof verify PATH`: check certificates' signatures, files, chain and the run records they list."""

from __future__ import annotations

import argparse
from pathlib import Path

from orchestrator.certificates.issue import signing_key_path
from orchestrator.certificates.keys import KeyProblem, PublicKey, load_public_key, public_key_path
from orchestrator.certificates.verify import NothingToVerify, verify
from orchestrator.commands import EXIT_FAILED, EXIT_OK, UsageError, load, open_database
from orchestrator.config import SETTINGS_FILE, Config, config_dir_from
from orchestrator.db.certificates_store import CertificateStore

HELP = "verify certificates (a folder, an envelope or a certificate file): exit 0 if valid, 1 naming what is wrong"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="a certificate folder, a .dsse.json envelope, or a certificate file")
    parser.add_argument("--public-key", type=Path, help="the pinned public key (PEM); default: the configured key's")
    parser.add_argument("--no-database", action="store_true",
                        help="do not compare with the run database even when a configuration is found")


def run(arguments: argparse.Namespace) -> int:
    config = _config(arguments)
    key = _public_key(arguments.public_key, config)
    store = CertificateStore(open_database(config)) if config is not None and not arguments.no_database else None
    try:
        report = verify(arguments.path, key, store)
    except NothingToVerify as nothing:
        raise UsageError(str(nothing)) from None
    for line in report.checked:
        print(f"ok: {line}")
    for note in report.notes:
        print(f"note: {note}")
    for problem in report.problems:
        print(f"INVALID: {problem}")
    print("valid" if report.valid else f"not valid: {len(report.problems)} problem(s)")
    return EXIT_OK if report.valid else EXIT_FAILED


def _config(arguments: argparse.Namespace) -> Config | None:
    """The configuration, only when one exists: an auditor checking files alone has none."""
    if not (config_dir_from(arguments.config) / SETTINGS_FILE).is_file():
        return None
    return load(arguments)


def _public_key(path: Path | None, config: Config | None) -> PublicKey:
    if path is None:
        if config is None:
            raise UsageError("give the pinned public key with --public-key FILE (or run where restoreproof.yml is)")
        path = public_key_path(signing_key_path(config))
    try:
        return load_public_key(path)
    except KeyProblem as problem:
        raise UsageError(str(problem)) from None
