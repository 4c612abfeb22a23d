"""Database behaviour on SQLite and on a real PostgreSQL server: migrations, the run store, the scheduler's
tables, APScheduler's persisted job store, catch-up and overdue with an injected clock."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import inspect

from orchestrator.config import Config, load_config
from orchestrator.db import Database
from orchestrator.db.scheduler_store import SchedulerStore
from orchestrator.owner import current_owner
from orchestrator.scheduler.jobs import catch_up_jobs, sync_jobs
from orchestrator.scheduler.overdue import Overdue, overdue_jobs
from orchestrator.scheduler.status import job_statuses

UTC = timezone.utc
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def make_config(directory: Path, jobs: dict[str, str]) -> Config:
    (directory / "jobs").mkdir(parents=True, exist_ok=True)
    for path in (directory / "jobs").glob("*.yml"):
        path.unlink()
    for name, schedule in jobs.items():
        (directory / "jobs" / f"{name}.yml").write_text(
            "repository:\n  url: /srv/restic\n  password_file: /etc/pw\n" + textwrap.dedent(schedule))
    return load_config(directory)


def record_run(database: Database, job: str, status: str, started: datetime, seconds: float = 60) -> int:
    run_id = database.start_run(f"{job}-{started.timestamp()}-{status}", job, current_owner())
    database.update_run(run_id, started_at=started, snapshot_time=started - timedelta(hours=1),
                        snapshot_seen_at=started, newest_snapshot_age_seconds=1800.0,
                        versions={"restic": "0.14.0"}, snapshot_paths=["/srv"])
    database.finish_run(run_id, status, None, f"{status} run", total_seconds=seconds)
    database.update_run(run_id, finished_at=started + timedelta(seconds=seconds))
    return run_id


def paused_scheduler(database: Database) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(engine=database.engine)}, timezone=UTC)
    scheduler.start(paused=True)
    return scheduler


def test_migrations_create_every_table_and_run_twice(database: Database) -> None:
    database.migrate()

    tables = set(inspect(database.engine).get_table_names())
    assert {"runs", "check_results", "apscheduler_jobs", "scheduler_jobs", "scheduler_missed_runs",
            "scheduler_daemons", "alembic_version"} <= tables
    indexes = {index["name"] for index in inspect(database.engine).get_indexes("apscheduler_jobs")}
    assert "ix_apscheduler_jobs_next_run_time" in indexes


def test_runs_round_trip_with_aware_times_and_json(database: Database) -> None:
    run_id = record_run(database, "web", "passed", T0)
    database.add_check(run_id, 0, "tree", "passed", "ok", {"files": 3}, 0.5)
    database.start_run("still-running", "web", "otherhost:1:1")

    run = database.get_run(run_id)
    assert run.started_at == T0 and run.started_at.tzinfo is not None
    assert run.versions == {"restic": "0.14.0"} and run.snapshot_paths == ["/srv"]
    assert [(check.name, check.data) for check in run.checks] == [("tree", {"files": 3})]
    assert [entry.status for entry in database.history("web")] == ["running", "passed"]
    assert database.abort_abandoned(lambda owner: owner.startswith("otherhost")) != []


def test_store_summarises_every_job_at_once(database: Database) -> None:
    store = SchedulerStore(database)
    record_run(database, "web", "passed", T0)
    record_run(database, "web", "failed", T0 + timedelta(hours=1))
    record_run(database, "db", "error", T0)
    store.record_missed("web", "overlap", T0, T0, 1, T0)
    store.record_missed("web", "daemon-down", T0, T0 + timedelta(hours=2), 3, T0)

    assert store.run_counts() == {("web", "passed"): 1, ("web", "failed"): 1, ("db", "error"): 1}
    assert store.last_result_times() == {"web": T0 + timedelta(hours=1, minutes=1)}
    assert store.last_success_times() == {"web": T0 + timedelta(minutes=1)}
    assert store.newest_snapshot_times()["web"] == T0 + timedelta(minutes=30)  # seen by the newest run
    assert {job: run.status for job, run in store.latest_runs().items()} == {"web": "failed", "db": "error"}
    assert store.missed_counts() == {("web", "overlap"): 1, ("web", "daemon-down"): 3}
    assert store.recent_statuses("web") == ["failed", "passed"]


def test_overdue_counts_from_the_last_result_or_from_first_scheduling(database: Database, tmp_path: Path) -> None:
    config = make_config(tmp_path, {"daily": "schedule:\n  every: 1d\n  grace: 1h\n",
                                    "nightly": "schedule:\n  cron: '0 3 * * *'\n  grace: 30m\n",
                                    "manual": "", "unloaded": "schedule:\n  every: 1h\n"})
    store = SchedulerStore(database)
    for job in ("daily", "nightly", "manual"):
        store.remember_schedule(job, "fingerprint", T0)
    record_run(database, "daily", "passed", T0, seconds=60)
    record_run(database, "daily", "error", T0 + timedelta(days=1))  # an error proves nothing

    due_daily = T0 + timedelta(days=1, hours=1, minutes=1)
    due_nightly = datetime(2026, 11, 28, 3, 30, tzinfo=UTC)
    assert overdue_jobs(config, database, due_nightly) == []
    assert overdue_jobs(config, database, due_nightly + timedelta(seconds=1)) == [
        Overdue("nightly", None, due_nightly)]
    assert overdue_jobs(config, database, due_daily + timedelta(seconds=1)) == [
        Overdue("daily", T0 + timedelta(minutes=1), due_daily), Overdue("nightly", None, due_nightly)]

    record_run(database, "nightly", "failed", datetime(2026, 11, 28, 3, 0, tzinfo=UTC))  # a failure is a result
    assert [entry.job for entry in overdue_jobs(config, database, due_daily + timedelta(seconds=1))] == ["daily"]


def test_a_changed_schedule_counts_from_the_change(database: Database, tmp_path: Path) -> None:
    config = make_config(tmp_path, {"web": "schedule:\n  every: 1d\n  grace: 1h\n"})
    store = SchedulerStore(database)
    store.remember_schedule("web", "weekly", T0 - timedelta(days=6))
    record_run(database, "web", "passed", T0 - timedelta(days=5))
    store.remember_schedule("web", "daily", T0)

    assert overdue_jobs(config, database, T0 + timedelta(hours=12)) == []
    assert [entry.job for entry in overdue_jobs(config, database, T0 + timedelta(days=1, hours=2))] == ["web"]


def test_a_restart_keeps_each_stored_next_run_and_applies_changes(database: Database, tmp_path: Path) -> None:
    store = SchedulerStore(database)
    config = make_config(tmp_path, {"web": "schedule:\n  every: 1h\n", "db": "schedule:\n  cron: '0 3 * * *'\n"})
    first = paused_scheduler(database)
    assert sync_jobs(first, store, config, T0).added == ["db", "web"]
    stored = store.next_run_times()
    first.shutdown(wait=False)

    second = paused_scheduler(database)
    unchanged = sync_jobs(second, store, config, T0 + timedelta(minutes=5))
    assert (unchanged.added, unchanged.removed, unchanged.rescheduled) == ([], [], [])
    assert store.next_run_times() == stored

    changed = make_config(tmp_path, {"web": "schedule:\n  every: 2h\n", "mail": "schedule:\n  every: 1d\n"})
    result = sync_jobs(second, store, changed, T0 + timedelta(minutes=6))
    second.shutdown(wait=False)
    assert (result.added, result.removed, result.rescheduled) == (["mail"], ["db"], ["web"])
    assert set(store.next_run_times()) == {"mail", "web"}
    assert store.next_run_times()["web"] != stored["web"]
    assert set(store.fingerprints()) == {"mail", "web"}


def test_catch_up_after_downtime_runs_once_within_grace_else_records_missed(database: Database,
                                                                           tmp_path: Path) -> None:
    store = SchedulerStore(database)
    config = make_config(tmp_path, {"soon": "schedule:\n  every: 1h\n  misfire_grace: 30m\n",
                                    "late": "schedule:\n  every: 1h\n  misfire_grace: 5m\n"})
    scheduler = paused_scheduler(database)
    sync_jobs(scheduler, store, config, T0)
    due = store.next_run_times()
    now = due["soon"] + timedelta(hours=2, minutes=10)  # the injected clock: the daemon was down ~2h

    catch_up_jobs(scheduler, store, config, now)
    scheduler.shutdown(wait=False)

    after = store.next_run_times()
    assert after["soon"] == due["soon"] + timedelta(hours=2)  # the newest due time, kept so it runs once
    assert after["late"] > now  # nothing runs: the newest due time is beyond the grace
    assert store.missed_counts() == {("soon", "daemon-down"): 2, ("late", "daemon-down"): 3}


def test_status_shows_schedule_next_run_streak_and_overdue(database: Database, tmp_path: Path) -> None:
    store = SchedulerStore(database)
    config = make_config(tmp_path, {"web": "schedule:\n  every: 1d\n  grace: 1h\n", "manual": ""})
    scheduler = paused_scheduler(database)
    sync_jobs(scheduler, store, config, T0)
    scheduler.shutdown(wait=False)
    record_run(database, "web", "failed", T0)
    record_run(database, "web", "passed", T0 + timedelta(hours=1))
    record_run(database, "web", "passed", T0 + timedelta(hours=2))

    statuses = {status.job: status for status in job_statuses(config, database, T0 + timedelta(days=2))}

    web = statuses["web"].to_dict()
    assert web["schedule"] == "every 1d" and web["next_run_at"] is not None
    assert web["streak"] == {"status": "passed", "count": 2}
    assert web["last_result"]["status"] == "passed" and web["overdue"] is True
    assert statuses["manual"].to_dict()["schedule"] is None and statuses["manual"].overdue is False
