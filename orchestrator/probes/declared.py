"""Backends with no software-visible protection to measure (local paths, sftp, B2, Azure, GCS, Swift, rclone):
record that protection there can only be declared, and list what *was* checked."""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.probes import NOT_MEASURABLE, ProbeResult
from orchestrator.probes.location import Endpoint, mount_of

METHOD = "declared"


def probe(endpoint: Endpoint) -> ProbeResult:
    """Given a repository endpoint, return a not-measurable result saying what was looked at."""
    if endpoint.backend == "local":
        return _local(Path(endpoint.path or "."))
    checked = [f"backend {endpoint.backend}: no read-only probe exists for deletion protection on this backend"]
    if endpoint.host:
        checked.append(f"host {endpoint.host}")
    return ProbeResult(METHOD, NOT_MEASURABLE, None,
                       f"{endpoint.backend} repository: offline/immutable protection can only be declared",
                       raw={"backend": endpoint.backend, "host": endpoint.host}, checked=checked)


def _local(path: Path) -> ProbeResult:
    mount = mount_of(path)
    writable = os.access(path, os.W_OK)
    options = set(mount["options"].split(",")) if mount else set()
    checked = [f"path {path} exists: {path.exists()}",
               f"mounted at {mount['mount_point']} ({mount['filesystem']} from {mount['source']}, "
               f"options {mount['options']})" if mount else "mount point unknown",
               f"writable by this process: {writable}",
               "reachable now, at test time: an offline copy would not be (check outside the backup window)"]
    read_only = "ro" in options
    summary = ("local repository on a read-only mount here; whether it is offline or immutable can only be declared"
               if read_only else "local repository, mounted and reachable now: offline/immutable can only be declared")
    return ProbeResult(METHOD, NOT_MEASURABLE, None, summary,
                       raw={"backend": "local", "mount": mount, "writable": writable, "read_only_mount": read_only},
                       checked=checked)
