"""The alert outbox: every e-mail is a row before it is sent, so nothing is lost while the mail server is
down; and the per-job alert state that keeps repeated failures from turning into an alert storm."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from orchestrator.db.models import Base

PENDING, SENT, FAILED = "pending", "sent", "failed"


class AlertNotice(Base):
    """One e-mail: written `pending`, marked `sent` only once the server accepted it, or `failed`."""

    __tablename__ = "alert_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    job: Mapped[str | None] = mapped_column(String(200), index=True)
    run_id: Mapped[int | None] = mapped_column(Integer)
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    sender: Mapped[str] = mapped_column(Text)
    recipients: Mapped[list[Any]]
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]

    attachments: Mapped[list["AlertAttachment"]] = relationship(
        back_populates="notice", order_by="AlertAttachment.position", cascade="all, delete-orphan", lazy="selectin"
    )


class AlertAttachment(Base):
    """A file sent with a notice, kept as bytes so a restart can still send it after the file is gone."""

    __tablename__ = "alert_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("alert_notices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    notice: Mapped[AlertNotice] = relationship(back_populates="attachments")


class AlertState(Base):
    """An open problem of one job (`health`, `stale-backup` or `overdue`): since when, how many bad
    results, and when people were last told. Deleted when the problem ends."""

    __tablename__ = "alert_states"
    __table_args__ = (UniqueConstraint("job", "condition"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(200))
    condition: Mapped[str] = mapped_column(String(40))
    opened_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=1)
    notified_kind: Mapped[str] = mapped_column(String(40))
    notified_at: Mapped[datetime]
    reminders: Mapped[int] = mapped_column(Integer, default=0)
