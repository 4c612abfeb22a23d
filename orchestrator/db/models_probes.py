"""Tables for repository health: where each job's rotating `restic check --read-data-subset` stands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.db.models import Base


class ReadDataRotation(Base):
    """One job's pass over one repository's data, `subsets` parts long; `checked` lists the parts read so far."""

    __tablename__ = "read_data_rotations"
    __table_args__ = (UniqueConstraint("job", "repository_id", name="uq_read_data_rotations_job_repository"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(200), index=True)
    repository_id: Mapped[str] = mapped_column(String(64))
    subsets: Mapped[int] = mapped_column(Integer)
    next_subset: Mapped[int] = mapped_column(Integer)
    cycle: Mapped[int] = mapped_column(Integer)
    checked: Mapped[list[Any]]
    cycle_started_at: Mapped[datetime]
    last_full_pass_at: Mapped[datetime | None]
    last_run_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime]
