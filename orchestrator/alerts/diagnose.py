"""`restoreproof alerts test`: one e-mail sent directly (not through the outbox) to show whether the
current SMTP settings work, and if not, at which step they fail."""

from __future__ import annotations

from datetime import datetime

from orchestrator.alerts.notices import redactor_for
from orchestrator.alerts.outbox import build_message, new_notice
from orchestrator.alerts.render import render
from orchestrator.alerts.smtp import Accepted, Mailer, SendError
from orchestrator.config import Config
from orchestrator.db.models_alerts import AlertNotice


def send_test_email(config: Config, recipients: list[str], now: datetime) -> Accepted:
    """Given recipients, send them a test e-mail now; return who accepted it; raise SendError saying what failed."""
    smtp = config.settings.smtp
    assert smtp is not None
    context = {"organisation": config.settings.organisation, "server": f"{smtp.host}:{smtp.effective_port}",
               "security": smtp.security, "username": smtp.username or "", "sender": smtp.sender,
               "recipients": recipients, "sent_at": now}
    rendered = render("test", config.settings.alerts.language, context, redactor_for(config, None))
    notice = new_notice(config, kind="test", job=None, run_id=None, recipients=recipients, subject=rendered.subject,
                        body_text=rendered.body_text, body_html=rendered.body_html, dedup_key="test")
    message = build_message(AlertNotice(kind="test", job=None, sender=notice.sender, recipients=notice.recipients,
                                        subject=notice.subject, body_text=notice.body_text,
                                        body_html=notice.body_html, created_at=now, message_id=notice.message_id,
                                        attachments=[]))
    with Mailer(smtp, config.directory) as mailer:
        return mailer.send(message, notice.recipients)


__all__ = ["SendError", "send_test_email"]
