"""What `restoreproof status` shows: per job its schedule, next and last run, result streak and whether it
is overdue; and which daemons serve the database."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestrator.config import Config
from orchestrator.db import Database, Run
from orchestrator.db.scheduler_store import RESULT_STATUSES, SchedulerStore
from orchestrator.owner import is_abandoned
from orchestrator.scheduler.overdue import overdue_jobs
from orchestrator.report import iso


@dataclass(frozen=True)
class Streak:
    status: str
    count: int


@dataclass(frozen=True)
class JobStatus:
    job: str
    schedule: str | None
    next_run_at: datetime | None
    last_run: Run | None
    last_result: Run | None
    streak: Streak | None
    overdue: bool
    expected_by: datetime | None
    missed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "schedule": self.schedule,
            "next_run_at": iso(self.next_run_at),
            "last_run": _run_summary(self.last_run),
            "last_result": _run_summary(self.last_result),
            "streak": {"status": self.streak.status, "count": self.streak.count} if self.streak else None,
            "overdue": self.overdue,
            "expected_by": iso(self.expected_by),
            "missed": self.missed,
        }


@dataclass(frozen=True)
class DaemonStatus:
    owner: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    alive: bool | None
    metrics_address: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "started_at": iso(self.started_at),
                "heartbeat_at": iso(self.heartbeat_at), "alive": self.alive, "metrics": self.metrics_address}


def job_statuses(config: Config, database: Database, now: datetime) -> list[JobStatus]:
    """Given the config, the database and the current time, return every job's status, by name."""
    store = SchedulerStore(database)
    next_runs, latest = store.next_run_times(), store.latest_runs()
    overdue = {entry.job: entry for entry in overdue_jobs(config, database, now)}
    missed = store.missed_counts()
    statuses = []
    for name, job in sorted(config.jobs.items()):
        recent = store.recent_statuses(name)
        statuses.append(JobStatus(
            job=name,
            schedule=job.schedule.describe() if job.schedule else None,
            next_run_at=next_runs.get(name) if job.schedule else None,
            last_run=latest.get(name),
            last_result=_last_result(database, name) if recent else None,
            streak=streak(recent),
            overdue=name in overdue,
            expected_by=overdue[name].expected_by if name in overdue else None,
            missed=sum(count for (missed_job, _), count in missed.items() if missed_job == name),
        ))
    return statuses


def streak(statuses: list[str]) -> Streak | None:
    """Given finished runs' statuses, newest first, return how many of the newest share the same status."""
    if not statuses:
        return None
    count = 1
    while count < len(statuses) and statuses[count] == statuses[0]:
        count += 1
    return Streak(statuses[0], count)


def daemon_statuses(database: Database) -> list[DaemonStatus]:
    """Return the daemons that have not recorded a stop; `alive` is known only for this host's."""
    here = socket.gethostname()
    return [DaemonStatus(record.owner, record.host, record.pid, record.started_at, record.heartbeat_at,
                         (not is_abandoned(record.owner)) if record.host == here else None, record.metrics_address)
            for record in SchedulerStore(database).serving_daemons()]


def _last_result(database: Database, job: str) -> Run | None:
    results = [database.last_run_with_status(job, status) for status in RESULT_STATUSES]
    found = [run for run in results if run is not None]
    return max(found, key=lambda run: run.id) if found else None


def _run_summary(run: Run | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {"run_id": run.id, "status": run.status, "reason": run.reason, "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at), "message": run.message}
