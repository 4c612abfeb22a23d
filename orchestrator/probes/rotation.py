"""The rotating full-data check: `restic check --read-data-subset n/t` with n advancing after each passing run,
wrapping after t, so that every pack is read once per pass of t runs. The position lives in the database
(table read_data_rotations), one row per job and repository."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from orchestrator.db import Database
from orchestrator.db.models_probes import ReadDataRotation
from orchestrator.db.probes_store import ProbeStore


@dataclass(frozen=True)
class Position:
    """Where a pass stands: the next part to read, the parts read in this pass, and when passes began and ended."""

    subsets: int
    next_subset: int
    cycle: int
    checked: tuple[int, ...]
    cycle_started_at: datetime
    last_full_pass_at: datetime | None = None

    @property
    def argument(self) -> str:
        return f"{self.next_subset}/{self.subsets}"

    @property
    def coverage(self) -> float:
        """The share of the repository read in the current pass, 0.0 to 1.0."""
        return len(set(self.checked)) / self.subsets

    def behind(self, period: timedelta, now: datetime) -> bool:
        """Whether the current pass has run longer than `period` without reading every part."""
        return now - self.cycle_started_at > period


def start(subsets: int, now: datetime) -> Position:
    return Position(subsets, 1, 1, (), now)


def advance(position: Position, now: datetime) -> Position:
    """Given a position whose next part was just read without errors, return the position for the next run."""
    checked = tuple(sorted(set(position.checked) | {position.next_subset}))
    following = position.next_subset % position.subsets + 1
    if len(checked) == position.subsets:
        return Position(position.subsets, following, position.cycle + 1, (), now, last_full_pass_at=now)
    return replace(position, next_subset=following, checked=checked)


def from_row(row: ReadDataRotation | None, subsets: int, now: datetime) -> Position:
    """Given the stored row (or None), return its position; a new or re-sized rotation starts again at part 1."""
    if row is None or row.subsets != subsets:
        return start(subsets, now)
    return Position(row.subsets, row.next_subset, row.cycle, tuple(row.checked or ()), row.cycle_started_at,
                    row.last_full_pass_at)


def load(database: Database, job: str, repository_id: str, subsets: int, now: datetime) -> Position:
    return from_row(ProbeStore(database).rotation(job, repository_id), subsets, now)


def save(database: Database, job: str, repository_id: str, position: Position, run_id: int | None) -> None:
    ProbeStore(database).save_rotation(
        job, repository_id, subsets=position.subsets, next_subset=position.next_subset, cycle=position.cycle,
        checked=list(position.checked), cycle_started_at=position.cycle_started_at,
        last_full_pass_at=position.last_full_pass_at, last_run_id=run_id)


def coverage_rows(database: Database, job: str | None = None) -> list[dict[str, Any]]:
    """Return, per job and repository, how much of the data the current pass has read and when the last pass ended."""
    rows = []
    for row in ProbeStore(database).rotations(job):
        checked = sorted(set(row.checked or ()))
        rows.append({"job": row.job, "repository_id": row.repository_id, "subsets": row.subsets,
                     "cycle": row.cycle, "checked": checked, "next_subset": row.next_subset,
                     "coverage_percent": round(100 * len(checked) / row.subsets, 1),
                     "cycle_started_at": row.cycle_started_at.isoformat(),
                     "last_full_pass_at": row.last_full_pass_at.isoformat() if row.last_full_pass_at else None})
    return rows
