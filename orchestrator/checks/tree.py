"""The restored tree matches the snapshot's own listing: every entry present, same type, same size."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.checks import FAILED, PASSED, CheckContext, CheckOutcome
from orchestrator.config.schema import TreeCheck
from orchestrator.selection import SPECIAL_NODE_TYPES

NAME = "tree"
SHOWN_PROBLEMS = 10


def check(config: TreeCheck, context: CheckContext) -> CheckOutcome:
    restored, scan_problems = context.restored_tree()
    expected = [node for node in context.plan.expected if node.type not in SPECIAL_NODE_TYPES]
    specials = len(context.plan.expected) - len(expected)
    problems = [f"unreadable in sandbox: {line}" for line in scan_problems]
    for node in expected:
        entry = restored.get(node.path)
        if entry is None:
            problems.append(f"missing: {node.path}")
        elif entry.type != node.type:
            problems.append(f"type differs: {node.path} is {entry.type}, snapshot says {node.type}")
        elif node.type == "file" and entry.size != node.size:
            problems.append(f"size differs: {node.path} has {entry.size} bytes, snapshot says {node.size}")
    problems += _unexpected(restored, {node.path for node in context.plan.expected})
    files = [node for node in expected if node.type == "file"]
    data = {"expected_entries": len(expected), "restored_entries": len(restored), "files": len(files),
            "bytes": sum(node.size for node in files), "special_files_not_materialised": specials,
            "problems": len(problems)}
    if problems:
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        more = f" (and {len(problems) - SHOWN_PROBLEMS} more)" if len(problems) > SHOWN_PROBLEMS else ""
        return CheckOutcome(NAME, FAILED, f"{len(problems)} difference(s) from the snapshot listing: {shown}{more}", data)
    return CheckOutcome(NAME, PASSED, f"{len(expected)} entries match the snapshot listing "
                                      f"({len(files)} files, {data['bytes']} bytes)", data)


def _unexpected(restored: Mapping[str, object], expected_paths: set[str]) -> list[str]:
    ancestors = {parent for path in expected_paths for parent in _parents(path)}
    return [f"not in snapshot: {path}" for path in sorted(restored) if path not in expected_paths and path not in ancestors]


def _parents(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:index]) for index in range(1, len(parts))]
