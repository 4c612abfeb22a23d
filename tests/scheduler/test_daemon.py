"""`restoreproof serve` end to end: the real daemon process, real restic repositories, real Docker, with
second-scale schedules. Calendar edge cases (misfire, overdue) are in test_calendar/test_scheduler_db."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import datetime
from pathlib import Path

import pytest

from orchestrator.db import Database, Run
from tests.conftest import cli, job_yaml, managed_leftovers
from tests.scheduler.conftest import processes_running, slow_restic

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("no_leftovers")]


def runs_of(config: Path) -> list[Run]:
    database = Database(f"sqlite:///{config.parent / 'state' / 'restoreproof.db'}")
    try:
        return list(reversed(database.history(limit=1000)))
    finally:
        database.engine.dispose()


def scheduled(repository, every: str, extra: str = "") -> str:  # type: ignore[no-untyped-def]
    return job_yaml(repository) + f"schedule:\n  every: {every}\n{extra}"


def failing(repository, every: str, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """A job whose run fails fast in restic (wrong password): real runs without a sandbox."""
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password\n")
    return scheduled(repository, every).replace(str(repository.password_file), str(wrong))


def overlapping(runs: list[Run]) -> int:
    """Return the largest number of runs in progress at one moment."""
    edges = sorted([(run.started_at, 1) for run in runs] + [(run.finished_at or datetime.max.replace(
        tzinfo=run.started_at.tzinfo), -1) for run in runs], key=lambda edge: (edge[0], edge[1]))
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def test_jobs_run_on_time_in_order_and_metrics_status_show_them(make_repository, config_dir, start_daemon):
    repository = make_repository()
    config = config_dir({"alpha": scheduled(repository, "3s"), "beta": scheduled(repository, "5s")},
                        "daemon:\n  concurrency: 2\n")
    daemon = start_daemon(config)

    finished = daemon.wait_for("run-finished", count=2, timeout=60)
    started = daemon.events("run-started")
    assert [event["job"] for event in started[:2]] == ["alpha", "beta"]
    assert all(event["delay_seconds"] < 2 for event in started), started
    assert {event["job"]: event["status"] for event in finished} == {"alpha": "passed", "beta": "passed"}

    status, health = daemon.get("/healthz")
    assert status == 200 and json.loads(health)["status"] == "ok"
    status, metrics = daemon.get("/metrics")
    assert status == 200
    for line in ('restoreproof_job_last_run_status{job="beta",status="passed"} 1.0',
                 'restoreproof_runs_total{job="beta",status="passed"}', "restoreproof_scheduler_up 1.0",
                 'restoreproof_job_last_success_timestamp_seconds{job="alpha"}',
                 'restoreproof_job_last_run_duration_seconds{job="alpha"}',
                 'restoreproof_job_newest_snapshot_age_seconds{job="alpha"}',
                 'restoreproof_job_overdue{job="alpha"} 0.0', "restoreproof_scheduler_start_delay_seconds_count"):
        assert line in metrics, line

    listed = json.loads(cli(config, "status", "--json").stdout)
    assert [entry["alive"] for entry in listed["daemons"]] == [True]
    jobs = {entry["job"]: entry for entry in listed["jobs"]}
    assert jobs["beta"]["last_result"]["status"] == "passed" and jobs["beta"]["next_run_at"]
    assert jobs["alpha"]["schedule"] == "every 3s"
    text = cli(config, "status").stdout
    assert "daemon: pid" in text and any(line.startswith("beta ") and "every 5s" in line for line in text.splitlines())
    assert daemon.stop(timeout=30) == 0
    assert daemon.events("daemon-stopped")


def test_slow_runs_never_overlap_per_job_and_the_limit_holds(make_repository, config_dir, start_daemon, tmp_path,
                                                             docker_client, installation):
    repository = make_repository()
    config = config_dir({name: scheduled(repository, "1s") for name in ("a", "b", "c")},
                        "daemon:\n  concurrency: 2\n")
    daemon = start_daemon(config, env=slow_restic(tmp_path, 2))

    daemon.wait_for("run-finished", count=3, timeout=90)
    assert daemon.stop(timeout=60) == 0

    runs = runs_of(config)
    assert overlapping(runs) <= 2
    for job in ("a", "b", "c"):
        assert overlapping([run for run in runs if run.job == job]) == 1
    assert {run.job for run in runs if run.status == "passed"} == {"a", "b", "c"}
    assert daemon.events("run-missed", reason="overlap")
    assert managed_leftovers(docker_client, installation) == []


def test_sigterm_during_a_restore_records_aborted_and_removes_the_sandbox(make_repository, config_dir, start_daemon,
                                                                          tmp_path, docker_client, installation):
    repository = make_repository()
    config = config_dir({"web": scheduled(repository, "1s")})
    environment = slow_restic(tmp_path, 60)
    daemon = start_daemon(config, env=environment)
    daemon.wait_for("run-phase", phase="restore", timeout=60)
    assert managed_leftovers(docker_client, installation) != []

    stopping = time.monotonic()
    daemon.signal(signal.SIGTERM)
    assert daemon.process.wait(timeout=30) == 0
    assert time.monotonic() - stopping < 15

    assert managed_leftovers(docker_client, installation) == []
    assert processes_running(environment["RESTOREPROOF_RESTIC"]) == []
    assert [(run.status, run.reason) for run in runs_of(config)] == [("aborted", "shutdown")]


def test_kill_9_then_restart_aborts_the_orphan_run_and_carries_on(make_repository, config_dir, start_daemon,
                                                                 tmp_path, docker_client, installation):
    repository = make_repository()
    config = config_dir({"web": scheduled(repository, "2s")})
    environment = slow_restic(tmp_path, 60)
    first = start_daemon(config, env=environment)
    first.wait_for("run-phase", phase="restore", timeout=60)
    first.process.kill()
    first.process.wait(timeout=30)
    for pid in processes_running(environment["RESTOREPROOF_RESTIC"]):  # the orphaned restic of that run
        os.kill(pid, signal.SIGKILL)
    assert managed_leftovers(docker_client, installation) != []

    second = start_daemon(config)
    assert [(run.status, run.reason) for run in runs_of(config)][:1] == [("aborted", "process-gone")]
    second.wait_for("run-finished", status="passed", timeout=60)
    assert second.stop(timeout=60) == 0

    assert runs_of(config)[1].status in ("passed", "aborted")
    assert managed_leftovers(docker_client, installation) == []


def test_a_restart_neither_repeats_nor_resets_the_schedule(make_repository, config_dir, start_daemon, tmp_path):
    repository = make_repository()
    config = config_dir({"web": failing(repository, "6s", tmp_path)})
    first = start_daemon(config)
    due = first.wait_for("run-started", timeout=30)[0]["due_at"]
    first.wait_for("run-finished", timeout=30)
    assert first.stop(timeout=30) == 0

    second = start_daemon(config)
    resumed = second.wait_for("run-started", timeout=30)[0]["due_at"]
    second.stop(timeout=30)

    gap = (datetime.fromisoformat(resumed) - datetime.fromisoformat(due)).total_seconds()
    assert gap == pytest.approx(6, abs=0.01), (due, resumed)
    assert len(runs_of(config)) == 2


def test_sighup_adds_and_removes_jobs_and_a_bad_config_keeps_the_old_schedule(make_repository, config_dir,
                                                                            start_daemon, tmp_path):
    repository = make_repository()
    config = config_dir({"old": failing(repository, "2s", tmp_path)})
    daemon = start_daemon(config)
    daemon.wait_for("run-finished", job="old", timeout=30)

    (config / "jobs" / "old.yml").rename(config / "jobs" / "new.yml")
    reloaded = cli(config, "reload")
    assert reloaded.returncode == 0, reloaded.stderr
    assert "reloaded" in reloaded.stdout and "added new; removed old" in reloaded.stdout
    olds_before = len(daemon.events("run-started", job="old"))
    daemon.wait_for("run-finished", job="new", timeout=30)

    (config / "jobs" / "broken.yml").write_text(scheduled(repository, "soon"))
    refused = cli(config, "reload")
    assert refused.returncode == 2
    assert "jobs/broken.yml:9:3: job 'broken': schedule.every: 'soon' is not a duration" in refused.stderr
    daemon.signal(signal.SIGHUP)
    errors = daemon.wait_for("config-error", timeout=30)
    assert errors[0]["message"].startswith("jobs/broken.yml:9:3: job 'broken': schedule.every:")
    daemon.wait_for("reload-refused", timeout=30)
    news = len(daemon.events("run-finished", job="new"))
    daemon.wait_for("run-finished", job="new", count=news + 1, timeout=30)
    assert daemon.stop(timeout=30) == 0
    assert len(daemon.events("run-started", job="old")) == olds_before


def test_a_run_past_its_timeout_is_killed_and_recorded_failed(make_repository, config_dir, tmp_path,
                                                              docker_client, installation):
    repository = make_repository()
    config = config_dir({"web": job_yaml(repository, extra="timeouts:\n  run: 5s\n")})
    started = time.monotonic()

    result = cli(config, "run", "web", "--json", env=slow_restic(tmp_path, 60), timeout=60)

    assert time.monotonic() - started < 25
    payload = json.loads(result.stdout)
    assert (result.returncode, payload["status"], payload["reason"]) == (1, "failed", "timeout")
    assert "timeouts.run (5s)" in payload["message"]
    assert managed_leftovers(docker_client, installation) == []
