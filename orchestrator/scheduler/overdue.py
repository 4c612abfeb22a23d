"""The dead-man's switch: a scheduled job whose last result is older than its expected period plus grace is
`overdue`. A result is a `passed` or `failed` run; an `error` or `aborted` run proved nothing, so it does
not count. Expectations count from the later of the last result and the time the daemon loaded the job's
current schedule; a job without a schedule, or one no daemon has loaded yet, is never overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orchestrator.config import Config
from orchestrator.db import Database
from orchestrator.db.scheduler_store import SchedulerStore
from orchestrator.scheduler.calendar import expected_by


@dataclass(frozen=True)
class Overdue:
    job: str
    last_result_at: datetime | None
    expected_by: datetime


def overdue_jobs(config: Config, database: Database, now: datetime) -> list[Overdue]:
    """Given the config, the run database and the current time, return every overdue job, by name."""
    store = SchedulerStore(database)
    last_results = store.last_result_times()
    scheduled_since = store.scheduled_since()
    overdue = []
    for name, job in sorted(config.jobs.items()):
        if job.schedule is None:
            continue
        last_result = last_results.get(name)
        # A schedule changed after the last result counts from the change, not from that result.
        references = [moment for moment in (last_result, scheduled_since.get(name)) if moment is not None]
        if not references:
            continue
        reference = max(references)
        deadline = expected_by(job.schedule, job.timeouts.run, reference)
        if now > deadline:
            overdue.append(Overdue(job=name, last_result_at=last_result, expected_by=deadline))
    return overdue
