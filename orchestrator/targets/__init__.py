"""What is restored and how it is checked. One Protocol, one explicit registry; each kind's image and
documentation live in `restore_targets/<kind>/`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from orchestrator.checks import CheckContext, CheckOutcome
from orchestrator.config.schema import Target


class RestoreTarget(Protocol):
    kind: str
    default_image: str
    sandbox_user: str

    def verify(self, target: Target, context: CheckContext) -> Iterator[CheckOutcome]:
        """Given the job's target section and the restored data, yield each check's outcome in order."""


def target_kinds() -> list[str]:
    return sorted(all_targets())


def get_target(kind: str) -> RestoreTarget:
    """Given a target kind from a job, return it; raise KeyError naming the valid kinds."""
    targets = all_targets()
    if kind not in targets:
        raise KeyError(f"unknown target kind '{kind}' (valid: {', '.join(sorted(targets))})")
    return targets[kind]


def all_targets() -> dict[str, RestoreTarget]:
    from orchestrator.targets.files import FilesTarget

    return {"files": FilesTarget()}
