"""The daemon's alert tasks: listed in periodic_tasks(), and doing their work when called with a time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


from orchestrator.alerts import deliver_task, enqueue_email, overdue_task
from orchestrator.daemon_tasks import periodic_tasks
from tests.alerts.conftest import record_run

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)


def test_both_alert_tasks_are_scheduled() -> None:
    tasks = {task.name: task for task in periodic_tasks()}
    assert tasks["alerts-outbox"].function is deliver_task and tasks["alerts-outbox"].interval <= timedelta(minutes=1)
    assert tasks["alerts-overdue"].function is overdue_task


def test_the_outbox_task_delivers(alert_world, smtp_server, smtp_password_file):
    world = alert_world(smtp_server.settings(smtp_password_file))
    config, database = world.config(), world.database()
    enqueue_email(config, database, kind="failure", job="web", recipients=["ops@example.com"], subject="s",
                  body_text="t", body_html="<p>h</p>", dedup_key="k", now=T0)
    deliver_task(config, database, T0)
    assert len(smtp_server.received) == 1


def test_the_overdue_task_tells_about_jobs_the_scheduler_finds_overdue_once(alert_world, smtp_server,
                                                                            smtp_password_file):
    world = alert_world(smtp_server.settings(smtp_password_file), web_extra="schedule:\n  every: 1h\n")
    config, database = world.config(), world.database()
    now = datetime.now(timezone.utc)
    record_run(database, "web", "passed", now - timedelta(days=2), (("tree", "passed", "ok"),))
    record_run(database, "db", "passed", now - timedelta(days=2), (("tree", "passed", "ok"),))
    for minutes in (0, 5, 10):
        overdue_task(config, database, now + timedelta(minutes=minutes))
        deliver_task(config, database, now + timedelta(minutes=minutes))
    assert [received.message["X-Restoreproof-Job"] for received in smtp_server.received] == ["web"]
    assert "no restore test result: web" in smtp_server.received[0].message["Subject"]
