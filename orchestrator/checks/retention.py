"""`retention`: the repository must hold snapshots in enough distinct days, weeks, months and years (UTC)."""

from __future__ import annotations

from orchestrator.checks import ERROR, FAILED, PASSED, CheckContext, CheckOutcome
from orchestrator.config.probes import RetentionCheck
from orchestrator.probes.freshness import PERIODS, retention_data, retention_shortfalls
from orchestrator.restic import Snapshot

NAME = "retention"


def check(config: RetentionCheck, context: CheckContext) -> CheckOutcome:
    if context.job is None:
        return CheckOutcome(NAME, ERROR, "the check needs the job, which was not given")
    selection = context.job.snapshot
    return evaluate(context.restic.snapshots(selection.host, selection.tags, selection.paths), config)


def evaluate(snapshots: list[Snapshot], config: RetentionCheck) -> CheckOutcome:
    """Given the matching snapshots and the declared policy, return the check's outcome."""
    required = {period: getattr(config, period) for period in PERIODS}
    data = retention_data([snapshot.time for snapshot in snapshots], required)
    shortfalls = retention_shortfalls(data["counts"], required)
    policy = ", ".join(f"{count} {period}" for period, count in required.items() if count)
    if shortfalls:
        return CheckOutcome(NAME, FAILED, f"retention below policy ({policy}): {'; '.join(shortfalls)}", data)
    counts = ", ".join(f"{data['counts'][period]} {period}" for period, count in required.items() if count)
    return CheckOutcome(NAME, PASSED, f"{len(snapshots)} snapshots cover {counts} (policy {policy})", data)
