"""`source-compare`: a random sample of restored files must match the same files at the source, on this host.

Files changed at the source since the snapshot (modified or status-changed after the snapshot's time) or
gone from it are tolerated and counted, not compared: only a file the source has not touched since the
backup and whose content differs is a failure. Digests of restored files are computed inside the sandbox,
so restored data is never read (nor its symlinks followed) on the host; source files are read on the host,
regular files only.
"""

from __future__ import annotations

import hashlib
import os
import random
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

from orchestrator.checks import ERROR, FAILED, PASSED, CheckContext, CheckOutcome
from orchestrator.config.probes import SourceCompareCheck
from orchestrator.restic import Node

NAME = "source-compare"
SHOWN_PROBLEMS = 10
CHUNK = 1 << 20


def check(config: SourceCompareCheck, context: CheckContext) -> CheckOutcome:
    if context.sandbox is None or context.snapshot is None:
        return CheckOutcome(NAME, ERROR, "the check needs the restored data and the snapshot, which were not given")
    files = [node for node in context.plan.expected if node.type == "file"]
    chosen = sorted(random.SystemRandom().sample(files, min(config.files, len(files))), key=lambda node: node.path)
    tolerated, candidates = classify_sources(chosen, config.source_root, context.snapshot.time)
    restored = _restored_digests(context, [node.path for node in candidates])
    mismatched, unreadable = [], []
    for node in candidates:
        digest = restored.get(node.path)
        if digest is None:
            unreadable.append(node.path)
        elif digest != _source_digest(_source_path(config.source_root, node.path)):
            mismatched.append(node.path)
    return _outcome(len(chosen), len(candidates), tolerated, mismatched, unreadable)


def classify_sources(nodes: list[Node], source_root: Path, snapshot_time: datetime) -> tuple[dict[str, str], list[Node]]:
    """Given sampled file nodes, return ({path: why it is not compared}, the nodes to compare)."""
    tolerated: dict[str, str] = {}
    candidates = []
    cutoff = snapshot_time.timestamp()
    for node in nodes:
        if "\n" in node.path or "\\" in node.path:
            tolerated[node.path] = "name sha256sum would escape; not compared"
            continue
        try:
            status = os.lstat(_source_path(source_root, node.path))
        except OSError:
            tolerated[node.path] = "gone from the source"
            continue
        if not stat.S_ISREG(status.st_mode):
            tolerated[node.path] = "no longer a regular file at the source"
        elif max(status.st_mtime, status.st_ctime) > cutoff:
            tolerated[node.path] = "changed at the source since the snapshot"
        else:
            candidates.append(node)
    return tolerated, candidates


def _source_path(source_root: Path, snapshot_path: str) -> Path:
    return source_root / snapshot_path.lstrip("/")


def _source_digest(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb", opener=lambda name, flags: os.open(name, flags | os.O_NOFOLLOW)) as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _restored_digests(context: CheckContext, paths: list[str]) -> dict[str, str]:
    if not paths:
        return {}
    assert context.sandbox is not None
    mount = context.data_mount.rstrip("/")
    result = context.sandbox.execute(["sha256sum", "--", *[mount + path for path in paths]], context.timeout_seconds)
    digests = {}
    for line in result.output.splitlines():
        digest, separator, name = line.partition("  ")
        if separator and name.startswith(mount + "/"):
            digests[name[len(mount):]] = digest.strip()
    return digests


def _outcome(sampled: int, compared: int, tolerated: dict[str, str], mismatched: list[str],
             unreadable: list[str]) -> CheckOutcome:
    data: dict[str, Any] = {"sampled": sampled, "compared": compared, "matched": compared - len(mismatched) - len(unreadable),
                            "mismatched": mismatched, "unreadable": unreadable, "tolerated": tolerated}
    if mismatched or unreadable:
        problems = [f"differs from the source: {path}" for path in mismatched]
        problems += [f"unreadable in the sandbox: {path}" for path in unreadable]
        return CheckOutcome(NAME, FAILED, f"{len(problems)} of {compared} compared file(s) do not match the source, "
                                          f"which has not changed them since the snapshot: "
                                          f"{'; '.join(problems[:SHOWN_PROBLEMS])}", data)
    if compared == 0:
        return CheckOutcome(NAME, ERROR, f"none of the {sampled} sampled file(s) could be compared: "
                                          f"{len(tolerated)} changed or gone at the source", data)
    return CheckOutcome(NAME, PASSED, f"{compared} file(s) match the source; {len(tolerated)} changed or gone "
                                      f"since the snapshot, not compared", data)
