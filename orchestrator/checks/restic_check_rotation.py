"""`restic-check-rotation`: `restic check --read-data-subset n/t`, reading the next part each run, so that every
pack is read once per pass of t runs. The position is kept per job and repository (orchestrator/probes/rotation.py).

A part that fails is read again next run (n does not advance) until the repository is repaired.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from orchestrator.checks import ERROR, FAILED, PASSED, CheckContext, CheckOutcome
from orchestrator.config.probes import RotatingCheck
from orchestrator.probes import rotation

NAME = "restic-check-rotation"
OUTPUT_TAIL_CHARACTERS = 600


def check(config: RotatingCheck, context: CheckContext) -> CheckOutcome:
    if context.job is None or context.database is None:
        return CheckOutcome(NAME, ERROR, "the check needs the job and the run database, which were not given")
    now = datetime.now(timezone.utc)
    repository_id = context.restic.repository_id()
    position = rotation.load(context.database, context.job.name, repository_id, config.subsets, now)
    outcome = context.restic.check(position.argument)
    if not outcome.passed:
        rotation.save(context.database, context.job.name, repository_id, position, context.run_id)
        tail = outcome.output.strip()[-OUTPUT_TAIL_CHARACTERS:]
        return CheckOutcome(NAME, FAILED, f"restic check found errors in part {position.argument}: {tail}",
                            _data(position, position, repository_id))
    following = rotation.advance(position, now)
    rotation.save(context.database, context.job.name, repository_id, following, context.run_id)
    data = _data(position, following, repository_id)
    if following.cycle > position.cycle:
        return CheckOutcome(NAME, PASSED, f"read part {position.argument} without errors: completed pass "
                                          f"{position.cycle}, every part of the data has now been read", data)
    detail = (f"read part {position.argument} without errors; pass {following.cycle} has read "
              f"{len(following.checked)} of {following.subsets} parts ({100 * following.coverage:.0f}%)")
    if config.period is not None and following.behind(config.period, now):
        return CheckOutcome(NAME, FAILED, f"{detail}, but it began {following.cycle_started_at:%Y-%m-%d %H:%M} "
                                          f"UTC, longer ago than the period of {config.period}", data)
    return CheckOutcome(NAME, PASSED, detail, data)


def _data(read: rotation.Position, following: rotation.Position, repository_id: str) -> dict[str, Any]:
    return {"mode": f"read-data-subset={read.argument}", "subset": read.next_subset, "subsets": read.subsets,
            "repository_id": repository_id, "cycle": following.cycle, "checked": list(following.checked),
            "coverage_percent": round(100 * following.coverage, 1), "next_subset": following.next_subset,
            "cycle_started_at": following.cycle_started_at.isoformat(),
            "last_full_pass_at": following.last_full_pass_at.isoformat() if following.last_full_pass_at else None}
