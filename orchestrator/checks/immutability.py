"""`immutability`: probe the repository's backend for append-only or Object Lock protection, without modifying
it, and fail when what is measured contradicts the job's `protection.immutable`."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from orchestrator.checks import ERROR, CheckContext, CheckOutcome
from orchestrator.config.probes import ImmutabilityCheck
from orchestrator.probes import redact_tree
from orchestrator.probes.immutability import judge, probe_repository
from orchestrator.restic import backend_type

NAME = "immutability"


def check(config: ImmutabilityCheck, context: CheckContext) -> CheckOutcome:
    if context.job is None:
        return CheckOutcome(NAME, ERROR, "the check needs the job's declarations, which were not given")
    restic, protection = context.restic, context.job.protection
    repository_string = restic.repository_string
    backend = backend_type(repository_string)
    result = probe_repository(restic.repository, repository_string, config.sample, config.timeout.total_seconds(),
                              restic.redactor, random.SystemRandom(), datetime.now(timezone.utc))
    status, detail = judge(protection.immutable, result, backend, protection.offline)
    data = {"expected": protection.immutable, "backend": backend, "method": result.method,
            "verdict": result.verdict, "measured": result.measured, "protection": result.protection,
            "summary": result.summary, "declared": protection.offline, "checked": result.checked,
            "raw": result.raw}
    return CheckOutcome(NAME, status, restic.redactor.redact(detail), redact_tree(data, restic.redactor.redact))
