"""Typed SQLAlchemy 2 models. The schema itself is owned by the Alembic migrations beside this file."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Always aware, always UTC: SQLite forgets the zone, PostgreSQL keeps it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime()}


class Run(Base):
    """One restore test: written as `running` when it starts, completed when it ends."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    job: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str | None] = mapped_column(String(60))
    message: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    snapshot_id: Mapped[str | None] = mapped_column(String(64))
    snapshot_time: Mapped[datetime | None]
    snapshot_seen_at: Mapped[datetime | None]
    snapshot_host: Mapped[str | None] = mapped_column(String(255))
    snapshot_paths: Mapped[list[Any] | None]
    snapshot_tags: Mapped[list[Any] | None]
    snapshot_age_seconds: Mapped[float | None] = mapped_column(Float)
    newest_snapshot_age_seconds: Mapped[float | None] = mapped_column(Float)

    repository_id: Mapped[str | None] = mapped_column(String(64))
    repository_backend: Mapped[str | None] = mapped_column(String(20))
    repository_location: Mapped[str | None] = mapped_column(Text)
    # Measured and declared location facts (orchestrator/probes/location.py, docs/probes.md).
    repository_host: Mapped[str | None] = mapped_column(String(255))
    repository_region: Mapped[str | None] = mapped_column(String(64))
    repository_offsite: Mapped[bool | None]
    repository_facts: Mapped[dict[str, Any] | None]

    restore_seconds: Mapped[float | None] = mapped_column(Float)
    checks_seconds: Mapped[float | None] = mapped_column(Float)
    boot_seconds: Mapped[float | None] = mapped_column(Float)
    total_seconds: Mapped[float | None] = mapped_column(Float)
    expected_bytes: Mapped[int | None] = mapped_column(BigInteger)
    bytes_restored: Mapped[int | None] = mapped_column(BigInteger)
    files_restored: Mapped[int | None] = mapped_column(Integer)
    rto_seconds: Mapped[float | None] = mapped_column(Float)
    rpo_seconds: Mapped[float | None] = mapped_column(Float)

    versions: Mapped[dict[str, Any] | None]
    sandbox: Mapped[dict[str, Any] | None]
    log_tail: Mapped[str | None] = mapped_column(Text)
    # Hash chain over finished runs (orchestrator/certificates/chain.py): any later edit or deletion shows.
    chain_sequence: Mapped[int | None] = mapped_column(Integer, unique=True, index=True)
    chain_previous_hash: Mapped[str | None] = mapped_column(String(64))
    chain_hash: Mapped[str | None] = mapped_column(String(64))

    checks: Mapped[list["CheckResult"]] = relationship(
        back_populates="run", order_by="CheckResult.position", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def rto_met(self) -> bool | None:
        """Whether the restore finished within the RTO target; a failed restore never meets it."""
        if self.rto_seconds is None or self.status not in ("passed", "failed"):
            return None
        return self.status == "passed" and self.restore_seconds is not None and self.restore_seconds <= self.rto_seconds

    @property
    def rpo_met(self) -> bool | None:
        """Whether the newest matching snapshot was younger than the RPO target when the run saw it.

        A snapshot dated more than five minutes in the future (client clock ahead) proves nothing."""
        age = self.newest_snapshot_age_seconds if self.newest_snapshot_age_seconds is not None \
            else self.snapshot_age_seconds
        if self.rpo_seconds is None or age is None:
            return None
        return -300 <= age <= self.rpo_seconds


class CheckResult(Base):
    __tablename__ = "check_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None]
    seconds: Mapped[float | None] = mapped_column(Float)

    run: Mapped[Run] = relationship(back_populates="checks")
