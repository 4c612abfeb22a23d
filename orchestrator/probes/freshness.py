"""Pure logic for the RPO and retention checks: ages and distinct day/week/month/year counts of snapshots."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

PERIODS = ("daily", "weekly", "monthly", "yearly")


def snapshot_age(snapshot_time: datetime, now: datetime) -> timedelta:
    """Given a snapshot's time and now, return its age; a time in the future (clock skew) counts as zero."""
    return max(timedelta(0), now - snapshot_time)


def period_key(period: str, moment: datetime) -> tuple[int, ...]:
    """Given 'daily', 'weekly', 'monthly' or 'yearly' and a time, return the UTC calendar bucket it falls in."""
    utc = moment.astimezone(timezone.utc)
    if period == "daily":
        return (utc.year, utc.month, utc.day)
    if period == "weekly":
        iso = utc.isocalendar()
        return (iso.year, iso.week)
    if period == "monthly":
        return (utc.year, utc.month)
    if period == "yearly":
        return (utc.year,)
    raise ValueError(f"unknown period {period!r}")


def retention_counts(times: Iterable[datetime]) -> dict[str, int]:
    """Given snapshot times, return how many distinct UTC days, ISO weeks, months and years hold a snapshot."""
    moments = list(times)
    return {period: len({period_key(period, moment) for moment in moments}) for period in PERIODS}


def retention_shortfalls(counts: dict[str, int], required: dict[str, int]) -> list[str]:
    """Given the counts and the policy's minimums, return one message per period that falls short."""
    return [f"{period}: {counts[period]} of {required[period]} required"
            for period in PERIODS if required.get(period, 0) > counts[period]]


def retention_data(times: list[datetime], required: dict[str, int]) -> dict[str, Any]:
    """Given snapshot times (any order) and the policy, return the check's recorded facts."""
    ordered = sorted(times)
    return {"snapshots": len(ordered), "counts": retention_counts(ordered),
            "required": {period: required.get(period, 0) for period in PERIODS},
            "oldest": ordered[0].isoformat() if ordered else None,
            "newest": ordered[-1].isoformat() if ordered else None, "calendar": "UTC, ISO weeks"}
