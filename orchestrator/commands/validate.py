"""`restoreproof validate`: check every config file; list every error with file:line:col."""

from __future__ import annotations

import argparse

from orchestrator.commands import EXIT_OK, load

HELP = "check restoreproof.yml and jobs/*.yml; exit 2 listing every error"


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(arguments: argparse.Namespace) -> int:
    config = load(arguments)
    print(f"ok: {len(config.jobs)} job(s) valid in {config.directory}")
    return EXIT_OK
