"""Every query of the alert outbox and of the per-job alert state. Each method is one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from orchestrator.db.models_alerts import FAILED, PENDING, SENT, AlertAttachment, AlertNotice, AlertState
from orchestrator.db.store import Database


@dataclass(frozen=True)
class NewNotice:
    """An e-mail about to enter the outbox."""

    kind: str
    job: str | None
    run_id: int | None
    dedup_key: str
    message_id: str
    sender: str
    recipients: list[str]
    subject: str
    body_text: str
    body_html: str
    attachments: Sequence[tuple[str, str, bytes]] = ()


@dataclass(frozen=True)
class Streak:
    """A plain copy of an open problem's state (see AlertState)."""

    opened_at: datetime
    count: int
    notified_kind: str
    notified_at: datetime
    reminders: int


@dataclass(frozen=True)
class StreakStep:
    """What one more bad result does to a problem: its new state, and whether people are told."""

    streak: Streak
    notify: bool
    reminder: bool


class AlertStore:
    """Given the run database, read and write the outbox and the alert state."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def add_notice(self, notice: NewNotice, now: datetime) -> int | None:
        """Queue a notice; return its id, or None if one with the same dedup key already exists."""
        try:
            with self.database.session() as session:
                return self._insert(session, notice, now)
        except IntegrityError:
            return None

    def advance_streak(self, job: str, condition: str, step: Callable[[Streak | None], StreakStep],
                       build: Callable[[StreakStep], NewNotice | None], now: datetime) -> StreakStep:
        """Given one more bad result, move the job's problem on and queue the notice `build` makes, if any,
        in the same transaction, so the state never says people were told when no e-mail was queued."""
        with self.database.session() as session:
            row = session.scalars(select(AlertState).where(AlertState.job == job,
                                                           AlertState.condition == condition)).first()
            result = step(_streak(row) if row is not None else None)
            if row is None:
                row = AlertState(job=job, condition=condition)
                session.add(row)
            for name, value in vars(result.streak).items():
                setattr(row, name, value)
            notice = build(result) if result.notify else None
            if notice is not None and session.scalar(
                    select(AlertNotice.id).where(AlertNotice.dedup_key == notice.dedup_key)) is None:
                self._insert(session, notice, now)
            return result

    def close_streak(self, job: str, condition: str) -> Streak | None:
        """End a job's problem; return what it was, or None if there was none."""
        with self.database.session() as session:
            row = session.scalars(select(AlertState).where(AlertState.job == job,
                                                           AlertState.condition == condition)).first()
            if row is None:
                return None
            streak = _streak(row)
            session.delete(row)
            return streak

    def open_streaks(self, condition: str) -> dict[str, Streak]:
        with self.database.session() as session:
            rows = session.scalars(select(AlertState).where(AlertState.condition == condition))
            return {row.job: _streak(row) for row in rows}

    def due_notice_ids(self, now: datetime, limit: int, ignore_schedule: bool = False) -> list[int]:
        """Return pending notices whose next attempt is due (all pending ones with ignore_schedule), oldest first."""
        query = select(AlertNotice.id).where(AlertNotice.status == PENDING).order_by(AlertNotice.id).limit(limit)
        if not ignore_schedule:
            query = query.where(AlertNotice.next_attempt_at <= now)
        with self.database.session() as session:
            return list(session.scalars(query))

    def claim(self, notice_id: int, owner: str, now: datetime, until: datetime) -> AlertNotice | None:
        """Reserve a pending notice for one sender until `until`; return it, or None if someone else holds it."""
        with self.database.session() as session:
            claimed = session.execute(
                update(AlertNotice)
                .where(AlertNotice.id == notice_id, AlertNotice.status == PENDING,
                       or_(AlertNotice.claimed_until.is_(None), AlertNotice.claimed_until <= now))
                .values(claimed_by=owner, claimed_until=until)
                .execution_options(synchronize_session=False)
            )
            if _row_count(claimed) != 1:
                return None
            return session.get_one(AlertNotice, notice_id)

    def record_sent(self, notice_id: int, now: datetime, note: str | None) -> None:
        self._finish_attempt(notice_id, now, status=SENT, sent_at=now, last_error=note)

    def record_failure(self, notice_id: int, now: datetime, error: str, next_attempt_at: datetime | None) -> None:
        """Note a failed attempt: retry at next_attempt_at, or mark the notice failed if that is None."""
        if next_attempt_at is None:
            self._finish_attempt(notice_id, now, status=FAILED, last_error=error)
        else:
            self._finish_attempt(notice_id, now, last_error=error, next_attempt_at=next_attempt_at)

    def notices(self, statuses: Sequence[str], limit: int) -> list[AlertNotice]:
        """Return notices with one of the statuses, newest first."""
        query = (select(AlertNotice).where(AlertNotice.status.in_(statuses))
                 .order_by(AlertNotice.id.desc()).limit(limit))
        with self.database.session() as session:
            return list(session.scalars(query))

    def get_notice(self, notice_id: int) -> AlertNotice:
        with self.database.session() as session:
            return session.get_one(AlertNotice, notice_id)

    def retry_failed(self, now: datetime) -> int:
        """Put every failed notice back in the queue, due now; return how many."""
        with self.database.session() as session:
            result = session.execute(update(AlertNotice).where(AlertNotice.status == FAILED)
                                     .values(status=PENDING, next_attempt_at=now)
                                     .execution_options(synchronize_session=False))
            return _row_count(result)

    def forget_streaks(self, job: str) -> None:
        with self.database.session() as session:
            session.execute(delete(AlertState).where(AlertState.job == job))

    def _finish_attempt(self, notice_id: int, now: datetime, **fields: Any) -> None:
        with self.database.session() as session:
            notice = session.get_one(AlertNotice, notice_id)
            notice.attempts += 1
            notice.last_attempt_at = now
            notice.claimed_by, notice.claimed_until = None, None
            for name, value in fields.items():
                setattr(notice, name, value)

    @staticmethod
    def _insert(session: Any, notice: NewNotice, now: datetime) -> int:
        row = AlertNotice(
            kind=notice.kind, job=notice.job, run_id=notice.run_id, dedup_key=notice.dedup_key,
            message_id=notice.message_id, sender=notice.sender, recipients=list(notice.recipients),
            subject=notice.subject, body_text=notice.body_text, body_html=notice.body_html,
            status=PENDING, created_at=now, next_attempt_at=now, attempts=0,
            attachments=[AlertAttachment(position=index, filename=name, content_type=content_type, data=data)
                         for index, (name, content_type, data) in enumerate(notice.attachments)],
        )
        session.add(row)
        session.flush()
        return row.id


def _streak(row: AlertState) -> Streak:
    return Streak(opened_at=row.opened_at, count=row.count, notified_kind=row.notified_kind,
                  notified_at=row.notified_at, reminders=row.reminders)


def _row_count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
