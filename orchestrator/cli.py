"""The `restoreproof` command: parse arguments, then hand over to one module per subcommand.

Exit codes: 0 passed / ok, 1 a restore test failed, 2 config or usage error, 3 could not run.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType, ModuleType

from sqlalchemy.exc import SQLAlchemyError

from orchestrator import __version__
from orchestrator.commands import EXIT_COULD_NOT_RUN, EXIT_USAGE, UsageError
from orchestrator.commands import demo, history, run, snapshots, validate
from orchestrator.commands import alerts
from orchestrator.commands import certificate, keys, verify
from orchestrator.commands import reload, serve, status
from orchestrator.config import ConfigInvalid
from orchestrator.restic import ResticError
from orchestrator.runners import RunnerUnavailable

COMMANDS: dict[str, ModuleType] = {
    "validate": validate,
    "run": run,
    "history": history,
    "snapshots": snapshots,
    "demo": demo,
    "alerts": alerts,
    "certificate": certificate,
    "keys": keys,
    "verify": verify,
    "serve": serve,
    "reload": reload,
    "status": status,
}


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if arguments.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(COMMANDS[arguments.command].run(arguments))
    except ConfigInvalid as invalid:
        for error in invalid.errors:
            print(error, file=sys.stderr)
        return EXIT_USAGE
    except UsageError as error:
        print(f"restoreproof: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (RunnerUnavailable, ResticError) as error:
        print(f"restoreproof: {error}", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    except KeyboardInterrupt:
        print("restoreproof: interrupted", file=sys.stderr)
        return 130
    except SQLAlchemyError as error:
        logging.getLogger("restoreproof").debug("database error", exc_info=True)
        print(f"restoreproof: the database is not usable: {str(error).splitlines()[0]}", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    except Exception as error:  # noqa: BLE001 - a plain message, never a traceback (unless --verbose)
        logging.getLogger("restoreproof").debug("internal error", exc_info=True)
        print(f"restoreproof: internal error: {error} (run with --verbose for details)", file=sys.stderr)
        return EXIT_COULD_NOT_RUN


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="restoreproof", description="Prove that restic backups restore.")
    parser.add_argument("--config", help="config directory (default: $RESTOREPROOF_CONFIG or the current directory)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log debug details to stderr")
    parser.add_argument("--version", action="version", version=f"restoreproof {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        module.configure(subparsers.add_parser(name, help=module.HELP, description=module.HELP))
    return parser


def _terminate(signal_number: int, frame: FrameType | None) -> None:
    # SIGTERM takes the same path as Ctrl-C: the run is recorded `aborted` and its sandbox removed.
    raise KeyboardInterrupt(f"signal {signal_number}")
