"""Tables of the scheduler daemon: APScheduler's persisted jobs (next run times), which schedule each job
was loaded with, runs that were due but did not start, and the daemons that are (or were) serving."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, LargeBinary, String, Text, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.db.models import Base


class ApschedulerJob(Base):
    """APScheduler 3's SQLAlchemyJobStore table, declared here so our migrations own its schema.

    APScheduler reads and writes it (a pickled job per row, keyed by job name); the column types and the
    index name are exactly those SQLAlchemyJobStore would create, so its own `create(checkfirst=True)`
    finds the table and does nothing.
    """

    __tablename__ = "apscheduler_jobs"

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


class ScheduledJob(Base):
    """A job the daemon has scheduled: the fingerprint of the schedule it was loaded with, and since when."""

    __tablename__ = "scheduler_jobs"

    job: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    scheduled_since: Mapped[datetime]
    updated_at: Mapped[datetime]


class MissedRun(Base):
    """Due times that started no run: the daemon was down past the misfire grace, the job was still running
    (`overlap`), or the daemon stopped while the run waited for a free slot (`shutdown`)."""

    __tablename__ = "scheduler_missed_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(200), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    first_due_at: Mapped[datetime]
    last_due_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime]


class DaemonRecord(Base):
    """One `restoreproof serve` process: its heartbeat, and the outcome of its last reload."""

    __tablename__ = "scheduler_daemons"

    owner: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]
    metrics_address: Mapped[str | None] = mapped_column(String(300))
    reloads: Mapped[int] = mapped_column(Integer, default=0)
    reload_ok: Mapped[bool | None]
    reload_message: Mapped[str | None] = mapped_column(Text)
