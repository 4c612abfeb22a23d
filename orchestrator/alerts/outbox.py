"""The outbox: queue an e-mail in the database, then deliver what is due, retrying with back-off.

A notice is claimed (for a limited time) before it is sent, so two processes never send it both, and
marked `sent` only after the server accepted it. If a process dies between the server's acceptance and
that mark, the notice is sent again later with the same Message-ID, which mail programs merge.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from orchestrator.alerts.smtp import Accepted, Mailer, SendError
from orchestrator.config import Config
from orchestrator.config.alerts import AlertSettings
from orchestrator.db import Database
from orchestrator.db.alerts_store import AlertStore, NewNotice
from orchestrator.db.models_alerts import AlertNotice
from orchestrator.owner import current_owner

log = logging.getLogger(__name__)

BATCH = 100
CLAIM_MARGIN = timedelta(seconds=60)
# RFC 5322 allows 998 characters a line; at 78, Python folds a long Subject before its first word,
# and some mail programs then show it with a leading space.
MESSAGE_POLICY = policy.default.clone(max_line_length=998)


@dataclass
class Delivery:
    """What one delivery pass did."""

    sent: int = 0
    retrying: int = 0
    given_up: int = 0
    errors: list[str] = field(default_factory=list)


def new_notice(config: Config, *, kind: str, job: str | None, run_id: int | None, recipients: Sequence[str],
               subject: str, body_text: str, body_html: str, dedup_key: str,
               attachments: Sequence[Path] = ()) -> NewNotice:
    """Given an e-mail's parts, return it ready for the outbox with a fresh, stable Message-ID.

    Attachments are read now, so the e-mail can still be sent after a restart even if the file is gone;
    raise OSError if one cannot be read.
    """
    assert config.settings.smtp is not None
    sender = config.settings.smtp.sender
    domain = parseaddr(sender)[1].partition("@")[2] or "restoreproof.invalid"
    return NewNotice(kind=kind, job=job, run_id=run_id, dedup_key=dedup_key,
                     message_id=make_msgid("restoreproof", domain=domain), sender=sender,
                     recipients=list(dict.fromkeys(recipients)), subject=" ".join(subject.split()),
                     body_text=body_text, body_html=body_html,
                     attachments=[_attachment(path) for path in attachments])


def deliver(config: Config, database: Database, now: datetime, ignore_schedule: bool = False) -> Delivery:
    """Send every pending notice that is due (every pending one with ignore_schedule); return what happened."""
    delivery = Delivery()
    smtp = config.settings.smtp
    if smtp is None:
        return delivery
    store = AlertStore(database)
    claim_until = now + smtp.timeout * 4 + CLAIM_MARGIN
    owner = current_owner()
    claimed = [notice for notice_id in store.due_notice_ids(now, BATCH, ignore_schedule)
               if (notice := store.claim(notice_id, owner, now, claim_until)) is not None]
    if not claimed:
        return delivery
    with Mailer(smtp, config.directory) as mailer:
        for index, notice in enumerate(claimed):
            try:
                accepted = mailer.send(build_message(notice), list(notice.recipients))
            except SendError as error:
                affected = claimed[index:] if error.server_wide else [notice]
                for each in affected:
                    _record_failure(store, config.settings.alerts, each, error, now, delivery)
                if error.server_wide:
                    break
            else:
                _record_sent(store, notice, accepted, now, delivery)
    return delivery


def build_message(notice: AlertNotice) -> EmailMessage:
    """Given a queued notice, return the e-mail exactly as it is sent every time it is tried."""
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = notice.sender
    message["To"] = ", ".join(notice.recipients)
    message["Subject"] = notice.subject
    message["Date"] = format_datetime(notice.created_at)
    message["Message-ID"] = notice.message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Restoreproof-Notice"] = notice.kind
    if notice.job:
        message["X-Restoreproof-Job"] = notice.job
    message.set_content(notice.body_text)
    message.add_alternative(notice.body_html, subtype="html")
    for attachment in notice.attachments:
        main_type, _, sub_type = attachment.content_type.partition("/")
        message.add_attachment(attachment.data, maintype=main_type, subtype=sub_type, filename=attachment.filename)
    return message


def retry_delay(attempts: int, settings: AlertSettings) -> timedelta:
    """Given how many attempts failed so far, return the wait before the next: doubling, capped."""
    return min(settings.retry_max, settings.retry_first * 2 ** min(max(0, attempts - 1), 30))


def _record_sent(store: AlertStore, notice: AlertNotice, accepted: Accepted, now: datetime,
                 delivery: Delivery) -> None:
    note = None
    if accepted.refused:
        note = "refused for " + "; ".join(f"{address} ({reply})" for address, reply in accepted.refused.items())
        log.warning("alert e-mail %d (%s) sent, but %s", notice.id, _about(notice), note)
    store.record_sent(notice.id, now, note)
    delivery.sent += 1
    log.info("alert e-mail %d (%s) accepted for %s", notice.id, _about(notice), ", ".join(accepted.recipients))


def _record_failure(store: AlertStore, settings: AlertSettings, notice: AlertNotice, error: SendError,
                    now: datetime, delivery: Delivery) -> None:
    attempts = notice.attempts + 1
    gave_up = error.permanent or now - notice.created_at >= settings.give_up_after
    next_attempt = None if gave_up else now + retry_delay(attempts, settings)
    store.record_failure(notice.id, now, error.message, next_attempt)
    delivery.errors.append(error.message)
    if next_attempt is None:
        delivery.given_up += 1
        reason = "the error is permanent" if error.permanent else f"not accepted within {settings.give_up_after}"
        log.error("alert e-mail %d (%s) FAILED for good after %d attempt(s), %s: %s",
                  notice.id, _about(notice), attempts, reason, error.message)
    else:
        delivery.retrying += 1
        log.error("alert e-mail %d (%s) not sent (attempt %d): %s; next attempt at %s",
                  notice.id, _about(notice), attempts, error.message, f"{next_attempt:%Y-%m-%d %H:%M:%S} UTC")


def _about(notice: AlertNotice) -> str:
    return f"{notice.kind}, job {notice.job}" if notice.job else notice.kind


def _attachment(path: Path) -> tuple[str, str, bytes]:
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path.name, content_type, path.read_bytes()
