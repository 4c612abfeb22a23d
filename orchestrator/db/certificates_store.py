"""Every query certificates make: sealing finished runs into the run chain, reading a month's runs, and
the log of issued certificates. Each method is one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from orchestrator.certificates.chain import GENESIS, record_hash
from orchestrator.db.models import Run
from orchestrator.db.models_certificates import Certificate
from orchestrator.db.store import Database

# Two processes sealing at once collide on the unique sequence number; the loser simply tries again.
SEAL_ATTEMPTS = 8
CHAIN_BATCH = 500


class ChainHead(NamedTuple):
    """The newest sealed run; sequence 0 and the genesis hash when nothing is sealed yet."""

    sequence: int
    hash: str


class CertificateStore:
    """Given a Database, read and write what certificates need."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def seal_pending(self) -> list[int]:
        """Seal every finished run not yet in the run chain, oldest first; return their ids."""
        for attempt in range(SEAL_ATTEMPTS):
            try:
                return self._seal_once()
            except (IntegrityError, OperationalError):
                if attempt == SEAL_ATTEMPTS - 1:
                    raise
        return []

    def _seal_once(self) -> list[int]:
        sealed = []
        with self.database.session() as session:
            head = session.scalars(select(Run).where(Run.chain_sequence.is_not(None))
                                  .order_by(Run.chain_sequence.desc()).limit(1)).first()
            sequence, previous = (head.chain_sequence or 0, head.chain_hash or GENESIS) if head else (0, GENESIS)
            pending = select(Run).where(Run.chain_sequence.is_(None), Run.status != "running",
                                        Run.finished_at.is_not(None)).order_by(Run.id)
            for run in session.scalars(pending):
                sequence += 1
                run.chain_sequence, run.chain_previous_hash = sequence, previous
                run.chain_hash = previous = record_hash(run)
                sealed.append(run.id)
        return sealed

    def chain_head(self) -> ChainHead:
        with self.database.session() as session:
            head = session.execute(select(Run.chain_sequence, Run.chain_hash).where(Run.chain_sequence.is_not(None))
                                   .order_by(Run.chain_sequence.desc()).limit(1)).first()
        return ChainHead(int(head[0] or 0), str(head[1])) if head else ChainHead(0, GENESIS)

    def sealed_runs(self, up_to: int | None = None) -> Iterator[Run]:
        """Yield every sealed run in sequence order (up to a sequence number), a batch at a time."""
        after = 0
        while True:
            query = (select(Run).where(Run.chain_sequence > after).order_by(Run.chain_sequence).limit(CHAIN_BATCH))
            if up_to is not None:
                query = query.where(Run.chain_sequence <= up_to)
            with self.database.session() as session:
                batch = list(session.scalars(query))
            if not batch:
                return
            yield from batch
            after = batch[-1].chain_sequence or after

    def chain_hashes(self, sequences: list[int]) -> dict[int, str | None]:
        """Given run chain sequence numbers, return the hash stored at each one that still exists."""
        query = select(Run.chain_sequence, Run.chain_hash).where(Run.chain_sequence.in_(sequences))
        with self.database.session() as session:
            return {int(sequence or 0): digest for sequence, digest in session.execute(query)}

    def runs_between(self, start: datetime, end: datetime, jobs: list[str] | None, up_to: int) -> list[Run]:
        """Return the runs started in [start, end) and sealed at or before chain sequence `up_to` (so a run
        finishing meanwhile is left out rather than listed unsealed), optionally of some jobs, in start order."""
        query = (select(Run).where(Run.started_at >= start, Run.started_at < end, Run.chain_sequence <= up_to)
                 .order_by(Run.started_at, Run.id))
        if jobs is not None:
            query = query.where(Run.job.in_(jobs))
        with self.database.session() as session:
            return list(session.scalars(query))

    def running_between(self, start: datetime, end: datetime) -> int:
        query = select(func.count()).select_from(Run).where(Run.started_at >= start, Run.started_at < end,
                                                           Run.status == "running")
        with self.database.session() as session:
            return int(session.scalar(query) or 0)

    def first_pass_after(self, job: str, after: datetime) -> datetime | None:
        """Return when the job next passed after a given time, or None if it has not passed since."""
        query = select(func.min(Run.started_at)).where(Run.job == job, Run.status == "passed", Run.started_at > after)
        with self.database.session() as session:
            return session.scalar(query)

    def runs_by_uid(self, uids: list[str]) -> dict[str, Run]:
        found: dict[str, Run] = {}
        with self.database.session() as session:
            for start in range(0, len(uids), CHAIN_BATCH):
                chunk = uids[start:start + CHAIN_BATCH]
                found.update((run.uid, run) for run in session.scalars(select(Run).where(Run.uid.in_(chunk))))
        return found

    def last_certificate(self) -> Certificate | None:
        with self.database.session() as session:
            return session.scalars(select(Certificate).order_by(Certificate.sequence.desc()).limit(1)).first()

    def certificates(self) -> list[Certificate]:
        with self.database.session() as session:
            return list(session.scalars(select(Certificate).order_by(Certificate.sequence)))

    def certificate_for(self, month: str, trigger: str) -> Certificate | None:
        query = (select(Certificate).where(Certificate.month == month, Certificate.trigger == trigger)
                 .order_by(Certificate.sequence.desc()).limit(1))
        with self.database.session() as session:
            return session.scalars(query).first()

    def add_certificate(self, certificate: Certificate) -> None:
        """Record an issued certificate; raise IntegrityError if its sequence number was taken meanwhile."""
        with self.database.session() as session:
            session.add(certificate)
