"""Pure choices a run makes: which snapshot to test and which parts of it to restore."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from orchestrator.config.schema import RestoreScope, SnapshotSelection
from orchestrator.restic import FailureKind, Node, ResticError, Snapshot

SPECIAL_NODE_TYPES = {"dev", "chardev", "fifo", "socket", "irregular"}


@dataclass(frozen=True)
class RestoreItem:
    """One `restic dump` call: a folder (streamed as tar) or one file (streamed raw)."""

    path: str
    node: Node | None  # set for a single file, whose size and mode the tar header needs


@dataclass(frozen=True)
class RestorePlan:
    items: tuple[RestoreItem, ...]
    expected: tuple[Node, ...]
    description: str

    @property
    def expected_bytes(self) -> int:
        return sum(node.size for node in self.expected if node.type == "file")

    @property
    def expected_files(self) -> int:
        return sum(1 for node in self.expected if node.type == "file")


def choose_snapshot(snapshots: list[Snapshot], selection: SnapshotSelection, chooser: random.Random) -> Snapshot:
    """Given the matching snapshots (oldest first), return the one to test; raise ResticError if none fits."""
    if selection.pick == "id":
        assert selection.id is not None
        matches = [snapshot for snapshot in snapshots if snapshot.id.startswith(selection.id)]
        if len(matches) != 1:
            raise ResticError(FailureKind.SNAPSHOT_NOT_FOUND, f"no unique snapshot matches id {selection.id}")
        return matches[0]
    if not snapshots:
        raise ResticError(FailureKind.SNAPSHOT_NOT_FOUND, "no snapshot matches the job's host/tag/path filters")
    if selection.pick == "latest":
        return snapshots[-1]
    return chooser.choice(snapshots[-selection.among_last:])


def plan_restore(listing: list[Node], scope: RestoreScope, chooser: random.Random) -> RestorePlan:
    """Given a snapshot's listing and the job's scope, return what to dump and what must come out."""
    if scope.sample is not None:
        files = [node for node in listing if node.type == "file"]
        wanted = scope.sample.files if scope.sample.files is not None else math.ceil(
            len(files) * (scope.sample.percent or 0) / 100)
        chosen = sorted(chooser.sample(files, min(wanted, len(files))), key=lambda node: node.path)
        items = tuple(RestoreItem(node.path, node) for node in chosen)
        return RestorePlan(items, tuple(chosen), f"random sample of {len(chosen)} of {len(files)} files")
    if scope.paths:
        return _plan_paths(listing, scope.paths)
    return RestorePlan((RestoreItem("/", None),), tuple(listing), "whole snapshot")


def _plan_paths(listing: list[Node], paths: list[str]) -> RestorePlan:
    by_path = {node.path: node for node in listing}
    items = []
    expected: dict[str, Node] = {}
    for path in paths:
        path = "/" + path.strip("/")
        node = by_path.get(path)
        if node is None:
            raise ResticError(FailureKind.PATH_NOT_FOUND, f"{path} is not in the snapshot")
        items.append(RestoreItem(path, node if node.type == "file" else None))
        expected.update({candidate.path: candidate for candidate in listing if is_within(candidate.path, path)})
    return RestorePlan(tuple(items), tuple(expected.values()), f"paths {', '.join(paths)}")


def is_within(path: str, folder: str) -> bool:
    return folder == "/" or path == folder or path.startswith(folder.rstrip("/") + "/")
