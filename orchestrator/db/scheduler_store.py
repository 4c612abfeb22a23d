"""Queries of the scheduler daemon, `restoreproof status` and the metrics endpoint. Per-job figures are read
for every job at once (one query each), so a scrape stays cheap with hundreds of jobs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select

from orchestrator.db.models import Run
from orchestrator.db.models_scheduler import ApschedulerJob, DaemonRecord, MissedRun, ScheduledJob
from orchestrator.db.store import Database

RESULT_STATUSES = ("passed", "failed")


class SchedulerStore:
    """Given the run database, read and write the scheduler's own tables and per-job run summaries."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # Schedules the daemon has loaded.

    def fingerprints(self) -> dict[str, str]:
        with self.database.session() as session:
            return {row.job: row.fingerprint for row in session.scalars(select(ScheduledJob))}

    def scheduled_since(self) -> dict[str, datetime]:
        with self.database.session() as session:
            return {row.job: row.scheduled_since for row in session.scalars(select(ScheduledJob))}

    def remember_schedule(self, job: str, fingerprint: str, now: datetime) -> None:
        self.remember_schedules({job: fingerprint}, now)

    def remember_schedules(self, fingerprints: dict[str, str], now: datetime) -> None:
        """Record the schedule each job was loaded with, in one transaction; a changed schedule starts its
        expectations anew."""
        with self.database.session() as session:
            rows = {row.job: row for row in session.scalars(select(ScheduledJob))}
            for job, fingerprint in fingerprints.items():
                row = rows.get(job)
                if row is None:
                    session.add(ScheduledJob(job=job, fingerprint=fingerprint, scheduled_since=now, updated_at=now))
                elif row.fingerprint != fingerprint:
                    row.fingerprint, row.scheduled_since, row.updated_at = fingerprint, now, now

    def forget_schedules(self, jobs: Iterable[str]) -> None:
        names = list(jobs)
        if names:
            with self.database.session() as session:
                session.execute(delete(ScheduledJob).where(ScheduledJob.job.in_(names)))

    def next_run_times(self) -> dict[str, datetime]:
        """Return each scheduled job's next run time as APScheduler persisted it."""
        with self.database.session() as session:
            rows = session.execute(select(ApschedulerJob.id, ApschedulerJob.next_run_time))
            return {job: datetime.fromtimestamp(stamp, timezone.utc) for job, stamp in rows if stamp is not None}

    # Due times that started no run.

    def record_missed(self, job: str, reason: str, first_due_at: datetime, last_due_at: datetime, count: int,
                      now: datetime) -> None:
        with self.database.session() as session:
            session.add(MissedRun(job=job, reason=reason, first_due_at=first_due_at, last_due_at=last_due_at,
                                  count=count, recorded_at=now))

    def missed_counts(self) -> dict[tuple[str, str], int]:
        """Return the number of missed due times per (job, reason)."""
        query = select(MissedRun.job, MissedRun.reason, func.sum(MissedRun.count)).group_by(MissedRun.job,
                                                                                           MissedRun.reason)
        with self.database.session() as session:
            return {(job, reason): int(total or 0) for job, reason, total in session.execute(query)}

    def last_missed(self) -> dict[str, MissedRun]:
        newest = select(func.max(MissedRun.id)).group_by(MissedRun.job)
        with self.database.session() as session:
            return {row.job: row for row in session.scalars(select(MissedRun).where(MissedRun.id.in_(newest)))}

    # Per-job summaries of the runs table.

    def last_result_times(self) -> dict[str, datetime]:
        """Return, per job, when its newest result (a `passed` or `failed` run) was recorded."""
        query = (select(Run.job, func.max(Run.finished_at)).where(Run.status.in_(RESULT_STATUSES))
                 .group_by(Run.job))
        return self._per_job_times(query)

    def last_success_times(self) -> dict[str, datetime]:
        return self._per_job_times(select(Run.job, func.max(Run.finished_at)).where(Run.status == "passed")
                                   .group_by(Run.job))

    def newest_snapshot_times(self) -> dict[str, datetime]:
        """Return, per job, the time of the newest snapshot in its repository as its latest run saw it."""
        newest = (select(func.max(Run.id)).where(Run.newest_snapshot_age_seconds.is_not(None),
                                                 Run.snapshot_seen_at.is_not(None)).group_by(Run.job))
        with self.database.session() as session:
            runs = list(session.scalars(select(Run).where(Run.id.in_(newest))))
        return {run.job: _aware(run.snapshot_seen_at) - timedelta(seconds=run.newest_snapshot_age_seconds)
                for run in runs if run.snapshot_seen_at is not None and run.newest_snapshot_age_seconds is not None}

    def latest_runs(self, finished: bool = False) -> dict[str, Run]:
        """Return each job's newest run (only finished ones if `finished`)."""
        newest = select(func.max(Run.id)).group_by(Run.job)
        if finished:
            newest = newest.where(Run.status != "running")
        with self.database.session() as session:
            return {run.job: run for run in session.scalars(select(Run).where(Run.id.in_(newest)))}

    def run_counts(self) -> dict[tuple[str, str], int]:
        query = select(Run.job, Run.status, func.count()).group_by(Run.job, Run.status)
        with self.database.session() as session:
            return {(job, status): int(count) for job, status, count in session.execute(query)}

    def recent_statuses(self, job: str, limit: int = 100) -> list[str]:
        """Return the statuses of a job's newest finished runs, newest first."""
        query = (select(Run.status).where(Run.job == job, Run.status != "running")
                 .order_by(Run.id.desc()).limit(limit))
        with self.database.session() as session:
            return list(session.scalars(query))

    def abort_runs_of(self, owner: str, reason: str, message: str, now: datetime) -> list[int]:
        """Record every run still `running` for this owner as `aborted`; return their ids."""
        with self.database.session() as session:
            runs = list(session.scalars(select(Run).where(Run.status == "running", Run.owner == owner)))
            for run in runs:
                run.status, run.reason, run.message, run.finished_at = "aborted", reason, message, now
            return [run.id for run in runs]

    def _per_job_times(self, query: object) -> dict[str, datetime]:
        with self.database.session() as session:
            rows = session.execute(query)  # type: ignore[call-overload]
            return {job: _aware(value) for job, value in rows if value is not None}

    # Daemons.

    def daemon_started(self, owner: str, host: str, pid: int, now: datetime, metrics_address: str | None) -> None:
        with self.database.session() as session:
            session.merge(DaemonRecord(owner=owner, host=host, pid=pid, started_at=now, heartbeat_at=now,
                                       stopped_at=None, metrics_address=metrics_address, reloads=0))

    def heartbeat(self, owner: str, now: datetime) -> None:
        with self.database.session() as session:
            record = session.get(DaemonRecord, owner)
            if record is not None:
                record.heartbeat_at = now

    def record_reload(self, owner: str, ok: bool, message: str) -> None:
        with self.database.session() as session:
            record = session.get_one(DaemonRecord, owner)
            record.reloads, record.reload_ok, record.reload_message = record.reloads + 1, ok, message

    def daemon_stopped(self, owner: str, now: datetime) -> None:
        with self.database.session() as session:
            record = session.get(DaemonRecord, owner)
            if record is not None:
                record.stopped_at = now

    def daemon(self, owner: str) -> DaemonRecord | None:
        with self.database.session() as session:
            return session.get(DaemonRecord, owner)

    def serving_daemons(self) -> list[DaemonRecord]:
        """Return the daemons that have not recorded a stop (some may have died without one)."""
        query = select(DaemonRecord).where(DaemonRecord.stopped_at.is_(None)).order_by(DaemonRecord.started_at)
        with self.database.session() as session:
            return list(session.scalars(query))


def _aware(value: datetime) -> datetime:
    """Aggregates bypass the column type on SQLite, so a max() can come back naive (it is UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
