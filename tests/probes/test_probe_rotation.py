"""The rotating read-data check: n advances after each passing run, wraps after t, stays on a failing part,
and its position lives in the real run database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from orchestrator.checks import CheckContext, CheckOutcome, all_checks
from orchestrator.config import load_config
from orchestrator.db import Database
from orchestrator.db.models_probes import ReadDataRotation
from orchestrator.probes import rotation
from orchestrator.restic import Restic
from orchestrator.selection import RestorePlan

from tests.conftest import job_yaml

ROTATE = "    - type: restic-check-rotation\n      subsets: {subsets}\n{extra}"


def rotating_check(config_path: Path, database: Database, job_name: str = "web") -> CheckOutcome:
    config = load_config(config_path)
    job = config.job(job_name)
    restic = Restic(job.repository, config.state_dir / "restic-cache", 120)
    context = CheckContext(None, RestorePlan((), (), "nothing"), restic, "/restore", 120, job=job, database=database)
    [check] = job.target.checks
    return all_checks()[check.type].run(check, context)


def database_for(config_path: Path) -> Database:
    database = Database(load_config(config_path).database_url)
    database.migrate()
    return database


def test_n_advances_run_after_run_and_wraps_with_coverage(make_repository, config_dir):
    repository = make_repository()
    config = config_dir({"web": job_yaml(repository, ROTATE.format(subsets=3, extra=""))})
    database = database_for(config)

    outcomes = [rotating_check(config, database) for _ in range(4)]

    assert [outcome.status for outcome in outcomes] == ["passed"] * 4
    assert [outcome.data["mode"] for outcome in outcomes] == [f"read-data-subset={n}/3" for n in (1, 2, 3, 1)]
    assert [outcome.data["coverage_percent"] for outcome in outcomes] == [33.3, 66.7, 0.0, 33.3]
    assert "completed pass 1" in outcomes[2].detail and outcomes[2].data["last_full_pass_at"] is not None
    [row] = rotation.coverage_rows(database)
    assert (row["job"], row["subsets"], row["cycle"], row["checked"], row["next_subset"]) == ("web", 3, 2, [1], 2)
    assert row["last_full_pass_at"] is not None


def test_a_failing_part_is_read_again(make_repository, config_dir):
    repository = make_repository()
    repository.corrupt_largest_pack()
    config = config_dir({"web": job_yaml(repository, ROTATE.format(subsets=2, extra=""))})
    database = database_for(config)

    first = rotating_check(config, database)
    second = rotating_check(config, database)
    if first.status == "passed":  # the damaged pack is in part 2
        assert second.status == "failed" and second.data["subset"] == 2
        second = rotating_check(config, database)
    assert second.status == "failed"
    assert second.data["subset"] == (2 if first.status == "passed" else 1)
    assert "restic check found errors in part" in second.detail
    assert rotation.coverage_rows(database)[0]["next_subset"] == second.data["subset"]


def test_a_pass_older_than_the_period_fails(make_repository, config_dir):
    repository = make_repository()
    config = config_dir({"web": job_yaml(repository, ROTATE.format(subsets=4, extra="      period: 7d\n"))})
    database = database_for(config)
    repository_id = Restic(load_config(config).job("web").repository, Path(repository.cache), 60).repository_id()
    long_ago = datetime.now(timezone.utc) - timedelta(days=30)
    rotation.save(database, "web", repository_id, rotation.start(4, long_ago), None)

    outcome = rotating_check(config, database)

    assert outcome.status == "failed"
    assert "longer ago than the period" in outcome.detail and outcome.data["coverage_percent"] == 25.0


def test_position_arithmetic() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    position = rotation.start(2, now)
    position = rotation.advance(position, now + timedelta(days=1))
    assert (position.argument, position.checked, position.cycle) == ("2/2", (1,), 1)
    position = rotation.advance(position, now + timedelta(days=2))
    assert (position.argument, position.checked, position.cycle) == ("1/2", (), 2)
    assert position.last_full_pass_at == now + timedelta(days=2)
    assert position.behind(timedelta(days=1), now + timedelta(days=4))
    assert not position.behind(timedelta(days=3), now + timedelta(days=4))


def test_a_new_number_of_parts_starts_a_new_pass() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    stored = ReadDataRotation(job="web", repository_id="r", subsets=3, next_subset=3, cycle=4, checked=[1, 2],
                              cycle_started_at=now - timedelta(days=3), last_full_pass_at=now, updated_at=now)

    assert rotation.from_row(stored, 3, now).argument == "3/3"
    assert rotation.from_row(stored, 5, now) == rotation.start(5, now)
