"""The daemon's monthly task: after the month (plus deliver_after), issue its certificate once and mail it
through the alerts outbox to a real SMTP server, the PDF attached with the files needed to verify it."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.certificates.conftest import main, open_database, settings_yaml
from tests.certificates.month_runs import daily_runs, record

pytestmark = pytest.mark.e2e

OCTOBER = [datetime(2026, 10, day, tzinfo=timezone.utc) for day in range(1, 32, 3)]


def test_first_day_of_the_month_issues_and_mails_last_months_certificate(
        tmp_path: Path, smtp_server: Any, smtp_password_file: Path) -> None:
    from orchestrator.alerts import deliver_pending
    from orchestrator.certificates.delivery import monthly_certificate_task
    from orchestrator.config import load_config
    from orchestrator.db.certificates_store import CertificateStore

    config_dir, state = tmp_path / "config", tmp_path / "state"
    (config_dir / "jobs").mkdir(parents=True)
    (config_dir / "restoreproof.yml").write_text(
        settings_yaml(state, "  recipients: [\"Courtier <broker@example.com>\"]\n")
        + smtp_server.settings(password_file=smtp_password_file))
    (config_dir / "jobs" / "db.yml").write_text("repository:\n  url: /srv/restic/db\n  password_file: /etc/pw\n"
                                                "rto: 30m\ncontrols: [ANSSI-37]\n")
    assert main(config_dir, "keys", "init")[0] == 0
    database = open_database(state)
    for spec in daily_runs("db", OCTOBER, random.Random(7), rto_seconds=1800.0, failing_days=(13,)):
        record(database, spec)
    config = load_config(config_dir)
    store = CertificateStore(database)

    monthly_certificate_task(config, database, datetime(2026, 11, 1, 1, 0, tzinfo=timezone.utc))
    assert store.certificates() == [], "within deliver_after (2h) of the month's end: not yet"

    first_of_november = datetime(2026, 11, 1, 2, 5, tzinfo=timezone.utc)
    monthly_certificate_task(config, database, first_of_november)
    monthly_certificate_task(config, database, datetime(2026, 11, 1, 3, 5, tzinfo=timezone.utc))
    [issued] = store.certificates()
    assert (issued.month, issued.trigger, issued.language) == ("2026-10", "automatic", "fr")
    deliver_pending(config, database, first_of_november)

    [mail] = smtp_server.received
    assert mail.recipients == ["broker@example.com"]
    message = mail.message
    assert "Attestation de test de restauration" in message["Subject"] and "octobre 2026" in message["Subject"]
    assert "1 test(s) de restauration sur 11 n'ont pas réussi" in mail.text()
    assert issued.key_fingerprint in mail.text()
    attachments = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    directory = Path(issued.directory)
    assert set(attachments) == {"certificate-2026-10.pdf", "certificate-2026-10.dsse.json",
                                "evidence-2026-10.json", "certificate-2026-10.html"}
    assert attachments["certificate-2026-10.pdf"] == (directory / "certificate-2026-10.pdf").read_bytes()
    code, output = main(config_dir, "verify", str(directory))
    assert code == 0, output


def test_without_a_signing_key_nothing_is_issued(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from orchestrator.certificates.delivery import monthly_certificate_task
    from orchestrator.config import load_config
    from orchestrator.db.certificates_store import CertificateStore

    config_dir = tmp_path / "config"
    (config_dir / "jobs").mkdir(parents=True)
    (config_dir / "restoreproof.yml").write_text(settings_yaml(tmp_path / "state"))
    database = open_database(tmp_path / "state")
    monthly_certificate_task(load_config(config_dir), database, datetime(2026, 11, 2, tzinfo=timezone.utc))
    assert CertificateStore(database).certificates() == []
    assert "no signing key" in caplog.text
