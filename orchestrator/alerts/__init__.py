"""Alert e-mails that are never lost: failure, error, recovery, stale-backup and overdue notices,
queued in the database (the outbox) before they are sent, and sent once the mail server accepts them.

The functions here are what the rest of restoreproof calls: the run-finished hook, the daemon's two
periodic tasks, `enqueue_email` (e.g. to mail a certificate) and `notify_overdue`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from orchestrator.alerts.notices import close_overdue, notify_overdue, process_run, recipients_for
from orchestrator.alerts.outbox import deliver, new_notice
from orchestrator.config import Config
from orchestrator.db import Database, Run
from orchestrator.db.alerts_store import AlertStore
from orchestrator.db.store import utcnow

log = logging.getLogger(__name__)

__all__ = ["alert_after_run", "deliver_pending", "deliver_task", "enqueue_email", "notify_overdue", "overdue_task",
           "recipients_for"]


def deliver_pending(config: Config, database: Database, now: datetime) -> None:
    """Send every queued e-mail that is due at `now`; failures are logged, kept and retried with back-off."""
    deliver(config, database, now)


def enqueue_email(config: Config, database: Database, *, kind: str, job: str | None, recipients: list[str],
                  subject: str, body_text: str, body_html: str, dedup_key: str,
                  attachments: Sequence[Path] = (), now: datetime | None = None) -> None:
    """Given an e-mail's parts, queue it in the outbox (once per dedup_key); `deliver_pending` sends it.

    Attachments are read now and kept in the database. Nothing is queued (a warning is logged) when no
    smtp settings or no recipients are configured. Raise OSError if an attachment cannot be read.
    """
    if config.settings.smtp is None or not recipients:
        log.warning("%s e-mail '%s' not queued: %s", kind, subject,
                    "no smtp settings in restoreproof.yml" if config.settings.smtp is None else "no recipients")
        return
    notice = new_notice(config, kind=kind, job=job, run_id=None, recipients=recipients, subject=subject,
                        body_text=body_text, body_html=body_html, dedup_key=dedup_key, attachments=attachments)
    AlertStore(database).add_notice(notice, now or utcnow())


def alert_after_run(config: Config, database: Database, run: Run) -> None:
    """Run-finished hook: queue the notices the run calls for, then try to send them right away."""
    if config.settings.smtp is None:
        return
    process_run(config, database, run, run.finished_at or utcnow())
    deliver_pending(config, database, utcnow())


def deliver_task(config: Config, database: Database, now: datetime) -> None:
    """Daemon task: deliver the outbox."""
    deliver_pending(config, database, now)


def overdue_task(config: Config, database: Database, now: datetime) -> None:
    """Daemon task: queue an `overdue` notice for each job without a result in its expected period."""
    if config.settings.smtp is None:
        return
    from orchestrator.scheduler.overdue import overdue_jobs

    overdue = overdue_jobs(config, database, now)
    for entry in overdue:
        notify_overdue(config, database, entry.job, entry.last_result_at, entry.expected_by, now)
    close_overdue(database, {entry.job for entry in overdue})
