"""End to end: the real `restoreproof run` against a real REST server (rclone, append-only and not), restic on
the host and the sandbox still without network; then the 3-2-1-1-0 view over what the runs recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.config import load_config
from orchestrator.db import Database
from orchestrator.probes.protection import three_two_one_view

from tests.conftest import cli, job_yaml, write_tree
from tests.probes.conftest import file_listing

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("no_leftovers")]

USER, PASSWORD = "backup", "rest-pass-4e8a1c9b"
CHECKS = """\
    - type: tree
    - type: immutability
    - type: rpo
    - type: retention
      daily: 1
    - type: restic-check-rotation
      subsets: 2
"""


def run_json(config: Path, job: str) -> tuple[int, dict, str]:
    result = cli(config, "run", job, "--json")
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def by_name(payload: dict) -> dict[str, dict]:
    return {check["name"]: check for check in payload["checks"]}


def test_run_against_a_rest_server_records_location_and_append_only(rest_server, make_remote_repository,
                                                                     config_dir, tmp_path):
    guarded_root, open_root = tmp_path / "guarded", tmp_path / "open"
    guarded_root.mkdir()
    open_root.mkdir()
    guarded = rest_server(guarded_root, append_only=True, user=USER, password=PASSWORD)
    deletable = rest_server(open_root, append_only=False, user=USER, password=PASSWORD)
    site = make_remote_repository(f"rest:http://{USER}:{PASSWORD}@127.0.0.1:{guarded.port}/web/", name="site")
    other = make_remote_repository(f"rest:http://{USER}:{PASSWORD}@127.0.0.1:{deletable.port}/web/", name="other")
    declared = "protection:\n  system: website\n  site: Gravelines\n  country: FR\n  immutable: append-only\n"
    config = config_dir({
        "site": site.job_yaml(CHECKS, "rpo: 1d\n" + declared),
        "other": other.job_yaml(CHECKS, "rpo: 1d\n" + declared.replace("Gravelines", "Roubaix")),
    })
    listing = file_listing(guarded_root)

    code, payload, stderr = run_json(config, "site")
    again, second, _ = run_json(config, "site")

    assert (code, payload["status"]) == (0, "passed"), payload
    checks = by_name(payload)
    assert checks["immutability"]["status"] == "passed"
    assert checks["immutability"]["data"]["protection"] == "append-only"
    assert checks["immutability"]["data"]["raw"]["delete"]["status"] == 403
    assert checks["rpo"]["status"] == "passed" and checks["retention"]["status"] == "passed"
    assert checks["restic-check-rotation"]["data"]["mode"] == "read-data-subset=1/2"
    assert by_name(second)["restic-check-rotation"]["data"]["mode"] == "read-data-subset=2/2"
    assert "completed pass 1" in by_name(second)["restic-check-rotation"]["detail"] and again == 0
    repository = payload["repository"]
    assert (repository["backend"], repository["host"], repository["offsite_measured"]) == ("rest", "127.0.0.1", False)
    assert repository["facts"]["offsite"]["basis"] == "host 127.0.0.1 is this machine (127.0.0.1)"
    assert repository["facts"]["declared"]["site"] == "Gravelines"
    assert payload["sandbox"]["hardening"]["network"] == "none"
    # the probes and the restore wrote nothing but restic's own lock files, which restic removed
    assert {name: value for name, value in file_listing(guarded_root).items() if "/locks/" not in name} == listing

    code, failed, _ = run_json(config, "other")

    assert (code, failed["status"], failed["reason"]) == (1, "failed", "check-failed")
    assert by_name(failed)["immutability"]["status"] == "failed"
    assert "expected append-only, measured otherwise" in by_name(failed)["immutability"]["detail"]
    assert by_name(failed)["tree"]["status"] == "passed"

    database_text = (config.parent / "state" / "restoreproof.db").read_bytes().decode("latin-1")
    for text in (json.dumps(payload), json.dumps(failed), stderr, database_text):
        assert PASSWORD not in text

    loaded = load_config(config)
    [view] = three_two_one_view(loaded, Database(loaded.database_url))
    assert (view.system, view.jobs, view.copies, view.backup_copies) == ("website", ["other", "site"], 3, 2)
    assert view.rules == {"three_copies": True, "two_media": False, "one_offsite": False,
                          "one_offline_or_immutable": True, "zero_errors": False}
    assert view.offline_or_immutable_measured is True and view.met is False
    details = {copy.jobs[0]: copy for copy in view.copy_details}
    assert (details["site"].immutable, details["site"].immutable_source) == (True, "measured")
    assert (details["other"].immutable, details["other"].last_verified_status) == (False, "failed")
    assert details["site"].read_data_coverage[0]["last_full_pass_at"] is not None
    status = cli(config, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert [view["system"] for view in json.loads(status.stdout)["protection"]] == ["website"]
    text = cli(config, "status").stdout
    assert "website: 3-2-1-1-0 NOT MET" in text and "[NO] zero errors" in text
    assert "data read in pass 2: 0.0% of 2 parts" in text


def test_source_compare_tolerates_changed_files_and_catches_differences(make_repository, config_dir, tmp_path):
    source = tmp_path / "repo-source"
    mirror = tmp_path / "mirror"
    # A second view of the source, written before the backup: one file the same, one different.
    write_tree(mirror / str(source).lstrip("/"), {"data/report-1.csv": "a,b\n9,9\n", "data/report-2.csv": "a,b\n3,4\n"})
    repository = make_repository()
    assert repository.source == source
    (source / "www" / "index.html").write_text("edited after the backup\n")
    checks = "    - type: source-compare\n      files: 100\n"
    config = config_dir({"live": job_yaml(repository, checks),
                         "mirror": job_yaml(repository, checks + f"      source_root: {mirror}\n")})

    code, live, _ = run_json(config, "live")
    failed_code, mirrored, _ = run_json(config, "mirror")

    [check] = live["checks"]
    assert (code, check["status"]) == (0, "passed"), check
    assert check["data"]["tolerated"] == {f"{source}/www/index.html": "changed at the source since the snapshot"}
    assert check["data"]["matched"] == check["data"]["compared"] == check["data"]["sampled"] - 1
    [check] = mirrored["checks"]
    assert (failed_code, check["status"]) == (1, "failed"), check
    assert check["data"]["mismatched"] == [f"{source}/data/report-1.csv"]
    assert (check["data"]["compared"], check["data"]["matched"]) == (2, 1)
    assert f"differs from the source: {source}/data/report-1.csv" in check["detail"]
