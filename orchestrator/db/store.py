"""Every query restoreproof makes, behind one small class. Each write commits at once, so a crash
loses nothing that was already recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.db.models import CheckResult, Run

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Database:
    """Given an SQLAlchemy URL, open (and migrate) the run database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _create_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        from alembic import command
        from alembic.config import Config as AlembicConfig

        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def start_run(self, uid: str, job: str, owner: str, **fields: Any) -> int:
        with self.session() as session:
            run = Run(uid=uid, job=job, owner=owner, status="running", started_at=utcnow(), **fields)
            session.add(run)
            session.flush()
            return run.id

    def update_run(self, run_id: int, **fields: Any) -> None:
        with self.session() as session:
            run = session.get_one(Run, run_id)
            for name, value in fields.items():
                setattr(run, name, value)

    def add_check(self, run_id: int, position: int, name: str, status: str, detail: str,
                  data: dict[str, Any] | None = None, seconds: float | None = None) -> None:
        with self.session() as session:
            session.add(CheckResult(run_id=run_id, position=position, name=name, status=status,
                                    detail=detail, data=data, seconds=seconds))

    def finish_run(self, run_id: int, status: str, reason: str | None, message: str | None, **fields: Any) -> None:
        self.update_run(run_id, status=status, reason=reason, message=message, finished_at=utcnow(), **fields)

    def get_run(self, run_id: int) -> Run:
        with self.session() as session:
            return session.get_one(Run, run_id)

    def history(self, job: str | None = None, limit: int = 20) -> list[Run]:
        """Return past runs, newest first, optionally of one job."""
        query = select(Run).order_by(Run.started_at.desc(), Run.id.desc()).limit(limit)
        if job is not None:
            query = query.where(Run.job == job)
        with self.session() as session:
            return list(session.scalars(query))

    def last_run_with_status(self, job: str, status: str, before_id: int | None = None) -> Run | None:
        query = select(Run).where(Run.job == job, Run.status == status).order_by(Run.id.desc()).limit(1)
        if before_id is not None:
            query = query.where(Run.id < before_id)
        with self.session() as session:
            return session.scalars(query).first()

    def running_uids(self) -> set[str]:
        with self.session() as session:
            return set(session.scalars(select(Run.uid).where(Run.status == "running")))

    def abort_abandoned(self, is_abandoned: Callable[[str], bool]) -> list[int]:
        """Mark `running` runs whose owning process is gone as `aborted`; return their ids."""
        aborted = []
        with self.session() as session:
            for run in session.scalars(select(Run).where(Run.status == "running")):
                if is_abandoned(run.owner):
                    run.status, run.reason, run.finished_at = "aborted", "process-gone", utcnow()
                    run.message = "the process running this test stopped before it finished"
                    aborted.append(run.id)
        return aborted


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
