"""Probes that measure, without modifying it, how a repository is protected: where it is (location.py),
whether it refuses deletion (rest.py, s3.py), and what can only be declared (declared.py). Also the
pure logic behind the freshness, retention and rotating read-data checks, and the 3-2-1-1-0 view.

Credentials a probe needs (URL user-info, env_file values) are read into memory only, never logged,
stored or shown: every text a probe returns passes through the run's Redactor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from orchestrator.config.schema import Repository
from orchestrator.restic import read_env_file

# What a probe found: the repository refuses deletion, accepts it, or the probe could not tell.
PROTECTED, UNPROTECTED, INCONCLUSIVE, NOT_MEASURABLE = "protected", "unprotected", "inconclusive", "not-measurable"


@dataclass(frozen=True)
class ProbeResult:
    """One immutability probe: its method, what it found, and the raw (redacted) answers it was based on."""

    method: str
    verdict: str
    protection: str | None
    summary: str
    raw: dict[str, Any] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)

    @property
    def measured(self) -> bool:
        return self.verdict in (PROTECTED, UNPROTECTED)


def backend_environment(repository: Repository) -> dict[str, str]:
    """Given a job's repository, return the environment restic sees for the backend (process env + env_file)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("RESTIC_")}
    if repository.env_file is not None:
        environment.update(read_env_file(repository.env_file))
    return environment


def redact_tree(value: Any, redact: Any) -> Any:
    """Given JSON-like data and a redact(text) function, return the data with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_tree(item, redact) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_tree(item, redact) for item in value]
    return value
