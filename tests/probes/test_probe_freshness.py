"""RPO and retention checks on real restic repositories whose snapshots were made at chosen times (`--time`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from orchestrator.config.probes import RetentionCheck
from orchestrator.probes.freshness import retention_counts

from tests.conftest import job_yaml
from tests.probes.conftest import file_listing, run_checks


def test_an_old_snapshot_fails_the_rpo_check_and_a_fresh_one_passes(make_repository, config_dir):
    repository = make_repository()
    repository.backup("--tag", "old", "--time", "2020-01-02 03:04:05")
    old_only = "snapshot:\n  tags: [old]\n"
    config = config_dir({
        "web": job_yaml(repository, "    - type: rpo\n", "rpo: 1d\n"),
        "stale": job_yaml(repository, "    - type: rpo\n", "rpo: 1d\n" + old_only),
        "override": job_yaml(repository, "    - type: rpo\n      max_age: 5000d\n", old_only),
        "no-rpo": job_yaml(repository, "    - type: rpo\n"),
    })
    before = file_listing(Path(repository.url))

    fresh = run_checks(config, "web")["rpo"]
    old = run_checks(config, "stale")["rpo"]

    assert fresh[0] == "passed" and fresh[2]["met"] is True and fresh[2]["snapshots"] == 2
    assert old[0] == "failed" and old[1].startswith("stale backup: newest snapshot")
    assert old[2]["newest_snapshot_time"].startswith("2020-01-0") and old[2]["met"] is False
    assert old[2]["age_seconds"] > 86400 * 365 and old[2]["rpo_seconds"] == 86400
    assert run_checks(config, "override")["rpo"][0] == "passed"
    assert run_checks(config, "no-rpo")["rpo"][0] == "error"
    assert file_listing(Path(repository.url)) == before


def test_too_few_snapshots_fail_retention_and_enough_pass(make_repository, config_dir):
    repository = make_repository()
    now = datetime.now(timezone.utc)
    for days_ago in (1, 40):
        moment = (now - timedelta(days=days_ago)).strftime("%Y-%m-%d %H:%M:%S")
        repository.backup("--time", moment)
    expected = retention_counts([now - timedelta(days=days) for days in (0, 1, 40)])
    strict = "    - type: retention\n      daily: 7\n      weekly: 4\n      monthly: 6\n"
    loose = f"    - type: retention\n      daily: 3\n      monthly: {expected['monthly']}\n"
    config = config_dir({"strict": job_yaml(repository, strict), "loose": job_yaml(repository, loose)})

    failed = run_checks(config, "strict")["retention"]
    passed = run_checks(config, "loose")["retention"]

    assert failed[0] == "failed"
    assert "daily: 3 of 7 required" in failed[1] and "monthly:" in failed[1]
    assert failed[2]["counts"]["daily"] == 3 and failed[2]["snapshots"] == 3
    assert passed[0] == "passed", passed[1]


def test_retention_counts_distinct_calendar_buckets_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    times = [datetime(2026, 1, 1, 0, 30, tzinfo=paris),   # 2025-12-31 23:30 UTC
             datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc),
             datetime(2026, 1, 1, 11, 0, tzinfo=timezone.utc),
             datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)]

    counts = retention_counts(times)

    assert counts == {"daily": 3, "weekly": 2, "monthly": 2, "yearly": 2}


def test_retention_policy_must_ask_for_something(tmp_path: Path) -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="at least one of daily"):
        RetentionCheck(type="retention")
