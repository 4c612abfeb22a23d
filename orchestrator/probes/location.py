"""Where a repository is: backend, host, region, and whether it is off this machine, measured without
touching the repository; plus what the job declares (site, provider, country).

"Off-site, measured" can only mean what software sees: not a local path or mount, and a host that is
not this machine. A different *site* is a declaration; both are recorded side by side.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from orchestrator.config.probes import Protection
from orchestrator.probes import backend_environment, redact_tree
from orchestrator.restic import Restic, backend_type

RESOLVE_TIMEOUT_SECONDS = 3.0
MOUNTINFO = Path("/proc/self/mountinfo")
NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "fuse.rclone", "9p", "ceph",
                       "glusterfs", "fuse.glusterfs", "afs", "davfs", "fuse.s3fs"}
_AWS_REGION_IN_HOST = re.compile(r"(?:^|\.)s3[.-]([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com$")
_CLOUD_HOSTS = {"b2": "api.backblazeb2.com", "gs": "storage.googleapis.com"}
DEFAULT_MEDIA = {"local": "local-disk", "sftp": "remote-server", "rest": "remote-server", "s3": "object-storage",
                 "b2": "object-storage", "azure": "object-storage", "gs": "object-storage",
                 "swift": "object-storage", "rclone": "rclone-remote"}


@dataclass(frozen=True)
class Endpoint:
    """The parts of a repository string that say where it is (never its credentials)."""

    backend: str
    host: str | None = None
    port: int | None = None
    bucket: str | None = None
    path: str | None = None
    scheme: str | None = None


@dataclass(frozen=True)
class Offsite:
    measured: bool | None
    basis: str
    addresses: list[str] = field(default_factory=list)
    mount: dict[str, str] | None = None


def parse_endpoint(repository_string: str, environment: dict[str, str] | None = None) -> Endpoint:
    """Given a restic repository string (credentials are dropped), return its backend, host, port, bucket and path."""
    environment = environment or {}
    backend = backend_type(repository_string)
    rest = repository_string.split(":", 1)[1] if backend != "local" else repository_string.removeprefix("local:")
    if backend == "local":
        return Endpoint(backend, path=rest)
    if backend in ("rest", "s3") or (backend == "sftp" and rest.startswith("//")):
        return _url_endpoint(backend, rest)
    if backend == "sftp":
        return _scp_like_sftp(rest)
    bucket, _, path = rest.partition(":")
    if backend == "azure":
        account = environment.get("AZURE_ACCOUNT_NAME")
        return Endpoint(backend, f"{account}.blob.core.windows.net" if account else None, None, bucket, path)
    if backend == "swift":
        auth_url = environment.get("OS_AUTH_URL") or environment.get("ST_AUTH")
        return Endpoint(backend, urlsplit(auth_url).hostname if auth_url else None, None, bucket, path)
    if backend == "rclone":
        return Endpoint(backend, None, None, None, rest)
    return Endpoint(backend, _CLOUD_HOSTS.get(backend), None, bucket, path)


def _url_endpoint(backend: str, rest: str) -> Endpoint:
    if backend == "s3" and not rest.startswith(("http://", "https://")):
        rest = "https://" + rest
    parts = urlsplit(rest if "//" in rest else "//" + rest)
    try:
        port = parts.port
    except ValueError:
        port = None
    path = parts.path
    if backend == "s3":
        bucket, _, prefix = path.lstrip("/").partition("/")
        return Endpoint(backend, parts.hostname, port, bucket or None, prefix.strip("/"), parts.scheme)
    return Endpoint(backend, parts.hostname, port, None, path, parts.scheme or None)


def _scp_like_sftp(rest: str) -> Endpoint:
    # sftp:user@host:/path -- the user part is not a secret, but it is not a location either.
    host_part, _, path = rest.partition(":")
    return Endpoint("sftp", host_part.rsplit("@", 1)[-1] or None, None, None, path)


def region_of(endpoint: Endpoint, environment: dict[str, str]) -> tuple[str | None, str | None]:
    """Given an endpoint and the backend's environment, return (region, where it came from) or (None, None)."""
    if endpoint.backend != "s3":
        return None, None
    match = _AWS_REGION_IN_HOST.search(endpoint.host or "")
    if match:
        return match.group(1), "url"
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        if environment.get(name):
            return environment[name], f"env {name}"
    return None, None


def measure_offsite(endpoint: Endpoint, resolve_timeout: float = RESOLVE_TIMEOUT_SECONDS) -> Offsite:
    """Given an endpoint, return whether it is off this machine, as far as software can tell, and why."""
    if endpoint.backend == "local":
        mount = mount_of(Path(endpoint.path or "."))
        kind = "a network filesystem mounted on" if mount and mount["filesystem"] in NETWORK_FILESYSTEMS else "a path on"
        where = f" (filesystem {mount['filesystem']} at {mount['mount_point']}, source {mount['source']})" if mount else ""
        return Offsite(False, f"local repository: {kind} this machine{where}", mount=mount)
    if endpoint.host is None:
        return Offsite(None, f"{endpoint.backend} repository: the host is not in the repository string")
    addresses = resolve(endpoint.host, resolve_timeout)
    if not addresses:
        return Offsite(None, f"host {endpoint.host} could not be resolved from this machine")
    local = [address for address in addresses if is_local_address(address)]
    if local:
        return Offsite(False, f"host {endpoint.host} is this machine ({', '.join(local)})", addresses)
    return Offsite(True, f"host {endpoint.host} resolves to {', '.join(addresses)}, none of them this machine",
                   addresses)


def resolve(host: str, timeout: float) -> list[str]:
    """Given a host name or address, return its addresses, or [] if it does not resolve within the timeout."""
    found: list[str] = []

    def lookup() -> None:
        try:
            found.extend(sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)}))
        except (OSError, UnicodeError):
            pass

    # getaddrinfo has no timeout of its own; a daemon thread left behind costs nothing.
    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(timeout)
    return list(found) if not worker.is_alive() else []


def is_local_address(address: str) -> bool:
    """Given an IP address, return True if it belongs to this machine (binding to it succeeds)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((address.split("%", 1)[0], 0))
        except OSError as error:
            if error.errno in (errno.EADDRNOTAVAIL, errno.EINVAL, errno.EAFNOSUPPORT):
                return False
            raise
    return True


def mount_of(path: Path) -> dict[str, str] | None:
    """Given a path, return the mount holding it (mount point, filesystem, source, options), or None if unknown."""
    try:
        lines = MOUNTINFO.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    target = os.path.realpath(path)
    best: dict[str, str] | None = None
    for line in lines:
        mount = _parse_mountinfo_line(line)
        if mount and _is_under(target, mount["mount_point"]) and (
                best is None or len(mount["mount_point"]) >= len(best["mount_point"])):
            best = mount
    return best


def _parse_mountinfo_line(line: str) -> dict[str, str] | None:
    before, separator, after = line.partition(" - ")
    fields, tail = before.split(), after.split()
    if not separator or len(fields) < 6 or len(tail) < 2:
        return None
    unescape = lambda text: re.sub(r"\\(\d{3})", lambda match: chr(int(match.group(1), 8)), text)  # noqa: E731
    return {"mount_point": unescape(fields[4]), "options": fields[5], "filesystem": tail[0], "source": unescape(tail[1])}


def _is_under(path: str, mount_point: str) -> bool:
    return mount_point == "/" or path == mount_point or path.startswith(mount_point.rstrip("/") + "/")


def location_facts(repository_string: str, environment: dict[str, str], protection: Protection) -> dict[str, Any]:
    """Given the repository string, the backend's environment and the job's declarations, return the run
    columns repository_host, repository_region, repository_offsite and repository_facts (docs/probes.md)."""
    endpoint = parse_endpoint(repository_string, environment)
    region, region_source = region_of(endpoint, environment)
    offsite = measure_offsite(endpoint)
    facts = {
        "backend": endpoint.backend, "host": endpoint.host, "port": endpoint.port, "bucket": endpoint.bucket,
        "region": region, "region_source": region_source,
        "offsite": {"measured": offsite.measured, "basis": offsite.basis, "addresses": offsite.addresses,
                    "mount": offsite.mount},
        "declared": declared_facts(protection, endpoint.backend),
    }
    return {"repository_host": endpoint.host, "repository_region": region,
            "repository_offsite": offsite.measured, "repository_facts": facts}


def declared_facts(protection: Protection, backend: str) -> dict[str, Any]:
    """Given the job's `protection` section, return what it declares, with the media defaulted from the backend."""
    declared = protection.model_dump(mode="json")
    declared["media"] = protection.media or DEFAULT_MEDIA.get(backend, backend)
    declared["media_source"] = "declared" if protection.media else "derived from the backend"
    return declared


def repository_location_fields(restic: Restic, protection: Protection) -> dict[str, Any]:
    """Given the run's Restic and the job's declarations, return the location columns for the run; never raises,
    since where the repository is must not decide whether it restores (a failure is recorded instead)."""
    try:
        facts = location_facts(restic.repository_string, backend_environment(restic.repository), protection)
    except Exception as error:  # noqa: BLE001 - recorded as unknown, never fatal to the run
        facts = {"repository_facts": {"error": f"location not measured: {error}",
                                      "declared": protection.model_dump(mode="json")}}
    return dict(redact_tree(facts, restic.redactor.redact))
