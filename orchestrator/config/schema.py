"""The typed configuration schema: the single source of truth for what a job and the settings may say."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from orchestrator.config.alerts import AlertSettings, JobAlerts, SmtpSettings
from orchestrator.config.certificates import CertificateSettings, Controls
from orchestrator.config.probes import (ImmutabilityCheck, Protection, RetentionCheck, RotatingCheck, RpoCheck,
                                        SourceCompareCheck)
from orchestrator.config.schedule import DaemonSettings, Schedule
from orchestrator.config.types import Duration, Size, Strict, parse_size

class Repository(Strict):
    """Where the backup lives and how to open it. Secrets are only ever referenced, never inlined."""

    url: str | None = Field(None, description="Any restic repository string, e.g. /srv/restic or s3:host/bucket")
    url_file: Path | None = Field(None, description="File holding the repository string (for URLs with credentials)")
    password_file: Path | None = None
    password_command: str | None = None
    env_file: Path | None = Field(None, description="KEY=value lines for the backend (AWS_ACCESS_KEY_ID, ...)")

    @model_validator(mode="after")
    def _exactly_one_of_each(self) -> "Repository":
        if (self.url is None) == (self.url_file is None):
            raise ValueError("give exactly one of url or url_file")
        if (self.password_file is None) == (self.password_command is None):
            raise ValueError("give exactly one of password_file or password_command (never an inline password)")
        return self


class SnapshotSelection(Strict):
    """Which snapshot a run tests."""

    pick: Literal["latest", "random", "id"] = "latest"
    id: str | None = None
    among_last: int = Field(10, ge=1, description="With pick: random, choose among the newest N snapshots")
    host: str | None = None
    tags: list[str] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _id_only_with_pick_id(self) -> "SnapshotSelection":
        if (self.pick == "id") != (self.id is not None):
            raise ValueError("id is required with pick: id, and only then")
        return self


class Sample(Strict):
    files: int | None = Field(None, ge=1)
    percent: float | None = Field(None, gt=0, le=100)

    @model_validator(mode="after")
    def _one_measure(self) -> "Sample":
        if (self.files is None) == (self.percent is None):
            raise ValueError("give exactly one of files or percent")
        return self


class RestoreScope(Strict):
    """What part of the snapshot is restored: all of it, some paths, or a random sample of files."""

    paths: list[str] = Field(default_factory=list)
    sample: Sample | None = None
    quota: Size | None = Field(None, description="Refuse to restore more than this; default from settings")

    @model_validator(mode="after")
    def _paths_or_sample(self) -> "RestoreScope":
        if self.paths and self.sample:
            raise ValueError("give paths or sample, not both")
        return self


class TreeCheck(Strict):
    type: Literal["tree"]


class ExpectedPath(Strict):
    path: str = Field(description="Path inside the snapshot; glob characters * ? [ ] allowed")
    min_size: Size | None = None
    min_count: int | None = Field(None, ge=1)


class ExpectCheck(Strict):
    type: Literal["expect"]
    paths: list[ExpectedPath] = Field(min_length=1)


class ManifestCheck(Strict):
    type: Literal["manifest"]
    path: str = Field(description="A sha256sum-format file inside the snapshot; entries are relative to its folder")


class CanaryCheck(Strict):
    type: Literal["canary"]
    path: str
    content: str | None = Field(None, description="Expected exact content, usually from ${VAR}")
    content_file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "CanaryCheck":
        if (self.content is None) == (self.content_file is None):
            raise ValueError("give exactly one of content or content_file")
        return self


class ResticCheck(Strict):
    type: Literal["restic-check"]
    read_data_subset: str | None = Field("5%", description="Passed to --read-data-subset; null checks structure only")


Check = Annotated[
    Union[TreeCheck, ExpectCheck, ManifestCheck, CanaryCheck, ResticCheck,
          ImmutabilityCheck, RpoCheck, RetentionCheck, RotatingCheck, SourceCompareCheck], Field(discriminator="type")
]


class HttpProbe(Strict):
    port: int = Field(ge=1, le=65535)
    path: str = "/"
    status: int = 200
    contains: str | None = None


class BootCheck(Strict):
    """Start something on the restored data and wait until it answers."""

    image: str | None = Field(None, description="Default: the target's image")
    command: list[str] = Field(min_length=1)
    user: str | None = None
    data_mount: str = "/restore"
    tcp_port: int | None = Field(None, ge=1, le=65535)
    http: HttpProbe | None = None
    timeout: Duration = timedelta(seconds=60)

    @model_validator(mode="after")
    def _one_probe(self) -> "BootCheck":
        if self.tcp_port is not None and self.http is not None:
            raise ValueError("give tcp_port or http, not both")
        return self


class Target(Strict):
    kind: str = "files"
    image: str | None = None
    checks: list[Check] = Field(default_factory=lambda: list[Check]([TreeCheck(type="tree")]))
    boot: BootCheck | None = None


class Timeouts(Strict):
    run: Duration = timedelta(hours=2)
    restic: Duration = timedelta(hours=1)


class Job(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    repository: Repository
    snapshot: SnapshotSelection = SnapshotSelection()
    restore: RestoreScope = RestoreScope()
    target: Target = Target()
    timeouts: Timeouts = Timeouts()
    rto: Duration | None = Field(None, description="Target restore time (RTO)")
    rpo: Duration | None = Field(None, description="Maximum age of the newest snapshot (RPO)")
    runner: str = "docker"
    schedule: Schedule | None = Field(None, description="When `restoreproof serve` runs it; none: only on demand")
    alerts: JobAlerts = JobAlerts()
    protection: Protection = Protection()
    controls: Controls = Field(default_factory=list, description="Controls its tests evidence, e.g. ANSSI-37")


class SandboxLimits(Strict):
    memory: Size = parse_size("1GiB")
    pids: int = 256
    cpus: float = 1.0
    tmp_size: Size = parse_size("64MiB")


class Settings(Strict):
    organisation: str = "Example Org"
    database_url: str | None = Field(None, description="Any SQLAlchemy URL; default: SQLite in the state directory")
    state_dir: Path = Path("state")
    restore_quota: Size = parse_size("20GiB")
    sandbox: SandboxLimits = SandboxLimits()
    daemon: DaemonSettings = DaemonSettings()
    smtp: SmtpSettings | None = None
    alerts: AlertSettings = AlertSettings()
    certificates: CertificateSettings = CertificateSettings()
