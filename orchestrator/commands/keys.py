"""`restoreproof keys init|show`: the Ed25519 key that signs certificates."""

from __future__ import annotations

import argparse

from orchestrator.certificates.issue import signing_key_path
from orchestrator.certificates.keys import KeyProblem, create_key, load_signing_key, public_key_path
from orchestrator.commands import EXIT_OK, UsageError, load

HELP = "create (init) or show (show) the Ed25519 key that signs certificates"


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("init", help="create the signing key (private file mode 0600) and print its public key")
    actions.add_parser("show", help="print the public key and its fingerprint")


def run(arguments: argparse.Namespace) -> int:
    path = signing_key_path(load(arguments))
    try:
        key = create_key(path) if arguments.action == "init" else load_signing_key(path)
    except KeyProblem as problem:
        raise UsageError(str(problem)) from None
    if arguments.action == "init":
        print(f"created the signing key {path} (private: mode 0600, never printed; keep a backup in a safe place)")
    print(f"public key ({public_key_path(path)}):")
    print(key.public.pem, end="")
    print(f"fingerprint (SHA-256 of the DER public key): {key.public.fingerprint}")
    return EXIT_OK
