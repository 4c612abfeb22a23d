"""Integrity checks, one module each, listed in one explicit registry keyed by the YAML `type`."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.restic import Restic, Snapshot
from orchestrator.runners import Sandbox
from orchestrator.selection import RestorePlan

PASSED, FAILED, SKIPPED, ERROR = "passed", "failed", "skipped", "error"


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    status: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class RestoredEntry:
    type: str
    size: int


@dataclass
class CheckContext:
    """What a check may look at: the sandbox holding restored data, the plan, and the repository."""

    sandbox: Sandbox | None
    plan: RestorePlan
    restic: Restic
    data_mount: str
    timeout_seconds: float
    restore_failure: str | None = None
    snapshot: Snapshot | None = None
    _tree: dict[str, RestoredEntry] | None = None
    _tree_problems: list[str] = field(default_factory=list)

    def restored_tree(self) -> tuple[dict[str, RestoredEntry], list[str]]:
        """Return every restored path (as it appears in the snapshot) with its type and size, scanned in the sandbox."""
        if self._tree is None:
            assert self.sandbox is not None
            result = self.sandbox.execute(
                ["find", self.data_mount, "-mindepth", "1", "-exec", "stat", "-c", "%f %s %n", "{}", "+"],
                self.timeout_seconds)
            self._tree, self._tree_problems = parse_tree_scan(result.output, self.data_mount)
            if result.exit_code != 0:
                self._tree_problems.append(f"scan exited with code {result.exit_code}")
        return self._tree, self._tree_problems


@dataclass(frozen=True)
class CheckSpec:
    """A check kind: the function that runs it, and whether it reads the restored data."""

    run: Callable[[Any, CheckContext], CheckOutcome]
    needs_restored_data: bool


def parse_tree_scan(output: str, data_mount: str) -> tuple[dict[str, RestoredEntry], list[str]]:
    """Given `stat -c '%f %s %n'` lines, return {snapshot path: entry} and the lines that were not entries."""
    tree: dict[str, RestoredEntry] = {}
    problems: list[str] = []
    prefix = data_mount.rstrip("/")
    for line in output.splitlines():
        parts = line.split(" ", 2)
        if len(parts) != 3 or not parts[2].startswith(prefix + "/"):
            problems.append(line)
            continue
        try:
            mode, size = int(parts[0], 16), int(parts[1])
        except ValueError:
            problems.append(line)
            continue
        tree[parts[2][len(prefix):]] = RestoredEntry(_node_type(mode), size)
    return tree, problems


def _node_type(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISREG(mode):
        return "file"
    return "special"


def timed(name: str, action: Callable[[], CheckOutcome]) -> CheckOutcome:
    """Run a check, time it, and turn an unexpected exception into an `error` outcome (never a pass)."""
    started = time.monotonic()
    try:
        outcome = action()
    except Exception as error:  # noqa: BLE001 - one broken check must not hide the others' results
        outcome = CheckOutcome(name, ERROR, f"the check could not run: {error}")
    return CheckOutcome(outcome.name, outcome.status, outcome.detail, outcome.data, time.monotonic() - started)


def skipped(name: str, reason: str) -> CheckOutcome:
    return CheckOutcome(name, SKIPPED, f"not run: {reason}")


def all_checks() -> dict[str, CheckSpec]:
    """Return every check kind by its YAML `type`."""
    from orchestrator.checks import canary, expect, manifest, restic_check, tree

    return {
        "tree": CheckSpec(tree.check, needs_restored_data=True),
        "expect": CheckSpec(expect.check, needs_restored_data=True),
        "manifest": CheckSpec(manifest.check, needs_restored_data=True),
        "canary": CheckSpec(canary.check, needs_restored_data=True),
        "restic-check": CheckSpec(restic_check.check, needs_restored_data=False),
    }
