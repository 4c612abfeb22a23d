"""`rpo`: the newest snapshot matching the job's filters must be younger than the job's RPO (or `max_age`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from orchestrator.checks import ERROR, FAILED, PASSED, CheckContext, CheckOutcome
from orchestrator.config.probes import RpoCheck
from orchestrator.probes.freshness import snapshot_age
from orchestrator.restic import Snapshot

NAME = "rpo"


def check(config: RpoCheck, context: CheckContext) -> CheckOutcome:
    if context.job is None:
        return CheckOutcome(NAME, ERROR, "the check needs the job, which was not given")
    max_age = config.max_age or context.job.rpo
    if max_age is None:
        return CheckOutcome(NAME, ERROR, "no RPO to check against: set `rpo` on the job or `max_age` on the check")
    selection = context.job.snapshot
    snapshots = context.restic.snapshots(selection.host, selection.tags, selection.paths)
    return evaluate(snapshots, max_age, datetime.now(timezone.utc))


def evaluate(snapshots: list[Snapshot], max_age: timedelta, now: datetime) -> CheckOutcome:
    """Given the matching snapshots (oldest first), the RPO and now, return the check's outcome."""
    data: dict[str, object] = {"rpo_seconds": max_age.total_seconds(), "checked_at": now.isoformat(),
                               "snapshots": len(snapshots)}
    if not snapshots:
        return CheckOutcome(NAME, FAILED, "no snapshot matches the job's filters: nothing is fresh", data)
    newest = snapshots[-1]
    age = snapshot_age(newest.time, now)
    data.update({"newest_snapshot_id": newest.id, "newest_snapshot_time": newest.time.isoformat(),
                 "age_seconds": round(age.total_seconds(), 3), "met": age <= max_age})
    summary = f"newest snapshot {newest.short_id} is {_human(age)} old, RPO {_human(max_age)}"
    if age > max_age:
        return CheckOutcome(NAME, FAILED, f"stale backup: {summary}", data)
    return CheckOutcome(NAME, PASSED, summary, data)


def _human(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds}s"
