"""The outbox against a real SMTP server: nothing lost while it is down, delivered exactly once when it is
back (also from a new Database object, as after a restart), back-off, give-up, concurrent senders."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

import pytest

from orchestrator.alerts import deliver_pending, enqueue_email
from orchestrator.alerts.outbox import deliver
from orchestrator.db.alerts_store import AlertStore
from tests.alerts.conftest import SMTP_PASSWORD

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)


def queue(config, database, key: str, **overrides) -> None:  # type: ignore[no-untyped-def]
    fields = {"kind": "failure", "job": "web", "recipients": ["ops@example.com"], "subject": f"subject {key}",
              "body_text": "text", "body_html": "<p>html</p>", "dedup_key": key, "now": T0}
    enqueue_email(config, database, **{**fields, **overrides})


def only_notice(database):  # type: ignore[no-untyped-def]
    notices = AlertStore(database).notices(["pending", "sent", "failed"], 10)
    assert len(notices) == 1
    return notices[0]


def test_server_down_then_back_delivers_exactly_once_even_after_a_restart(alert_world, smtp_server,
                                                                       smtp_password_file, database_setting):
    world = alert_world(database_setting + smtp_server.settings(smtp_password_file))
    config, database = world.config(), world.database()
    smtp_server.stop()
    queue(config, database, "one")
    queue(config, database, "one")  # the same dedup key is queued once
    deliver_pending(config, database, T0)
    notice = only_notice(database)
    assert (notice.status, notice.attempts) == ("pending", 1)
    assert "cannot connect to 127.0.0.1" in notice.last_error and "connection refused" in notice.last_error
    smtp_server.start()
    restarted = world.database()  # a new process would open the same database afresh
    deliver_pending(world.config(), restarted, T0 + timedelta(seconds=10))
    assert smtp_server.received == []  # still backing off
    deliver_pending(world.config(), restarted, T0 + timedelta(seconds=31))
    deliver_pending(world.config(), restarted, T0 + timedelta(minutes=5))
    deliver_pending(config, database, T0 + timedelta(hours=5))
    assert len(smtp_server.received) == 1
    sent = only_notice(restarted)
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert smtp_server.received[0].message["Message-ID"] == sent.message_id
    assert sent.message_id.endswith("@example.com>")


def test_back_off_doubles_up_to_the_cap_then_gives_up(alert_world, smtp_server, smtp_password_file, database_setting):
    extra = "  retry_first: 30s\n  retry_max: 2m\n  give_up_after: 10m\n"
    world = alert_world(database_setting + smtp_server.settings(smtp_password_file, extra=extra))
    config, database = world.config(), world.database()
    smtp_server.stop()
    queue(config, database, "one")
    now, waits = T0, []
    while only_notice(database).status == "pending":
        deliver_pending(config, database, now)
        notice = only_notice(database)
        if notice.status == "pending":
            waits.append((notice.next_attempt_at - now).total_seconds())
            deliver_pending(config, database, notice.next_attempt_at - timedelta(seconds=1))
            assert only_notice(database).attempts == notice.attempts  # not due yet: not tried
            now = notice.next_attempt_at
    assert waits == [30, 60, 120, 120, 120, 120, 120]
    failed = only_notice(database)
    assert failed.status == "failed" and failed.attempts == 8
    smtp_server.start()
    deliver_pending(config, database, now + timedelta(hours=1))
    assert smtp_server.received == []  # failed for good until someone retries it
    assert AlertStore(database).retry_failed(now) == 1
    deliver_pending(config, database, now + timedelta(hours=1))
    assert len(smtp_server.received) == 1


def test_wrong_password_is_a_clear_error_in_the_log_and_the_notice_stays_pending(
        alert_world, smtp_server, tmp_path, caplog):
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password\n")
    world = alert_world(smtp_server.settings(wrong))
    config, database = world.config(), world.database()
    queue(config, database, "one")
    with caplog.at_level(logging.ERROR):
        deliver_pending(config, database, T0)
    notice = only_notice(database)
    assert notice.status == "pending"
    assert notice.last_error.startswith(f"authentication failed for user 'alerts' at 127.0.0.1:{smtp_server.port}: 535")
    assert "authentication failed for user 'alerts'" in caplog.text
    assert "not-the-password" not in caplog.text
    wrong.write_text(SMTP_PASSWORD + "\n")
    deliver_pending(config, database, T0 + timedelta(minutes=1))
    assert only_notice(database).status == "sent" and len(smtp_server.received) == 1


def test_refused_recipients(alert_world, make_smtp_server, smtp_password_file, certificate):
    server = make_smtp_server(refuse={"nobody@example.com", "gone@example.com"})
    world = alert_world(server.settings(smtp_password_file))
    config, database = world.config(), world.database()
    queue(config, database, "some", recipients=["ops@example.com", "nobody@example.com"])
    queue(config, database, "none", recipients=["gone@example.com"])
    deliver_pending(config, database, T0)
    notices = {notice.dedup_key: notice for notice in AlertStore(database).notices(["sent", "failed"], 10)}
    assert notices["some"].status == "sent"
    assert notices["some"].last_error == "refused for nobody@example.com (550 5.1.1 no such mailbox here)"
    assert notices["none"].status == "failed"  # a permanent refusal is not retried forever
    assert "refused every recipient: gone@example.com (550" in notices["none"].last_error
    assert [received.recipients for received in server.received] == [["ops@example.com"]]


def test_two_senders_at_once_send_each_notice_once(alert_world, smtp_server, smtp_password_file, database_setting):
    world = alert_world(database_setting + smtp_server.settings(smtp_password_file))
    config, database = world.config(), world.database()
    for index in range(6):
        queue(config, database, f"n{index}")
    threads = [threading.Thread(target=deliver_pending, args=(world.config(), world.database(), T0))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(received.message["Subject"] for received in smtp_server.received) == [
        f"subject n{index}" for index in range(6)]


def test_attachments_are_kept_in_the_outbox_until_sent(alert_world, smtp_server, smtp_password_file, tmp_path,
                                                      database_setting):
    world = alert_world(database_setting + smtp_server.settings(smtp_password_file))
    config, database = world.config(), world.database()
    pdf = tmp_path / "certificate-2026-11.pdf"
    pdf.write_bytes(b"%PDF-1.7 fake certificate bytes")
    smtp_server.stop()
    queue(config, database, "certificate:2026-11", kind="certificate", job=None, attachments=[pdf])
    deliver_pending(config, database, T0)
    pdf.unlink()
    smtp_server.start()
    deliver_pending(world.config(), world.database(), T0 + timedelta(minutes=1))
    attachments = list(smtp_server.received[0].message.iter_attachments())
    assert [(part.get_filename(), part.get_content_type(), part.get_content()) for part in attachments] == [
        ("certificate-2026-11.pdf", "application/pdf", b"%PDF-1.7 fake certificate bytes")]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_and_password_from_the_environment(alert_world, make_smtp_server, monkeypatch):
    server = make_smtp_server(implicit_tls=True)
    monkeypatch.setenv("RESTOREPROOF_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    settings = server.settings(security="tls").replace(
        "  timeout: 5s\n", "  timeout: 5s\n  username: alerts\n  password_env: RESTOREPROOF_TEST_SMTP_PASSWORD\n")
    world = alert_world(settings)
    config, database = world.config(), world.database()
    queue(config, database, "one")
    assert deliver(config, database, T0).sent == 1
    assert server.logins == ["alerts"]


def test_without_smtp_settings_nothing_is_queued(alert_world):
    world = alert_world("")
    config, database = world.config(), world.database()
    queue(config, database, "one")
    assert AlertStore(database).notices(["pending", "sent", "failed"], 10) == []
