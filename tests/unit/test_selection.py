"""Which snapshot a run tests and which parts of it are restored."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from orchestrator.config.schema import RestoreScope, Sample, SnapshotSelection
from orchestrator.restic import FailureKind, Node, ResticError, Snapshot
from orchestrator.selection import RestoreItem, choose_snapshot, plan_restore

START = datetime(2024, 5, 1, tzinfo=timezone.utc)


def make_snapshot(snapshot_id: str, day: int) -> Snapshot:
    return Snapshot(snapshot_id, snapshot_id[:8], START + timedelta(days=day), "web1", "root", ("/srv",), ())


SNAPSHOTS = [
    make_snapshot("aaaa1111" + "0" * 56, 0),
    make_snapshot("aaaa2222" + "0" * 56, 1),
    make_snapshot("bbbb3333" + "0" * 56, 2),
    make_snapshot("cccc4444" + "0" * 56, 3),
]

LISTING = [
    Node("/srv", "dir", 0, 0o755),
    Node("/srv/www", "dir", 0, 0o755),
    Node("/srv/www/index.html", "file", 120, 0o644),
    Node("/srv/www/logo.png", "file", 3000, 0o644),
    Node("/srv/db", "dir", 0, 0o700),
    Node("/srv/db/data.sqlite", "file", 50000, 0o600),
    Node("/srv/www-old", "dir", 0, 0o755),
    Node("/srv/www-old/index.html", "file", 7, 0o644),
]


def test_latest_is_the_newest() -> None:
    chosen = choose_snapshot(SNAPSHOTS, SnapshotSelection(pick="latest"), random.Random(0))

    assert chosen.id.startswith("cccc4444")


def test_unique_id_prefix_is_found() -> None:
    chosen = choose_snapshot(SNAPSHOTS, SnapshotSelection(pick="id", id="bbbb"), random.Random(0))

    assert chosen.id.startswith("bbbb3333")


def test_full_id_is_found() -> None:
    chosen = choose_snapshot(SNAPSHOTS, SnapshotSelection(pick="id", id=SNAPSHOTS[1].id), random.Random(0))

    assert chosen == SNAPSHOTS[1]


@pytest.mark.parametrize("prefix", ["aaaa", "ffff"])
def test_ambiguous_or_unknown_id_is_not_found(prefix: str) -> None:
    with pytest.raises(ResticError) as raised:
        choose_snapshot(SNAPSHOTS, SnapshotSelection(pick="id", id=prefix), random.Random(0))

    assert raised.value.kind == FailureKind.SNAPSHOT_NOT_FOUND
    assert raised.value.detail == f"no unique snapshot matches id {prefix}"


def test_random_picks_only_among_the_last_n() -> None:
    selection = SnapshotSelection(pick="random", among_last=2)

    chosen = {choose_snapshot(SNAPSHOTS, selection, random.Random(seed)).short_id for seed in range(40)}

    assert chosen == {"bbbb3333", "cccc4444"}


def test_random_is_repeatable_with_the_same_seed() -> None:
    selection = SnapshotSelection(pick="random", among_last=4)

    first = [choose_snapshot(SNAPSHOTS, selection, random.Random(seed)) for seed in range(10)]
    second = [choose_snapshot(SNAPSHOTS, selection, random.Random(seed)) for seed in range(10)]

    assert first == second
    assert len(set(first)) > 1


@pytest.mark.parametrize("pick", ["latest", "random"])
def test_no_snapshots_is_snapshot_not_found(pick: str) -> None:
    with pytest.raises(ResticError) as raised:
        choose_snapshot([], SnapshotSelection.model_validate({"pick": pick}), random.Random(0))

    assert raised.value.kind == FailureKind.SNAPSHOT_NOT_FOUND


def test_whole_snapshot_is_one_dump_of_the_root() -> None:
    plan = plan_restore(LISTING, RestoreScope(), random.Random(0))

    assert plan.items == (RestoreItem("/", None),)
    assert plan.expected == tuple(LISTING)
    assert (plan.expected_files, plan.expected_bytes) == (4, 53127)
    assert plan.description == "whole snapshot"


def test_paths_restore_a_folder_and_a_single_file() -> None:
    plan = plan_restore(LISTING, RestoreScope(paths=["/srv/www/", "srv/db/data.sqlite"]), random.Random(0))

    assert plan.items == (RestoreItem("/srv/www", None), RestoreItem("/srv/db/data.sqlite", LISTING[5]))
    assert [node.path for node in plan.expected] == [
        "/srv/www", "/srv/www/index.html", "/srv/www/logo.png", "/srv/db/data.sqlite",
    ]
    assert (plan.expected_files, plan.expected_bytes) == (3, 53120)


def test_missing_path_is_path_not_found() -> None:
    with pytest.raises(ResticError) as raised:
        plan_restore(LISTING, RestoreScope(paths=["/srv/www", "/srv/mail"]), random.Random(0))

    assert raised.value.kind == FailureKind.PATH_NOT_FOUND
    assert raised.value.detail == "/srv/mail is not in the snapshot"


def test_sample_by_files_picks_that_many_files_in_path_order() -> None:
    plan = plan_restore(LISTING, RestoreScope(sample=Sample(files=2)), random.Random(7))

    paths = [item.path for item in plan.items]
    assert len(paths) == 2 and paths == sorted(paths)
    assert all(item.node is not None and item.node.type == "file" for item in plan.items)
    assert [node.path for node in plan.expected] == paths
    assert plan.description == "random sample of 2 of 4 files"


def test_sample_larger_than_the_snapshot_takes_every_file() -> None:
    plan = plan_restore(LISTING, RestoreScope(sample=Sample(files=50)), random.Random(0))

    assert plan.expected_files == 4
    assert plan.expected_bytes == 53127


@pytest.mark.parametrize(("percent", "files"), [(50, 2), (10, 1), (100, 4), (26, 2)])
def test_sample_by_percent_rounds_up(percent: float, files: int) -> None:
    plan = plan_restore(LISTING, RestoreScope(sample=Sample(percent=percent)), random.Random(0))

    assert plan.expected_files == files
    assert plan.description == f"random sample of {files} of 4 files"
