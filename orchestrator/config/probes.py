"""Config for what a job declares about its copy (site, media, immutability) and for the repository-health
checks: `immutability`, `rpo`, `retention`, `restic-check-rotation` and `source-compare`.

Declarations are recorded as *declared*; the checks record what they *measured*. See docs/probes.md.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from orchestrator.config.types import Duration, Strict

ImmutableExpectation = Literal["append-only", "object-lock", "declared"]


class Protection(Strict):
    """What the job declares about the copy its repository holds; used by the 3-2-1-1-0 view and the certificate."""

    system: str | None = Field(None, description="Protected system this copy belongs to; default: the job name")
    media: str | None = Field(None, description="Storage media of this copy, e.g. disk, tape, object-storage; "
                                                "default: derived from the backend type")
    site: str | None = Field(None, description="Declared site or data centre holding the repository")
    provider: str | None = Field(None, description="Declared hosting or storage provider")
    country: str | None = Field(None, description="Declared country (ISO 3166 code, e.g. FR)")
    offsite: bool | None = Field(None, description="Declared: the repository is in another site than the system")
    immutable: ImmutableExpectation | None = Field(
        None, description="Expected protection against deletion, checked by the `immutability` check: append-only "
                          "(REST server), object-lock (S3), or declared (say how in `offline`)")
    offline: str | None = Field(None, description="Declared: how this copy is kept offline or immutable where "
                                                  "software cannot see it, and what was checked")

    @model_validator(mode="after")
    def _declared_says_how(self) -> "Protection":
        if self.immutable == "declared" and not self.offline:
            raise ValueError("immutable: declared needs `offline` saying how the copy is kept offline or immutable")
        return self


class ImmutabilityCheck(Strict):
    """Probe the backend for append-only or Object Lock protection and compare with `protection.immutable`."""

    type: Literal["immutability"]
    sample: int = Field(5, ge=0, le=100, description="S3: how many data objects to read the retention of")
    timeout: Duration = Field(timedelta(seconds=20), description="Time allowed for each probe request")


class RpoCheck(Strict):
    """The newest snapshot matching the job's filters must be younger than the RPO."""

    type: Literal["rpo"]
    max_age: Duration | None = Field(None, description="Default: the job's `rpo`")


class RetentionCheck(Strict):
    """The repository must hold snapshots in at least this many distinct days, weeks, months and years (UTC)."""

    type: Literal["retention"]
    daily: int = Field(0, ge=0)
    weekly: int = Field(0, ge=0)
    monthly: int = Field(0, ge=0)
    yearly: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _something_required(self) -> "RetentionCheck":
        if not (self.daily or self.weekly or self.monthly or self.yearly):
            raise ValueError("give at least one of daily, weekly, monthly or yearly")
        return self


class RotatingCheck(Strict):
    """`restic check --read-data-subset n/subsets`, with n advancing by one after each passing run."""

    type: Literal["restic-check-rotation"]
    subsets: int = Field(ge=1, le=10000, description="The data is read in this many parts, one part per run")
    period: Duration | None = Field(None, description="Fail when a full pass over every part takes longer than this")


class SourceCompareCheck(Strict):
    """Compare a random sample of restored files with the same files at the source, on this host."""

    type: Literal["source-compare"]
    files: int = Field(10, ge=1, le=10000, description="How many files to compare")
    source_root: Path = Field(Path("/"), description="Where the snapshot's paths are found on this host (absolute)")

    @model_validator(mode="after")
    def _absolute_root(self) -> "SourceCompareCheck":
        if not self.source_root.is_absolute():
            raise ValueError("source_root must be an absolute path")
        return self
