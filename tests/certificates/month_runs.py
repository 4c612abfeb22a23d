"""Realistic recorded runs for certificate tests and the benchmark: what the pipeline records for a files
target with tree, expect, manifest and restic-check, written through the Database API (or in bulk)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orchestrator.db import CheckResult, Database, Run

PASSING_CHECKS = (
    ("tree", "passed", "{files} entries match the snapshot listing ({files} files, {bytes} bytes)"),
    ("expect", "passed", "all 2 expected path(s) present"),
    ("manifest", "passed", "{files} file(s) match the checksums in /srv/data/SHA256SUMS"),
    ("restic-check", "passed", "no errors found (read-data-subset=5%)"),
)
CORRUPTED_CHECKS = (
    ("tree", "skipped", "not run: the restore failed"),
    ("expect", "skipped", "not run: the restore failed"),
    ("manifest", "skipped", "not run: the restore failed"),
    ("restic-check", "failed", "restic check found errors (read-data-subset=5%): pack 3f2a9c1e: ciphertext "
                               "verification failed"),
)
VERSIONS = {"restoreproof": "0.1.0", "restic": "0.14.0", "engine": "20.10.24+dfsg1"}
SANDBOX = {"engine": "20.10.24+dfsg1", "image": "restoreproof/files:2", "image_digest": "sha256:" + "ab" * 32,
           "hardening": {"network": "none", "cap_drop": "ALL", "no_new_privileges": True, "read_only_root": True,
                         "user": "65534:65534", "pids_limit": 256, "memory": 1073741824}}


@dataclass
class RunSpec:
    """One run to record, with the values the pipeline would have recorded."""

    job: str
    started_at: datetime
    status: str = "passed"
    restore_seconds: float = 42.0
    snapshot_age_seconds: float = 6 * 3600.0
    rto_seconds: float | None = 3600.0
    rpo_seconds: float | None = 86400.0
    files: int = 4201
    bytes: int = 219_550_000
    host: str = "srv-01"
    repository_id: str = "5f1c0a7d2e3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"
    repository_location: str = "rest:https://backup.example.net/srv-01/"
    reason: str | None = None
    message: str | None = None
    checks: tuple[tuple[str, str, str], ...] = PASSING_CHECKS
    check_data: dict[str, dict[str, object]] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)
    uid: str = field(default="")

    @property
    def snapshot_id(self) -> str:
        return hashlib.sha256(f"{self.job}/{self.started_at.date()}".encode()).hexdigest()

    @property
    def snapshot_time(self) -> datetime:
        return self.started_at - timedelta(seconds=self.snapshot_age_seconds)

    @property
    def finished_at(self) -> datetime:
        return self.started_at + timedelta(seconds=self.restore_seconds + 20)

    def columns(self) -> dict[str, object]:
        return dict(
            started_at=self.started_at, snapshot_id=self.snapshot_id, snapshot_time=self.snapshot_time,
            snapshot_seen_at=self.started_at + timedelta(seconds=2), snapshot_host=self.host,
            snapshot_paths=["/srv/data"], snapshot_tags=["nightly"], snapshot_age_seconds=self.snapshot_age_seconds,
            repository_id=self.repository_id, repository_backend=self.repository_location.split(":")[0],
            repository_location=self.repository_location, restore_seconds=self.restore_seconds,
            checks_seconds=8.5, total_seconds=self.restore_seconds + 20, expected_bytes=self.bytes,
            bytes_restored=self.bytes if self.status == "passed" else self.bytes // 3,
            files_restored=self.files if self.status == "passed" else self.files // 3,
            versions=VERSIONS, sandbox=SANDBOX, **self.extra)

    def check_rows(self) -> list[tuple[str, str, str]]:
        return [(name, status, detail.format(files=self.files, bytes=self.bytes)) for name, status, detail in self.checks]


def failed(spec: RunSpec) -> RunSpec:
    """Given a run, return it as a failed one: a corrupted data pack, restore cut short."""
    spec.status, spec.reason, spec.checks = "failed", "corrupted-data", CORRUPTED_CHECKS
    spec.message = "restore failed: ciphertext verification failed for pack 3f2a9c1e (data corrupted)"
    return spec


def record(database: Database, spec: RunSpec) -> int:
    """Given a run, record it through the Database API as the pipeline does; return its id."""
    uid = spec.uid or hashlib.sha256(f"{spec.job}{spec.started_at.isoformat()}".encode()).hexdigest()[:16]
    run_id = database.start_run(uid, spec.job, "test:1", rto_seconds=spec.rto_seconds, rpo_seconds=spec.rpo_seconds)
    database.update_run(run_id, **spec.columns())
    for position, (name, status, detail) in enumerate(spec.check_rows()):
        database.add_check(run_id, position, name, status, detail, spec.check_data.get(name, {"example": True}), 1.25)
    # One write finishes the run (finish_run would stamp the current time): a sealer never sees it half-done.
    database.update_run(run_id, status=spec.status, reason=spec.reason, message=spec.message,
                        finished_at=spec.finished_at)
    return run_id


def record_in_bulk(database: Database, specs: list[RunSpec]) -> None:
    """Given many runs, record them in one transaction (the benchmark's thousands of runs)."""
    with database.session() as session:
        for index, spec in enumerate(specs):
            run = Run(uid=f"bulk{index:012d}", job=spec.job, owner="bench:1", status=spec.status, reason=spec.reason,
                      message=spec.message, finished_at=spec.finished_at, rto_seconds=spec.rto_seconds,
                      rpo_seconds=spec.rpo_seconds, **spec.columns())
            run.checks = [CheckResult(position=position, name=name, status=status, detail=detail, data=None,
                                      seconds=1.25) for position, (name, status, detail) in enumerate(spec.check_rows())]
            session.add(run)


def daily_runs(job: str, days: list[datetime], chooser: random.Random, rto_seconds: float | None = 3600.0,
               failing_days: tuple[int, ...] = ()) -> list[RunSpec]:
    """Given a job and the days it ran, return one nightly run per day with varied durations; runs on the
    day numbers in failing_days fail."""
    specs = []
    for day in days:
        spec = RunSpec(job, day.replace(hour=2, minute=chooser.randrange(60)), restore_seconds=chooser.uniform(30, 900),
                       snapshot_age_seconds=chooser.uniform(3600, 30 * 3600), rto_seconds=rto_seconds,
                       host=f"{job}-01", repository_location=f"rest:https://backup.example.net/{job}/")
        specs.append(failed(spec) if day.day in failing_days else spec)
    return specs
