"""The Object Lock probe against a real S3-compatible server (moto) that restic backed up to."""

from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timezone

from orchestrator.config.schema import Repository
from orchestrator.probes import PROTECTED, UNPROTECTED
from orchestrator.probes.immutability import probe_repository
from orchestrator.redact import Redactor

from tests.probes.conftest import ACCESS_KEY, SECRET_KEY, bucket_listing, run_checks, s3_client

CREDENTIALS = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}


def locked_bucket(port: int, name: str, mode: str = "COMPLIANCE", days: int = 30) -> None:
    client = s3_client(port)
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    client.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}}})


def probe(repository, port: int, sample: int = 3):  # type: ignore[no-untyped-def]
    config = Repository(url=repository.url, password_file=repository.password_file, env_file=repository.env_file)
    return probe_repository(config, repository.url, sample, 10, Redactor(), random.Random(1),
                            datetime.now(timezone.utc))


def test_probe_reads_the_lock_configuration_and_object_retention(s3_server, make_remote_repository):
    locked_bucket(s3_server.port, "locked")
    repository = make_remote_repository(f"s3:http://127.0.0.1:{s3_server.port}/locked/web", environment=CREDENTIALS)
    before = bucket_listing(s3_server.port, "locked")

    result = probe(repository, s3_server.port)

    assert (result.verdict, result.protection) == (PROTECTED, "object-lock")
    lock = result.raw["object_lock"]
    assert lock["enabled"] is True
    assert lock["default_retention"] == {"mode": "COMPLIANCE", "days": 30, "years": None}
    assert result.raw["versioning"] == "Enabled"
    assert result.raw["prefix"] == "web/"
    assert 1 <= len(result.raw["samples"]) <= 3
    for sample in result.raw["samples"]:
        assert sample["key"].startswith("web/data/")
        assert sample["mode"] == "COMPLIANCE"
        assert datetime.fromisoformat(sample["retain_until"]) > datetime.now(timezone.utc)
    assert "COMPLIANCE 30 day(s)" in result.summary
    assert bucket_listing(s3_server.port, "locked") == before
    assert SECRET_KEY not in json.dumps(result.raw) + result.summary


def test_bucket_without_object_lock_is_unprotected_even_though_deletes_succeed(s3_server, make_remote_repository):
    s3_client(s3_server.port).create_bucket(Bucket="plain")
    repository = make_remote_repository(f"s3:http://127.0.0.1:{s3_server.port}/plain", environment=CREDENTIALS)
    before = bucket_listing(s3_server.port, "plain")

    result = probe(repository, s3_server.port)

    assert result.verdict == UNPROTECTED
    assert result.raw["object_lock"]["enabled"] is False
    assert "not enabled" in result.summary
    assert bucket_listing(s3_server.port, "plain") == before


def test_governance_mode_is_named_and_wrong_credentials_are_inconclusive(s3_server, make_remote_repository, tmp_path):
    locked_bucket(s3_server.port, "governed", mode="GOVERNANCE", days=7)
    repository = make_remote_repository(f"s3:http://127.0.0.1:{s3_server.port}/governed", environment=CREDENTIALS)

    result = probe(repository, s3_server.port)
    unreachable = Repository(url="s3:http://127.0.0.1:9/governed", password_file=repository.password_file,
                             env_file=repository.env_file)
    failed = probe_repository(unreachable, unreachable.url or "", 1, 2, Redactor(), random.Random(1),
                              datetime.now(timezone.utc))

    assert result.verdict == PROTECTED and "GOVERNANCE" in result.summary and "bypass" in result.summary
    assert failed.verdict == "inconclusive" and "the S3 probe failed" in failed.summary


def test_immutability_check_holds_the_job_to_its_expectation(s3_server, make_remote_repository, config_dir, caplog):
    locked_bucket(s3_server.port, "locked")
    repository = make_remote_repository(f"s3:http://127.0.0.1:{s3_server.port}/locked", environment=CREDENTIALS)
    check = "    - type: immutability\n      sample: 2\n"
    config = config_dir({
        "locked": repository.job_yaml(check, "protection:\n  immutable: object-lock\n  offsite: true\n"),
        "wrong": repository.job_yaml(check, "protection:\n  immutable: append-only\n"),
        "tape": repository.job_yaml(check, "protection:\n  immutable: declared\n  offline: LTO tape in a safe\n"),
    })

    caplog.set_level(logging.DEBUG)  # as with --verbose; the set-up above used its own boto3 client
    for name in ("boto3", "botocore", "urllib3"):
        logging.getLogger(name).setLevel(logging.NOTSET)
    locked = run_checks(config, "locked")["immutability"]
    wrong = run_checks(config, "wrong")["immutability"]
    tape = run_checks(config, "tape")["immutability"]

    assert locked[0] == "passed" and locked[2]["measured"] is True and locked[2]["expected"] == "object-lock"
    assert locked[1].startswith("measured object-lock: Object Lock enabled")
    assert wrong[0] == "failed" and "this repository is s3" in wrong[1]
    assert tape[0] == "passed" and tape[1].startswith("declared: LTO tape in a safe; probe: Object Lock enabled")
    assert SECRET_KEY not in json.dumps([locked, wrong, tape])
    assert ACCESS_KEY not in caplog.text and SECRET_KEY not in caplog.text
