"""`restic check`, reading a subset of the data packs; independent of the restore, so it always runs."""

from __future__ import annotations

from orchestrator.checks import FAILED, PASSED, CheckContext, CheckOutcome
from orchestrator.config.schema import ResticCheck

NAME = "restic-check"
OUTPUT_TAIL_CHARACTERS = 600


def check(config: ResticCheck, context: CheckContext) -> CheckOutcome:
    outcome = context.restic.check(config.read_data_subset)
    mode = f"read-data-subset={config.read_data_subset}" if config.read_data_subset else "structure only"
    data = {"mode": mode}
    if outcome.passed:
        return CheckOutcome(NAME, PASSED, f"no errors found ({mode})", data)
    tail = outcome.output.strip()[-OUTPUT_TAIL_CHARACTERS:]
    return CheckOutcome(NAME, FAILED, f"restic check found errors ({mode}): {tail}", data)
