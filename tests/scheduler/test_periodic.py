"""The daemon runs every entry of periodic_tasks() with the current UTC time; a failing task is logged and
the daemon carries on."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from orchestrator.config import Config, load_config
from orchestrator.daemon_tasks import PeriodicTask, periodic_tasks
from orchestrator.db import Database
from orchestrator.scheduler.daemon import Daemon


@pytest.fixture
def daemon(tmp_path: Path) -> Daemon:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "restoreproof.yml").write_text(f"state_dir: {tmp_path / 'state'}\n")
    return Daemon(load_config(tmp_path))


def test_every_periodic_task_is_scheduled_besides_the_heartbeat(daemon: Daemon) -> None:
    daemon._add_tasks()

    ids = {job.id for job in daemon.scheduler.get_jobs(jobstore="tasks")}
    assert ids == {"task:heartbeat"} | {f"task:{task.name}" for task in periodic_tasks()}


def test_a_task_gets_config_database_and_utc_now_and_its_failure_is_only_logged(
        daemon: Daemon, caplog: pytest.LogCaptureFixture) -> None:
    calls: list[tuple[Config, Database, datetime]] = []

    def record(config: Config, database: Database, now: datetime) -> None:
        calls.append((config, database, now))

    def fail(config: Config, database: Database, now: datetime) -> None:
        raise RuntimeError("mail server unreachable")

    with caplog.at_level(logging.INFO):
        daemon._run_task(PeriodicTask("boom", timedelta(seconds=1), fail))
        daemon._run_task(PeriodicTask("record", timedelta(seconds=1), record))

    assert len(calls) == 1 and calls[0][0] is daemon.config and calls[0][1] is daemon.database
    assert calls[0][2].tzinfo == timezone.utc
    failures = [entry for entry in caplog.records if getattr(entry, "event", None) == "task-failed"]
    assert [entry.getMessage() for entry in failures] == ["mail server unreachable"]
