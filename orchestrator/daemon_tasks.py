"""Periodic work the daemon (`restoreproof serve`) does besides running jobs, listed explicitly.

Each task is a module-level function `task(config, database, now)`; the daemon schedules every entry
of `periodic_tasks()` at its interval, passes the current time (so tests control the clock), and
logs a task's failure without stopping the daemon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.alerts import deliver_task, overdue_task
from orchestrator.certificates.delivery import monthly_certificate_task
from orchestrator.config import Config
from orchestrator.db import Database

TaskFunction = Callable[[Config, Database, datetime], None]


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    interval: timedelta
    function: TaskFunction


def periodic_tasks() -> list[PeriodicTask]:
    """Return every periodic task, in the order they run when due together."""
    return [
        PeriodicTask("alerts-overdue", timedelta(minutes=5), overdue_task),
        PeriodicTask("certificates-monthly", timedelta(hours=1), monthly_certificate_task),
        PeriodicTask("alerts-outbox", timedelta(seconds=30), deliver_task),
    ]
