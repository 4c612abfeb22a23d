"""Integrity checks, one module each, listed in one explicit registry keyed by the YAML `type`."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestrator.restic import Restic, Snapshot
from orchestrator.runners import Sandbox
from orchestrator.selection import RestorePlan

if TYPE_CHECKING:
    from orchestrator.config.schema import Job
    from orchestrator.db import Database

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
    # For checks about the repository rather than the restored data (orchestrator/checks/rpo.py, ...).
    job: Job | None = None
    database: Database | None = None
    run_id: int | None = None
    _tree: dict[str, RestoredEntry] | None = None
    _tree_problems: list[str] = field(default_factory=list)

    def restored_tree(self) -> tuple[dict[str, RestoredEntry], list[str]]:
        """Return every restored path (as it appears in the snapshot) with its type and size, scanned in the sandbox."""
        if self._tree is None:
            assert self.sandbox is not None
            result = self.sandbox.execute(["sh", "-c", TREE_SCAN, "scan", self.data_mount], self.timeout_seconds)
            self._tree, self._tree_problems = parse_tree_scan(result.output, self.data_mount)
            if result.exit_code != 0:
                self._tree_problems.append(f"scan exited with code {result.exit_code}")
        return self._tree, self._tree_problems


@dataclass(frozen=True)
class CheckSpec:
    """A check kind: the function that runs it, and whether it reads the restored data."""

    run: Callable[[Any, CheckContext], CheckOutcome]
    needs_restored_data: bool


# Names travel NUL-separated and apart from the stat lines, so no file name (newlines included) can
# forge an entry; stat prints one "mode size" line per name, in the same order.
TREE_SCAN = """\
find "$1" -mindepth 1 -print0 > /tmp/.names 2>/tmp/.errors
xargs -0 -r stat -c '%f %s' < /tmp/.names 2>>/tmp/.errors
printf '\\n\\0names\\0'; cat /tmp/.names; printf '\\0errors\\0'; cat /tmp/.errors
"""
_NAMES_MARK, _ERRORS_MARK = "\n\0names\0", "\0errors\0"


def parse_tree_scan(output: str, data_mount: str) -> tuple[dict[str, RestoredEntry], list[str]]:
    """Given TREE_SCAN's output, return {snapshot path: entry} and the problems met while scanning."""
    if _NAMES_MARK not in output or _ERRORS_MARK not in output:
        return {}, [f"the scan did not complete: {output.strip()[:300]}"]
    stats_part, rest = output.split(_NAMES_MARK, 1)
    names_part, errors = rest.rsplit(_ERRORS_MARK, 1)
    names = [name for name in names_part.split("\0") if name]
    stat_lines = [line for line in stats_part.split("\n") if line]
    problems = [line for line in errors.splitlines() if line.strip()]
    if len(names) != len(stat_lines):
        return {}, problems + [f"the scan found {len(names)} entries but could stat {len(stat_lines)}"]
    prefix = data_mount.rstrip("/")
    tree: dict[str, RestoredEntry] = {}
    for name, line in zip(names, stat_lines):
        mode_text, _, size_text = line.partition(" ")
        if not name.startswith(prefix + "/") or not size_text.isdigit():
            problems.append(f"unexpected scan entry: {name!r} {line!r}")
            continue
        tree[name[len(prefix):]] = RestoredEntry(_node_type(int(mode_text, 16)), int(size_text))
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
    from orchestrator.checks import immutability, restic_check_rotation, retention, rpo, source_compare

    return {
        "tree": CheckSpec(tree.check, needs_restored_data=True),
        "expect": CheckSpec(expect.check, needs_restored_data=True),
        "manifest": CheckSpec(manifest.check, needs_restored_data=True),
        "canary": CheckSpec(canary.check, needs_restored_data=True),
        "restic-check": CheckSpec(restic_check.check, needs_restored_data=False),
        "immutability": CheckSpec(immutability.check, needs_restored_data=False),
        "rpo": CheckSpec(rpo.check, needs_restored_data=False),
        "retention": CheckSpec(retention.check, needs_restored_data=False),
        "restic-check-rotation": CheckSpec(restic_check_rotation.check, needs_restored_data=False),
        "source-compare": CheckSpec(source_compare.check, needs_restored_data=True),
    }
