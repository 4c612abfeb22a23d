"""`restoreproof status [--json]`: every job's schedule, next run, last run and result, streak, and whether
it is overdue; and the daemon serving the database."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING, TextIO

from orchestrator.commands import EXIT_OK, load, open_database
from orchestrator.report import when

if TYPE_CHECKING:
    from orchestrator.scheduler.status import DaemonStatus, JobStatus

HELP = "every job's schedule, next and last run, streak, overdue or not"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(arguments: argparse.Namespace) -> int:
    from orchestrator.probes.protection import three_two_one_view, write_protection
    from orchestrator.scheduler.status import daemon_statuses, job_statuses

    config = load(arguments)
    database = open_database(config)
    now = datetime.now(timezone.utc)
    jobs, daemons = job_statuses(config, database, now), daemon_statuses(database)
    protection = three_two_one_view(config, database)
    if arguments.json:
        print(json.dumps({"now": now.isoformat(), "daemons": [daemon.to_dict() for daemon in daemons],
                          "jobs": [job.to_dict() for job in jobs],
                          "protection": [view.to_dict() for view in protection]}, indent=2))
        return EXIT_OK
    _write_daemons(daemons, now, sys.stdout)
    _write_jobs(jobs, sys.stdout)
    write_protection(protection, sys.stdout)
    return EXIT_OK


def _write_daemons(daemons: list["DaemonStatus"], now: datetime, out: TextIO) -> None:
    serving = [daemon for daemon in daemons if daemon.alive is not False]
    if not serving:
        out.write("daemon: not running (start it with `restoreproof serve`)\n\n")
    for daemon in serving:
        beat = int((now - daemon.heartbeat_at).total_seconds())
        out.write(f"daemon: pid {daemon.pid} on {daemon.host}, since {when(daemon.started_at)} UTC, "
                  f"heartbeat {beat}s ago" + (f", metrics {daemon.metrics_address}" if daemon.metrics_address else "")
                  + "\n\n")


def _write_jobs(jobs: list["JobStatus"], out: TextIO) -> None:
    out.write(f"{'job':<20} {'schedule':<24} {'next run (UTC)':<17} {'last run (UTC)':<17} {'last':<8} "
              f"{'streak':<11} overdue\n")
    for job in jobs:
        last = job.last_run
        streak = f"{job.streak.count} {job.streak.status}" if job.streak else "-"
        overdue = f"YES (due by {when(job.expected_by)})" if job.overdue else ("no" if job.schedule else "-")
        out.write(f"{job.job[:20]:<20} {(job.schedule or 'on demand')[:24]:<24} {when(job.next_run_at):<17} "
                  f"{when(last.started_at if last else None):<17} {(last.status if last else '-'):<8} "
                  f"{streak:<11} {overdue}\n")
