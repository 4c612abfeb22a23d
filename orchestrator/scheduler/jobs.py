"""Keep APScheduler's persisted jobs in step with the YAML: add, remove and reschedule by fingerprint (an
unchanged schedule keeps its stored next run time, so a restart neither loses nor repeats a run), and
catch up after downtime."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from apscheduler.schedulers.base import BaseScheduler

from orchestrator.config import Config, Job
from orchestrator.db.scheduler_store import SchedulerStore
from orchestrator.scheduler.calendar import build_trigger, catch_up, trigger_fingerprint
from orchestrator.scheduler.logs import event

JOB_STORE = "default"


def due(job: str) -> None:
    """What APScheduler calls when `job` is due: nothing. The daemon's listener for the `executed` event
    queues the run, so a pickled APScheduler job holds only this function's name and the job's name."""


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rescheduled: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"{label} {', '.join(names)}" for label, names in
                 (("added", self.added), ("removed", self.removed), ("rescheduled", self.rescheduled)) if names]
        return "; ".join(parts) or "no schedule changed"


def sync_jobs(scheduler: BaseScheduler, store: SchedulerStore, config: Config, now: datetime) -> SyncResult:
    """Given the config, make APScheduler's job store hold exactly its scheduled jobs; return what changed."""
    result = SyncResult()
    desired = {name: job for name, job in config.jobs.items() if job.schedule is not None}
    stored = {job.id: job for job in scheduler.get_jobs(jobstore=JOB_STORE)}
    fingerprints = store.fingerprints()
    for name in sorted(set(stored) - set(desired)):
        scheduler.remove_job(name, jobstore=JOB_STORE)
        result.removed.append(name)
    store.forget_schedules(set(fingerprints) - set(desired))
    loaded: dict[str, str] = {}
    for name, job in sorted(desired.items()):
        assert job.schedule is not None
        fingerprint = trigger_fingerprint(job.schedule)
        grace = _grace_seconds(job)
        if name not in stored:
            _add(scheduler, job, grace)
            result.added.append(name)
        elif fingerprints.get(name) != fingerprint:
            scheduler.reschedule_job(name, jobstore=JOB_STORE, trigger=build_trigger(job.schedule))
            result.rescheduled.append(name)
        if name in stored and stored[name].misfire_grace_time != grace:
            scheduler.modify_job(name, jobstore=JOB_STORE, misfire_grace_time=grace)
        loaded[name] = fingerprint
    store.remember_schedules(loaded, now)
    return result


def catch_up_jobs(scheduler: BaseScheduler, store: SchedulerStore, config: Config, now: datetime) -> None:
    """For each job whose stored next run time has passed (the daemon was down): keep the newest due time if
    within the misfire grace, so it runs once; record every other due time as missed."""
    for stored in scheduler.get_jobs(jobstore=JOB_STORE):
        job = config.jobs.get(stored.id)
        if job is None or job.schedule is None or stored.next_run_time is None or stored.next_run_time > now:
            continue
        decision = catch_up(stored.next_run_time, stored.trigger, now, job.schedule.misfire_grace)
        if decision.missed_count and decision.first_missed and decision.last_missed:
            store.record_missed(stored.id, "daemon-down", decision.first_missed, decision.last_missed,
                                decision.missed_count, now)
            why = ("only the newest, within the misfire grace, runs now" if decision.run_at
                   else "all beyond the misfire grace")
            event("run-missed", f"{decision.missed_count} due time(s) passed while the daemon was down; {why}",
                  level=logging.WARNING, job=stored.id, reason="daemon-down",
                  first_due_at=decision.first_missed, last_due_at=decision.last_missed)
        next_run_at = decision.run_at or decision.next_run_at
        if next_run_at is None:
            scheduler.remove_job(stored.id, jobstore=JOB_STORE)
        elif next_run_at != stored.next_run_time:
            scheduler.modify_job(stored.id, jobstore=JOB_STORE, next_run_time=next_run_at)


def _add(scheduler: BaseScheduler, job: Job, grace: int) -> None:
    assert job.schedule is not None
    scheduler.add_job(due, trigger=build_trigger(job.schedule), args=[job.name], id=job.name, name=job.name,
                      jobstore=JOB_STORE, executor="default", misfire_grace_time=grace, coalesce=True,
                      max_instances=1, replace_existing=True)


def _grace_seconds(job: Job) -> int:
    assert job.schedule is not None
    return max(1, int(job.schedule.misfire_grace.total_seconds()))
