"""End to end: the real CLI, real restic repositories, a real Docker engine."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_FILES, cli, job_yaml, managed_leftovers

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("no_leftovers")]

ALL_CHECKS = """\
    - type: tree
    - type: expect
      paths:
        - path: www/index.html
          min_size: 100
        - path: data/report-*.csv
          min_count: 2
    - type: manifest
      path: {source}/SHA256SUMS
    - type: canary
      path: {source}/canary.txt
      content: "canary-content-7f3a9c\\n"
    - type: restic-check
      read_data_subset: 100%
"""


def run_json(config: Path, job: str, **kwargs) -> tuple[subprocess.CompletedProcess[str], dict]:  # type: ignore[no-untyped-def]
    result = cli(config, "run", job, "--json", **kwargs)
    assert result.stdout.strip(), result.stderr
    return result, json.loads(result.stdout)


def statuses(payload: dict) -> dict[str, str]:
    return {check["name"]: check["status"] for check in payload["checks"]}


def test_healthy_snapshot_passes_every_check(make_repository, config_dir):
    repository = make_repository()
    config = config_dir({"web": job_yaml(repository, ALL_CHECKS.format(source=repository.source),
                                         "rto: 1h\nrpo: 1d\n")})
    result, payload = run_json(config, "web")
    assert result.returncode == 0, result.stderr
    assert payload["status"] == "passed"
    assert statuses(payload) == {"tree": "passed", "expect": "passed", "manifest": "passed",
                                 "canary": "passed", "restic-check": "passed"}
    assert payload["snapshot"]["id"] == repository.restic("snapshots", "--json").stdout.split('"id":"')[1][:64]
    assert payload["restored"]["files"] == len(SAMPLE_FILES) + 1  # and SHA256SUMS
    assert payload["restored"]["bytes"] == sum(p.stat().st_size for p in repository.source.rglob("*") if p.is_file())
    assert payload["targets"] == {"rto_seconds": 3600.0, "rto_met": True, "rpo_seconds": 86400.0, "rpo_met": True}
    assert set(payload["durations"]) == {"restore", "checks", "boot", "total"}
    assert payload["sandbox"]["hardening"]["network"] == "none"
    assert payload["versions"]["restic"].startswith("0.")


def test_readable_summary_and_history(make_repository, config_dir):
    repository = make_repository()
    config = config_dir({"web": job_yaml(repository)})
    result = cli(config, "run", "web")
    assert result.returncode == 0, result.stderr
    assert "web: PASSED" in result.stdout and "[PASS] tree" in result.stdout
    assert "restore" in result.stderr  # progress phases
    history = cli(config, "history", "web")
    assert history.returncode == 0 and " passed " in history.stdout
    listed = json.loads(cli(config, "history", "--json", "--limit", "1").stdout)
    assert [run["status"] for run in listed] == ["passed"]


def test_flipped_byte_in_a_data_pack_fails_the_run(make_repository, config_dir):
    repository = make_repository()
    repository.corrupt_largest_pack()
    config = config_dir({"web": job_yaml(repository, ALL_CHECKS.format(source=repository.source))})
    result, payload = run_json(config, "web")
    assert result.returncode == 1
    assert payload["status"] == "failed"
    assert payload["reason"] == "corrupted-data"
    assert "passed" not in statuses(payload).values()
    assert statuses(payload)["restic-check"] == "failed"
    assert statuses(payload)["tree"] == "skipped"


def test_wrong_password_fails_with_a_plain_message(make_repository, config_dir, tmp_path):
    repository = make_repository()
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password\n")
    config = config_dir({"web": job_yaml(repository).replace(str(repository.password_file), str(wrong))})
    result, payload = run_json(config, "web")
    assert result.returncode == 1
    assert payload["status"] == "failed" and payload["reason"] == "wrong-password"
    assert "wrong password" in payload["message"]
    assert "Traceback" not in result.stderr


def test_missing_repository_fails_and_unreachable_server_cannot_run(make_repository, config_dir, tmp_path):
    repository = make_repository()
    missing = job_yaml(repository).replace(f"url: {repository.url}\n", f"url: {tmp_path / 'nowhere'}\n")
    unreachable = job_yaml(repository).replace(f"url: {repository.url}\n", "url: rest:http://127.0.0.1:9/repo/\n")
    config = config_dir({"missing": missing, "unreachable": unreachable})
    result, payload = run_json(config, "missing")
    assert (result.returncode, payload["reason"]) == (1, "repository-not-found")
    result, payload = run_json(config, "unreachable")
    assert (result.returncode, payload["status"], payload["reason"]) == (3, "error", "repository-unreachable")
    assert "Traceback" not in result.stderr


def test_missing_expected_file_fails(make_repository, config_dir):
    repository = make_repository()
    checks = "    - type: expect\n      paths:\n        - path: www/index.html\n        - path: db/dump.sql\n"
    config = config_dir({"web": job_yaml(repository, checks)})
    result, payload = run_json(config, "web")
    assert result.returncode == 1
    assert payload["checks"][0]["status"] == "failed"
    assert "missing: db/dump.sql" in payload["checks"][0]["detail"]


def test_manifest_mismatch_and_wrong_canary_fail_without_leaking_the_canary(make_repository, config_dir):
    repository = make_repository()
    sums = repository.source / "SHA256SUMS"
    sums.write_text(sums.read_text().replace(sums.read_text()[:8], "00000000", 1))
    repository.backup()
    checks = (f"    - type: manifest\n      path: {repository.source}/SHA256SUMS\n"
              f"    - type: canary\n      path: {repository.source}/canary.txt\n      content: secret-canary-expected\n")
    config = config_dir({"web": job_yaml(repository, checks)})
    result, payload = run_json(config, "web")
    assert result.returncode == 1
    assert statuses(payload) == {"manifest": "failed", "canary": "failed"}
    assert f"1 of {len(SAMPLE_FILES)} file(s) do not match" in payload["checks"][0]["detail"]
    database = (config.parent / "state" / "restoreproof.db").read_bytes()
    for text in (result.stdout, result.stderr, database.decode("latin-1")):
        assert "secret-canary-expected" not in text


BOOT = "  boot:\n    command: {command}\n{probe}    timeout: {timeout}\n"


def test_boot_command_that_exits_non_zero_fails_with_its_log_tail(make_repository, config_dir):
    repository = make_repository()
    boot = BOOT.format(command='[sh, -c, "echo starting service; echo fatal: cannot open database >&2; exit 3"]',
                       probe="", timeout="20s")
    config = config_dir({"web": job_yaml(repository, extra=boot)})
    result, payload = run_json(config, "web")
    assert result.returncode == 1
    assert statuses(payload)["boot"] == "failed"
    assert "exited with code 3" in payload["checks"][-1]["detail"]
    assert "fatal: cannot open database" in payload["log_tail"]


def test_port_that_never_opens_fails_and_http_probe_passes(make_repository, config_dir):
    repository = make_repository()
    closed = BOOT.format(command='[sh, -c, "echo listening soon; sleep 300"]', probe="    tcp_port: 8080\n",
                         timeout="3s")
    served = BOOT.format(command=f"[httpd, -f, -p, '8080', -h, /restore{repository.source}/www]",
                         probe="    http:\n      port: 8080\n      path: /index.html\n      contains: hello from\n",
                         timeout="20s")
    config = config_dir({"closed": job_yaml(repository, extra=closed), "served": job_yaml(repository, extra=served)})
    result, payload = run_json(config, "closed")
    assert result.returncode == 1
    assert "not ready within 3s" in payload["checks"][-1]["detail"]
    assert "listening soon" in payload["log_tail"]
    result, payload = run_json(config, "served")
    assert result.returncode == 0, payload
    assert payload["checks"][-1]["data"]["ready_seconds"] > 0


def test_quota_refuses_before_restoring_anything(make_repository, config_dir):
    repository = make_repository()
    config = config_dir({"web": job_yaml(repository, extra="restore:\n  quota: 1MiB\n")})
    result, payload = run_json(config, "web")
    assert result.returncode == 1
    assert payload["reason"] == "quota-exceeded"
    assert payload["restored"]["bytes"] is None
    assert "nothing was restored" in payload["message"]


def test_sample_and_paths_restore_only_part_of_the_snapshot(make_repository, config_dir):
    repository = make_repository()
    sample = job_yaml(repository, extra="restore:\n  sample:\n    files: 2\n")
    paths = job_yaml(repository, extra=f"restore:\n  paths: [{repository.source}/data]\n")
    config = config_dir({"sample": sample, "paths": paths})
    result, payload = run_json(config, "sample")
    assert result.returncode == 0, payload
    assert payload["restored"]["files"] == 2
    result, payload = run_json(config, "paths")
    assert result.returncode == 0, payload
    assert payload["restored"]["files"] == 3


def test_run_all_prints_a_scorecard(make_repository, config_dir, tmp_path):
    repository = make_repository()
    wrong = tmp_path / "wrong.password"
    wrong.write_text("nope\n")
    config = config_dir({"good": job_yaml(repository),
                         "bad": job_yaml(repository).replace(str(repository.password_file), str(wrong))})
    result = cli(config, "run", "--all")
    assert result.returncode == 1
    lines = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()
             if line.startswith(("good ", "bad "))}
    assert lines == {"good": "passed", "bad": "failed"}
    assert "1 of 2 job(s) passed" in result.stdout


def test_docker_engine_down_is_an_error_not_a_pass(make_repository, config_dir):
    repository = make_repository()
    config = config_dir({"web": job_yaml(repository)})
    result, payload = run_json(config, "web", env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert (result.returncode, payload["status"], payload["reason"]) == (3, "error", "runner-unavailable")
    assert "Docker engine unreachable" in payload["message"]


def slow_restic(tmp_path: Path) -> dict[str, str]:
    """A restic that waits before dumping, so a test can act mid-restore (restic itself still does the work)."""
    wrapper = tmp_path / "slow-restic"
    wrapper.write_text('#!/bin/sh\nif [ "$1" = dump ]; then sleep 60; fi\nexec restic "$@"\n')
    wrapper.chmod(0o755)
    return {"RESTOREPROOF_RESTIC": str(wrapper)}


def start_run(config: Path, job: str, env: dict[str, str]) -> subprocess.Popen[str]:
    import os

    return subprocess.Popen([sys.executable, "-m", "orchestrator", "--config", str(config), "run", job, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env})


def wait_for_sandbox(docker_client, installation: Path, timeout: float = 60) -> list:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    label = {"label": f"io.restoreproof.installation={installation}"}
    while time.monotonic() < deadline:
        containers = docker_client.containers.list(filters=label, sparse=True)
        if containers:
            return containers
        time.sleep(0.2)
    raise AssertionError("no sandbox appeared")


def wait_for_command_line(text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        command_lines = subprocess.run(["ps", "-eo", "args", "-ww"], capture_output=True, text=True).stdout
        if text in command_lines:
            return command_lines
        time.sleep(0.2)
    raise AssertionError(f"no process with {text!r} in its command line appeared")


def test_secrets_stay_out_of_the_sandbox_command_lines_and_records(make_repository, config_dir, tmp_path,
                                                                   docker_client, installation):
    repository = make_repository()
    config = config_dir({"web": job_yaml(repository)})
    process = start_run(config, "web", slow_restic(tmp_path))
    try:
        command_lines = wait_for_command_line(f"{tmp_path}/slow-restic dump")
        for container in wait_for_sandbox(docker_client, installation):
            inspected = json.dumps(docker_client.api.inspect_container(container.id))
            assert "Env" in inspected and repository.password not in inspected
        assert repository.password not in command_lines
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    database = (config.parent / "state" / "restoreproof.db").read_bytes().decode("latin-1")
    for text in (stdout, stderr, database):
        assert repository.password not in text


def test_ctrl_c_mid_restore_records_aborted_and_removes_the_sandbox(make_repository, config_dir, tmp_path,
                                                                   docker_client, installation):
    repository = make_repository()
    config = config_dir({"web": job_yaml(repository)})
    process = start_run(config, "web", slow_restic(tmp_path))
    wait_for_sandbox(docker_client, installation)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 130
    assert managed_leftovers(docker_client, installation) == []
    runs = json.loads(cli(config, "history", "--json").stdout)
    assert [(run["status"], run["reason"]) for run in runs] == [("aborted", "interrupted")]


def test_killed_mid_restore_then_next_start_cleans_up_and_records_aborted(make_repository, config_dir, tmp_path,
                                                                         docker_client, installation):
    repository = make_repository()
    config = config_dir({"web": job_yaml(repository)})
    process = start_run(config, "web", slow_restic(tmp_path))
    wait_for_sandbox(docker_client, installation)
    process.kill()
    process.communicate(timeout=30)
    subprocess.run(["pkill", "-f", str(tmp_path / "slow-restic")], check=False)
    assert managed_leftovers(docker_client, installation) != []
    result = cli(config, "run", "web", "--json")
    assert result.returncode == 0, result.stderr
    runs = json.loads(cli(config, "history", "--json").stdout)
    assert [run["status"] for run in runs] == ["passed", "aborted"]
    assert runs[1]["reason"] == "process-gone"
    assert not list(Path(tempfile.gettempdir()).glob("restoreproof-build-*"))


def test_snapshots_lists_the_repository(make_repository, config_dir):
    repository = make_repository()
    second = repository.backup("--tag", "nightly")
    config = config_dir({"web": job_yaml(repository)})
    listed = json.loads(cli(config, "snapshots", "web", "--json").stdout)
    assert listed[0]["id"].startswith(second)  # restic 0.14 reports the short id after a backup
    assert len(listed) == 2
    text = cli(config, "snapshots", "web").stdout
    assert second[:8] in text and "2 snapshot(s)" in text


def test_bad_yaml_gives_located_errors_and_exit_2(config_dir):
    config = config_dir({
        "web": "repository:\n  url: /srv/repo\n  password_file: /etc/pw\ntarget:\n  checks:\n"
               "    - type: tree\n    - type: manifest\n      pth: SHA256SUMS\n",
        "db": "repository:\n  url: /srv/repo\n  password: hunter2\n",
    })
    result = cli(config, "validate")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert "jobs/web.yml:7:7: job 'web': target.checks[1].path: field required" in lines
    assert "jobs/web.yml:8:7: job 'web': target.checks[1].pth: extra inputs are not permitted" in lines
    assert any(line.startswith("jobs/db.yml:3:3: job 'db': repository.password:") for line in lines)
    assert cli(config, "run", "web").returncode == 2


def tree_packs(repository) -> list[Path]:  # type: ignore[no-untyped-def]
    """Return the pack files that hold the repository's directory trees (found through its indexes)."""
    packs = set()
    for index_id in repository.restic("list", "index").stdout.split():
        for pack in json.loads(repository.restic("cat", "index", index_id).stdout)["packs"]:
            if any(blob["type"] == "tree" for blob in pack["blobs"]):
                packs.add(pack["id"])
    return [Path(repository.url, "data", pack[:2], pack) for pack in packs]


def test_a_tree_pack_damaged_after_a_passing_run_fails_the_next_run(make_repository, config_dir):
    repository = make_repository()
    config = config_dir({"web": job_yaml(repository)})
    assert run_json(config, "web")[1]["status"] == "passed"
    for pack in tree_packs(repository):  # damaged rather than deleted: restic retries a missing file for ~100 s
        content = bytearray(pack.read_bytes())
        content[len(content) // 2] ^= 0xFF
        pack.chmod(0o600)
        pack.write_bytes(bytes(content))
    result, payload = run_json(config, "web")
    assert (result.returncode, payload["status"]) == (1, "failed"), payload["message"]


def test_an_empty_snapshot_proves_nothing_and_fails(make_repository, config_dir, tmp_path):
    repository = make_repository()
    empty = tmp_path / "empty-mount-point"
    empty.mkdir()
    repository.source = empty
    repository.backup()
    config = config_dir({"web": job_yaml(repository)})
    result, payload = run_json(config, "web")
    assert (result.returncode, payload["reason"]) == (1, "nothing-to-verify")


def test_awkward_names_and_read_only_folders_restore_and_pass(make_repository, config_dir):
    files: dict[str, str | bytes] = {"ro/inside.txt": "in a read-only folder\n", "new\nline.txt": "nl\n",
                                     "tab\tand space é.txt": "x\n", "nel\u0085name.txt": "y\n"}
    repository = make_repository(files, manifest=False)
    (repository.source / "ro").chmod(0o555)
    repository.backup()
    checks = "    - type: tree\n    - type: expect\n      paths:\n        - path: ro/inside.txt\n          min_size: 5\n"
    config = config_dir({"web": job_yaml(repository, checks)})
    result, payload = run_json(config, "web")
    (repository.source / "ro").chmod(0o755)
    assert result.returncode == 0, payload["message"] + json.dumps(payload["checks"])
    assert payload["restored"]["files"] == 4


def test_a_symlink_does_not_stand_in_for_an_expected_file(make_repository, config_dir):
    repository = make_repository({"real.sql": "x" * 100}, manifest=False)
    (repository.source / "dump.sql").symlink_to("/nonexistent/dump.sql")
    repository.backup()
    checks = "    - type: expect\n      paths:\n        - path: dump.sql\n          min_size: 10\n"
    config = config_dir({"web": job_yaml(repository, checks)})
    result, payload = run_json(config, "web")
    assert result.returncode == 1
    assert "not a regular file" in payload["checks"][0]["detail"]


def test_demo_creates_a_repository_and_a_job_and_passes(tmp_path, installation):
    config = tmp_path / "config"
    config.mkdir()
    (config / "restoreproof.yml").write_text(f"state_dir: {installation}\n")
    result = cli(config, "demo", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "passed"
    assert [check["name"] for check in payload["checks"]] == [
        "tree", "expect", "manifest", "canary", "restic-check", "boot"]
    canary = (installation / "demo" / "canary.expected").read_text()
    assert canary not in result.stdout + result.stderr
    again = cli(config, "demo")
    assert again.returncode == 0 and "demo: PASSED" in again.stdout
