"""`restoreproof alerts`, `alerts test`, `alerts send` and `alerts retry` through the real command line."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from orchestrator.alerts import enqueue_email
from tests.alerts.conftest import SMTP_PASSWORD
from tests.conftest import cli

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)


def queue(world, key: str = "one") -> None:  # type: ignore[no-untyped-def]
    enqueue_email(world.config(), world.database(), kind="failure", job="web", recipients=["ops@example.com"],
                  subject="restore test FAILED: web", body_text="text", body_html="<p>html</p>", dedup_key=key,
                  now=T0)


def test_alerts_test_succeeds_and_says_so(alert_world, smtp_server, smtp_password_file):
    world = alert_world(smtp_server.settings(smtp_password_file))
    result = cli(world.directory, "alerts", "test")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (f"ok: 127.0.0.1:{smtp_server.port} (starttls, logged in as alerts) accepted "
                                     "the test e-mail for ops@example.com")
    received = smtp_server.received[0]
    assert received.message["Subject"] == "[restoreproof] test e-mail from Example Org"
    assert SMTP_PASSWORD not in received.data.decode()
    assert cli(world.directory, "alerts", "--json").stdout.strip() == "[]"  # a test e-mail is not queued


def test_alerts_test_names_the_step_that_failed(alert_world, make_smtp_server, smtp_password_file, tmp_path):
    server = make_smtp_server(refuse={"nobody@example.com"})
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password\n")
    cases = {
        "auth": (server.settings(wrong), "alerts test FAILED at the auth step: authentication failed for user "
                                         f"'alerts' at 127.0.0.1:{server.port}: 535 5.7.8 Authentication credentials invalid"),
        "tls": (server.settings(smtp_password_file).replace(f"  ca_file: {server.certificate.cert}\n", ""),
                f"alerts test FAILED at the tls step: TLS failure with 127.0.0.1:{server.port}: the server's "
                "certificate was not accepted (self-signed certificate); set smtp.ca_file to the authority that "
                "signed it"),
        "connect": (server.settings(smtp_password_file).replace(f"port: {server.port}", "port: 9"),
                    "alerts test FAILED at the connect step: cannot connect to 127.0.0.1:9: connection refused"),
        "recipients": (server.settings(smtp_password_file, recipients=("nobody@example.com",)),
                       "alerts test FAILED at the recipients step: the server refused every recipient: "
                       "nobody@example.com (550 5.1.1 no such mailbox here)"),
    }
    for name, (settings, expected) in cases.items():
        world = alert_world(settings)
        result = cli(world.directory, "alerts", "test")
        # OpenSSL 1.1 spells it 'self signed', 3.x 'self-signed'.
        assert (result.returncode, result.stderr.strip().replace("self signed", "self-signed")) == (3, expected), name
        assert "Traceback" not in result.stderr
    partly = alert_world(server.settings(smtp_password_file))
    result = cli(partly.directory, "alerts", "test", "--to", "ops@example.com", "--to", "nobody@example.com")
    assert result.returncode == 3
    assert "accepted the test e-mail for ops@example.com" in result.stdout
    assert "refused recipient nobody@example.com: 550 5.1.1 no such mailbox here" in result.stderr
    assert "not-the-password" not in json.dumps([case[1] for case in cases.values()])


def test_alerts_test_without_settings_is_a_usage_error(alert_world):
    world = alert_world("")
    result = cli(world.directory, "alerts", "test")
    assert (result.returncode, result.stderr.strip()) == (
        2, "restoreproof: alerts test: restoreproof.yml has no smtp settings")
    assert "e-mail alerts are off" in cli(world.directory, "alerts").stdout


def test_wrong_password_shows_in_alerts_and_in_the_log_until_fixed(alert_world, smtp_server, tmp_path):
    password = tmp_path / "smtp.password"
    password.write_text("not-the-password\n")
    world = alert_world(smtp_server.settings(password))
    queue(world)
    sent = cli(world.directory, "alerts", "send")
    assert sent.returncode == 3
    assert "0 sent, 1 still pending, 0 failed for good" in sent.stdout
    log_line = f"authentication failed for user 'alerts' at 127.0.0.1:{smtp_server.port}: 535 5.7.8"
    assert "ERROR orchestrator.alerts.outbox: alert e-mail 1 (failure, job web) not sent (attempt 1): " in sent.stderr
    assert log_line in sent.stderr
    listing = cli(world.directory, "alerts")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert lines[1].split()[:5] == ["1", "failure", "web", "pending", "1"]
    assert lines[2].strip() == f"last error: {log_line} Authentication credentials invalid"
    [notice] = json.loads(cli(world.directory, "alerts", "--json").stdout)
    assert notice["status"] == "pending" and notice["last_error"].startswith("authentication failed")
    assert "not-the-password" not in sent.stdout + sent.stderr + listing.stdout
    password.write_text(SMTP_PASSWORD + "\n")
    fixed = cli(world.directory, "alerts", "send")
    assert fixed.returncode == 0 and "1 sent, 0 still pending" in fixed.stdout
    [notice] = json.loads(cli(world.directory, "alerts", "--json", "--status", "sent").stdout)
    assert notice["attempts"] == 2 and notice["message_id"] == smtp_server.received[0].message["Message-ID"]


def test_retry_queues_failed_notices_again(alert_world, make_smtp_server, smtp_password_file):
    server = make_smtp_server(refuse={"ops@example.com"})
    world = alert_world(server.settings(smtp_password_file))
    queue(world)
    assert cli(world.directory, "alerts", "send").returncode == 3
    assert json.loads(cli(world.directory, "alerts", "--json").stdout)[0]["status"] == "failed"
    server.refuse.clear()
    result = cli(world.directory, "alerts", "retry")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["1 failed e-mail(s) queued again", "1 sent, 0 still pending, 0 failed for good"]
    assert len(server.received) == 1
