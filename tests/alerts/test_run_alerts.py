"""End to end: the real `restoreproof run` (real restic repository, real Docker sandbox) mails a real SMTP
server with STARTTLS and AUTH."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from orchestrator.alerts import deliver_pending
from orchestrator.db.store import utcnow
from tests.alerts.conftest import SMTP_PASSWORD
from tests.conftest import cli, job_yaml

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("no_leftovers")]

CANARY = "canary-content-7f3a9c"
PASSING = (f"    - type: expect\n      paths:\n        - path: www/index.html\n"
           "    - type: canary\n      path: {source}/canary.txt\n      content: \"" + CANARY + "\\n\"\n")
FAILING = PASSING.replace("        - path: www/index.html\n",
                          "        - path: www/index.html\n        - path: db/dump.sql\n")


def test_failure_is_mailed_once_then_recovery_without_any_secret(make_repository, alert_world, smtp_server,
                                                                 smtp_password_file):
    repository = make_repository()
    world = alert_world(smtp_server.settings(smtp_password_file))
    job_file = world.directory / "jobs" / "web.yml"
    job_file.write_text(job_yaml(repository, FAILING.format(source=repository.source)))
    for _ in range(2):
        result = cli(world.directory, "run", "web")
        assert result.returncode == 1, result.stderr
    assert len(smtp_server.received) == 1, "a second failure in a row must not send a second e-mail"
    failure = smtp_server.received[0]
    subject = failure.message["Subject"]
    assert subject.startswith("[restoreproof] restore test FAILED: web: expect: missing: db/dump.sql"), subject
    text = failure.text()
    assert "The restore test of job web FAILED" in text
    assert "[failed] expect: missing: db/dump.sql" in text and "[passed] canary" in text
    assert "Snapshot:   " in text and repository.restic("snapshots", "--json").stdout.split('"id":"')[1][:64] in text
    assert "Last pass:  none recorded" in text
    assert failure.recipients == ["ops@example.com"] and smtp_server.logins == ["alerts"]

    job_file.write_text(job_yaml(repository, PASSING.format(source=repository.source)))
    result = cli(world.directory, "run", "web")
    assert result.returncode == 0, result.stderr
    assert len(smtp_server.received) == 2
    recovery = smtp_server.received[1]
    assert recovery.message["Subject"].startswith("[restoreproof] restore test passes again: web (was failing for ")
    assert "2 bad results in a row" in recovery.text()

    for received in smtp_server.received:
        everything = received.data.decode() + received.text() + received.html()
        for secret in (repository.password, SMTP_PASSWORD, CANARY):
            assert secret not in everything
    notices = json.loads(cli(world.directory, "alerts", "--json").stdout)
    assert [(notice["kind"], notice["status"]) for notice in notices] == [("recovery", "sent"), ("failure", "sent")]


def test_mail_server_down_during_a_failure_then_back_gets_exactly_one_mail(make_repository, alert_world,
                                                                           smtp_server, smtp_password_file):
    repository = make_repository()
    world = alert_world(smtp_server.settings(smtp_password_file))
    (world.directory / "jobs" / "web.yml").write_text(job_yaml(repository, FAILING.format(source=repository.source)))
    smtp_server.stop()
    result = cli(world.directory, "run", "web")
    assert result.returncode == 1
    assert "alert e-mail 1 (failure, job web) not sent (attempt 1): cannot connect to 127.0.0.1" in result.stderr
    [pending] = json.loads(cli(world.directory, "alerts", "--json").stdout)
    assert pending["status"] == "pending" and "connection refused" in pending["last_error"]

    smtp_server.start()
    # A new process (as after a daemon restart) delivers it; later passes, here or there, send nothing more.
    sent = cli(world.directory, "alerts", "send")
    assert sent.returncode == 0 and sent.stdout.startswith("1 sent"), sent.stdout + sent.stderr
    deliver_pending(world.config(), world.database(), utcnow() + timedelta(hours=1))
    assert cli(world.directory, "alerts", "send").stdout.startswith("0 sent")
    assert len(smtp_server.received) == 1
    assert "expect: missing: db/dump.sql" in smtp_server.received[0].message["Subject"]
    [notice] = json.loads(cli(world.directory, "alerts", "--json").stdout)
    assert notice["status"] == "sent" and notice["message_id"] == smtp_server.received[0].message["Message-ID"]
