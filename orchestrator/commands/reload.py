"""`restoreproof reload`: make the daemon serving this config re-read it (as SIGHUP does) and print whether
it took the new config or refused it (then the previous schedule keeps running)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from orchestrator.commands import EXIT_COULD_NOT_RUN, EXIT_OK, EXIT_USAGE, load, open_database
from orchestrator.db.scheduler_store import SchedulerStore

HELP = "make the running daemon re-read its config"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for the daemon's answer")


def run(arguments: argparse.Namespace) -> int:
    from orchestrator.scheduler.status import daemon_statuses

    config = load(arguments)  # an invalid config stops here, with every error located, before any signal
    database = open_database(config)
    daemons = [daemon for daemon in daemon_statuses(database) if daemon.alive]
    if not daemons:
        print(f"restoreproof: no daemon serves the database of {config.directory} on this host "
              "(start one with `restoreproof serve`)", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    store = SchedulerStore(database)
    code = EXIT_OK
    for daemon in daemons:
        record = store.daemon(daemon.owner)
        before = record.reloads if record else 0
        os.kill(daemon.pid, signal.SIGHUP)
        code = max(code, _await_answer(store, daemon.owner, daemon.pid, before, arguments.timeout))
    return code


def _await_answer(store: SchedulerStore, owner: str, pid: int, before: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = store.daemon(owner)
        if record is not None and record.reloads > before:
            verdict = "reloaded" if record.reload_ok else "refused"
            print(f"daemon {pid}: {verdict}: {record.reload_message}")
            return EXIT_OK if record.reload_ok else EXIT_USAGE
        time.sleep(0.2)
    print(f"restoreproof: daemon {pid} did not answer within {timeout:g}s", file=sys.stderr)
    return EXIT_COULD_NOT_RUN
