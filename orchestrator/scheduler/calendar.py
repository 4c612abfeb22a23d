"""Calendar logic of the daemon, as pure functions of a schedule and an explicit `now`: fire times,
catching up after downtime (run once within the misfire grace, else missed), and when a result is due."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from orchestrator.config.schedule import Schedule, cron_fields

# Walking a one-second schedule through a month of downtime must not take minutes.
CATCH_UP_LIMIT = 10_000


def build_trigger(schedule: Schedule, start: datetime | None = None, jitter: bool = True) -> BaseTrigger:
    """Given a schedule (and for an interval, the time it counts from), return its APScheduler trigger."""
    jitter_seconds = int(schedule.jitter.total_seconds()) if jitter and schedule.jitter else None
    if schedule.cron is not None:
        return CronTrigger(**cron_fields(schedule.cron), timezone=schedule.timezone,  # type: ignore[arg-type]
                           jitter=jitter_seconds)
    assert schedule.every is not None
    begin = start + schedule.every if start is not None else None
    return IntervalTrigger(seconds=schedule.every.total_seconds(), start_date=begin, timezone=schedule.timezone,
                           jitter=jitter_seconds)


def trigger_fingerprint(schedule: Schedule) -> str:
    """Return a digest of what decides the fire times; when it changes, the job is rescheduled."""
    text = "|".join(str(value) for value in (schedule.cron, schedule.every, schedule.jitter, schedule.timezone))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class CatchUp:
    """What to do with a job whose next run time passed while nobody was watching."""

    run_at: datetime | None
    missed_count: int
    first_missed: datetime | None
    last_missed: datetime | None
    next_run_at: datetime | None


def catch_up(next_run_at: datetime, trigger: BaseTrigger, now: datetime, grace: timedelta) -> CatchUp:
    """Given a stored next run time at or before `now`, return the catch-up decision.

    The newest due time runs once if it is no older than `grace`; every other due time since
    `next_run_at` is missed (counted up to CATCH_UP_LIMIT). Runs are never replayed one per missed due time.
    """
    due = _due_times(next_run_at, trigger, now)
    newest = due[-1]
    run_at = newest if now - newest <= grace else None
    missed = due[:-1] if run_at is not None else due
    following = trigger.get_next_fire_time(newest, now)
    if following is not None and following <= now:  # the walk stopped at CATCH_UP_LIMIT: jump ahead
        following = trigger.get_next_fire_time(None, now + timedelta(microseconds=1))
    return CatchUp(run_at=run_at, missed_count=len(missed),
                   first_missed=missed[0] if missed else None, last_missed=missed[-1] if missed else None,
                   next_run_at=following)


def _due_times(first: datetime, trigger: BaseTrigger, now: datetime) -> list[datetime]:
    due = [first]
    while len(due) < CATCH_UP_LIMIT:
        following = trigger.get_next_fire_time(due[-1], now)
        if following is None or following > now:
            return due
        due.append(following)
    return due


def next_fire_after(schedule: Schedule, moment: datetime) -> datetime:
    """Given a moment, return the schedule's first fire time after it, without jitter (intervals count from
    the moment itself)."""
    if schedule.every is not None:
        return moment + schedule.every
    trigger = build_trigger(schedule, jitter=False)
    after = moment + timedelta(microseconds=1)
    fire = trigger.get_next_fire_time(None, after)
    assert fire is not None, "a cron trigger without an end date always fires again"
    return fire  # type: ignore[no-any-return]


def expected_by(schedule: Schedule, run_timeout: timedelta, reference: datetime) -> datetime:
    """Given the time of a job's last result (or when it was first scheduled), return the time by which the
    next result is due: the next fire time, plus jitter, plus the grace (default: the run timeout)."""
    allowance = (schedule.jitter or timedelta(0)) + (schedule.grace if schedule.grace is not None else run_timeout)
    return next_fire_after(schedule, reference) + allowance
