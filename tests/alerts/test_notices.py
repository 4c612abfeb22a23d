"""Which notices runs and missed deadlines produce, delivered through a real SMTP server (aiosmtpd with
STARTTLS and AUTH). Times are passed explicitly: nothing sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from orchestrator.alerts import alert_after_run, deliver_pending, notify_overdue
from orchestrator.alerts.notices import close_overdue, process_run
from tests.alerts.conftest import SMTP_PASSWORD, record_run

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
EXPECT_FAILED = (("tree", "passed", "12 entries"), ("expect", "failed", "missing: db/dump.sql"))


def fail(config, database, at, job="web", checks=EXPECT_FAILED):  # type: ignore[no-untyped-def]
    run = record_run(database, job, "failed", at, checks, reason="check-failed",
                     message="checks not passed: expect (failed)", snapshot_id="ab" * 32, snapshot_time=at,
                     snapshot_host="web01", snapshot_paths=["/srv/www"])
    process_run(config, database, run, at)
    return run


def subjects(server) -> list[str]:  # type: ignore[no-untyped-def]
    return [received.message["Subject"] for received in server.received]


def test_repeated_failures_send_one_notice_then_one_reminder_per_period_then_recovery(
        alert_world, smtp_server, smtp_password_file):
    world = alert_world(smtp_server.settings(smtp_password_file, extra="  reminder_every: 1d\n"))
    config, database = world.config(), world.database()
    for hours in (0, 1, 2, 3, 23):
        fail(config, database, T0 + timedelta(hours=hours))
        deliver_pending(config, database, T0 + timedelta(hours=hours))
    assert len(smtp_server.received) == 1
    first = smtp_server.received[0]
    assert first.message["Subject"].startswith("[restoreproof] restore test FAILED: web: expect: missing: db/dump.sql")
    assert "Reminder" not in first.text()
    fail(config, database, T0 + timedelta(hours=24, minutes=1))
    deliver_pending(config, database, T0 + timedelta(hours=24, minutes=1))
    assert len(smtp_server.received) == 2
    reminder = smtp_server.received[1]
    assert reminder.message["Subject"].startswith("[restoreproof] Reminder: restore test FAILED: web")
    assert "(6 bad results in a row)" in reminder.message["Subject"]
    assert "still failing (6 bad results in a row since 2026-11-27 03:00 UTC)" in reminder.text()
    fail(config, database, T0 + timedelta(hours=25))
    passed = record_run(database, "web", "passed", T0 + timedelta(hours=25, minutes=5), (("tree", "passed", "ok"),))
    process_run(config, database, passed, T0 + timedelta(hours=25, minutes=5))
    deliver_pending(config, database, T0 + timedelta(hours=25, minutes=5))
    assert len(smtp_server.received) == 3
    recovery = smtp_server.received[2]
    assert recovery.message["Subject"] == "[restoreproof] restore test passes again: web (was failing for 25 h 05 min)"
    assert "7 bad results in a row" in recovery.text()
    assert smtp_server.logins == ["alerts"] * 3


def test_a_pass_without_earlier_failures_sends_nothing_and_other_jobs_are_separate(
        alert_world, smtp_server, smtp_password_file):
    world = alert_world(smtp_server.settings(smtp_password_file))
    config, database = world.config(), world.database()
    passed = record_run(database, "web", "passed", T0, (("tree", "passed", "ok"),))
    process_run(config, database, passed, T0)
    fail(config, database, T0, job="web")
    fail(config, database, T0, job="db")
    deliver_pending(config, database, T0)
    assert sorted(received.message["X-Restoreproof-Job"] for received in smtp_server.received) == ["db", "web"]


def test_error_is_distinct_and_a_failure_after_errors_is_told_at_once(alert_world, smtp_server, smtp_password_file):
    world = alert_world(smtp_server.settings(smtp_password_file))
    config, database = world.config(), world.database()
    for minutes in (0, 10):
        run = record_run(database, "web", "error", T0 + timedelta(minutes=minutes), reason="runner-unavailable",
                         message="Docker engine unreachable: connection refused")
        process_run(config, database, run, T0 + timedelta(minutes=minutes))
    fail(config, database, T0 + timedelta(minutes=20))
    fail(config, database, T0 + timedelta(minutes=30))
    deliver_pending(config, database, T0 + timedelta(minutes=30))
    assert subjects(smtp_server) == [
        "[restoreproof] restore test could not run: web: Docker engine unreachable: connection refused",
        "[restoreproof] restore test FAILED: web: expect: missing: db/dump.sql (3 bad results in a row)",
    ]
    assert "This is not a failed restore" in smtp_server.received[0].text()


def test_the_same_run_never_produces_two_notices(alert_world, smtp_server, smtp_password_file):
    world = alert_world(smtp_server.settings(smtp_password_file))
    config, database = world.config(), world.database()
    run = fail(config, database, T0)
    alert_after_run(config, database, run)
    alert_after_run(config, database, run)
    assert len(smtp_server.received) == 1


def test_stale_backup_notice_when_the_snapshot_is_older_than_the_rpo(alert_world, smtp_server, smtp_password_file):
    world = alert_world(smtp_server.settings(smtp_password_file))
    config, database = world.config(), world.database()
    for hours, age in ((0, 30 * 3600), (1, 31 * 3600)):
        run = record_run(database, "web", "passed", T0 + timedelta(hours=hours), (("tree", "passed", "ok"),),
                         rpo_seconds=86400.0, snapshot_age_seconds=float(age), snapshot_id="cd" * 32,
                         snapshot_time=T0 - timedelta(hours=30), snapshot_host="web01")
        process_run(config, database, run, T0 + timedelta(hours=hours))
    fresh = record_run(database, "web", "passed", T0 + timedelta(hours=2), (("tree", "passed", "ok"),),
                       rpo_seconds=86400.0, snapshot_age_seconds=60.0)
    process_run(config, database, fresh, T0 + timedelta(hours=2))
    stale_again = record_run(database, "web", "passed", T0 + timedelta(hours=3), (("tree", "passed", "ok"),),
                             rpo_seconds=86400.0, snapshot_age_seconds=90000.0)
    process_run(config, database, stale_again, T0 + timedelta(hours=3))
    deliver_pending(config, database, T0 + timedelta(hours=3))
    assert subjects(smtp_server) == [
        "[restoreproof] stale backup: web: newest snapshot is 30 h 00 min old (RPO 24 h 00 min)",
        "[restoreproof] stale backup: web: newest snapshot is 25 h 00 min old (RPO 24 h 00 min)",
    ]
    assert "cdcdcdcd" in smtp_server.received[0].text()


def test_overdue_once_per_missed_deadline_then_reminders_and_closed_by_a_result(
        alert_world, smtp_server, smtp_password_file):
    world = alert_world(smtp_server.settings(smtp_password_file, extra="  reminder_every: 12h\n"))
    config, database = world.config(), world.database()
    expected_by = T0
    for minutes in (5, 10, 15, 60):
        notify_overdue(config, database, "web", T0 - timedelta(days=1), expected_by, T0 + timedelta(minutes=minutes))
    deliver_pending(config, database, T0 + timedelta(hours=1))
    assert subjects(smtp_server) == ["[restoreproof] no restore test result: web: expected by 2026-11-27 03:00 UTC"]
    assert "Last result:  2026-11-26 03:00 UTC" in smtp_server.received[0].text()
    notify_overdue(config, database, "web", None, expected_by, T0 + timedelta(hours=12, minutes=6))
    deliver_pending(config, database, T0 + timedelta(hours=13))
    assert subjects(smtp_server)[1].startswith("[restoreproof] Reminder: no restore test result: web")
    passed = record_run(database, "web", "passed", T0 + timedelta(hours=14), (("tree", "passed", "ok"),))
    process_run(config, database, passed, T0 + timedelta(hours=14))
    notify_overdue(config, database, "web", T0 + timedelta(hours=14), T0 + timedelta(days=2), T0 + timedelta(days=2))
    notify_overdue(config, database, "db", None, T0, T0 + timedelta(days=2))
    close_overdue(database, {"web"})
    notify_overdue(config, database, "db", None, T0, T0 + timedelta(days=2, minutes=5))
    deliver_pending(config, database, T0 + timedelta(days=2, minutes=5))
    assert [s.split(": ")[1] for s in subjects(smtp_server)[2:]] == ["web", "db", "db"]


def test_per_job_recipients_language_and_muting(alert_world, smtp_server, smtp_password_file):
    world = alert_world(smtp_server.settings(smtp_password_file, extra="  language: fr\n"),
                        web_extra="alerts:\n  recipients: [web-team@example.com]\n  include_global_recipients: false\n",
                        db_extra="alerts:\n  enabled: false\n")
    config, database = world.config(), world.database()
    fail(config, database, T0, job="web")
    fail(config, database, T0, job="db")
    deliver_pending(config, database, T0)
    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    assert received.recipients == ["web-team@example.com"]
    assert received.message["Subject"].startswith("[restoreproof] test de restauration ÉCHOUÉ : web : expect")
    assert "Ce qui a échoué : expect: missing: db/dump.sql" in received.text()
    assert 'lang="fr"' in received.html()


def test_secrets_are_masked_in_every_part(alert_world, smtp_server, smtp_password_file):
    world = alert_world(smtp_server.settings(smtp_password_file))
    config, database = world.config(), world.database()
    leaky = (("expect", "failed", "missing: repository-secret-51c2 and " + SMTP_PASSWORD),)
    run = record_run(database, "web", "failed", T0, leaky, message="pw repository-secret-51c2",
                     log_tail="line 1\nconnecting with " + SMTP_PASSWORD + "\n")
    process_run(config, database, run, T0)
    deliver_pending(config, database, T0)
    raw = smtp_server.received[0].data.decode()
    body = smtp_server.received[0].text() + smtp_server.received[0].html()
    for secret in ("repository-secret-51c2", SMTP_PASSWORD):
        assert secret not in raw and secret not in body
    assert "[redacted]" in body


def test_a_run_that_could_not_run_does_not_end_an_overdue_problem(alert_world, smtp_server, smtp_password_file):
    world = alert_world(smtp_server.settings(smtp_password_file))
    config, database = world.config(), world.database()
    notify_overdue(config, database, "web", None, T0, T0 + timedelta(minutes=5))
    errored = record_run(database, "web", "error", T0 + timedelta(minutes=7), reason="runner-unavailable",
                         message="Docker engine unreachable")
    process_run(config, database, errored, T0 + timedelta(minutes=7))
    notify_overdue(config, database, "web", None, T0, T0 + timedelta(minutes=10))
    deliver_pending(config, database, T0 + timedelta(minutes=10))
    assert [subject.split(":")[0] for subject in subjects(smtp_server)] == [
        "[restoreproof] no restore test result", "[restoreproof] restore test could not run"]
