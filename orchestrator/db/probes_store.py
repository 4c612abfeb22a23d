"""Queries for repository health: the rotating read-data check's position and the facts the 3-2-1-1-0 view reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from orchestrator.db.models import CheckResult, Run
from orchestrator.db.models_probes import ReadDataRotation
from orchestrator.db.store import Database, utcnow

VERIFIED_STATUSES = ("passed", "failed")


class ProbeStore:
    """Given the run Database, read and write what the probes and checks of docs/probes.md keep."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def rotation(self, job: str, repository_id: str) -> ReadDataRotation | None:
        query = select(ReadDataRotation).where(ReadDataRotation.job == job,
                                               ReadDataRotation.repository_id == repository_id)
        with self.database.session() as session:
            return session.scalars(query).first()

    def save_rotation(self, job: str, repository_id: str, **fields: Any) -> None:
        """Given a job, a repository and the rotation's new position, insert or update its row."""
        query = select(ReadDataRotation).where(ReadDataRotation.job == job,
                                               ReadDataRotation.repository_id == repository_id)
        with self.database.session() as session:
            row = session.scalars(query).first()
            if row is None:
                row = ReadDataRotation(job=job, repository_id=repository_id, **fields, updated_at=utcnow())
                session.add(row)
                return
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = utcnow()

    def rotations(self, job: str | None = None) -> list[ReadDataRotation]:
        """Return every rotation (of one job if given), newest update first."""
        query = select(ReadDataRotation).order_by(ReadDataRotation.updated_at.desc(), ReadDataRotation.id.desc())
        if job is not None:
            query = query.where(ReadDataRotation.job == job)
        with self.database.session() as session:
            return list(session.scalars(query))

    def last_verified_run(self, job: str) -> Run | None:
        """Return the job's newest run that restored and checked (passed or failed), or None."""
        query = (select(Run).where(Run.job == job, Run.status.in_(VERIFIED_STATUSES))
                 .order_by(Run.id.desc()).limit(1))
        with self.database.session() as session:
            return session.scalars(query).first()

    def last_located_run(self, job: str) -> Run | None:
        """Return the job's newest run that recorded its repository's location facts, or None."""
        query = (select(Run).where(Run.job == job, Run.repository_facts.is_not(None))
                 .order_by(Run.id.desc()).limit(1))
        with self.database.session() as session:
            return session.scalars(query).first()

    def last_check(self, job: str, name: str) -> CheckResult | None:
        """Return the newest recorded result of the named check in the job's runs, or None."""
        query = (select(CheckResult).join(Run).where(Run.job == job, CheckResult.name == name)
                 .order_by(Run.id.desc(), CheckResult.position.desc()).limit(1))
        with self.database.session() as session:
            return session.scalars(query).first()
