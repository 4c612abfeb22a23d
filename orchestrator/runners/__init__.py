"""Where a sandbox runs. One Protocol, one explicit registry: local Docker today, a remote engine later."""

from __future__ import annotations

import re

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol


class RunnerUnavailable(Exception):
    """The runner cannot work at all right now (e.g. the Docker engine is down)."""


@dataclass(frozen=True)
class SandboxRequest:
    """Everything a runner needs to create one disposable, hardened sandbox for one run."""

    run_id: str
    job: str
    image: str
    user: str
    deadline_seconds: int
    memory_bytes: int
    pids: int
    cpus: float
    tmp_bytes: int
    network: bool
    installation: str = ""
    data_mount: str = "/restore"


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: str


@dataclass(frozen=True)
class BootRequest:
    image: str
    command: list[str]
    user: str
    data_mount: str
    timeout_seconds: float
    tcp_port: int | None = None
    http_port: int | None = None
    http_path: str = "/"
    http_status: int = 200
    http_contains: str | None = None


@dataclass(frozen=True)
class BootResult:
    ready: bool
    seconds: float
    message: str
    probe_output: str = ""
    log_tail: str = ""
    image_digest: str = ""


@dataclass(frozen=True)
class SandboxFacts:
    """What an auditor needs to know about the sandbox a run used."""

    engine_version: str
    image: str
    image_digest: str
    hardening: dict[str, object] = field(default_factory=dict)


class Sandbox(Protocol):
    facts: SandboxFacts

    def load(self, tar_stream: Iterable[bytes]) -> None:
        """Given a tar stream, unpack it under the data mount; raise if the engine refuses it."""

    def execute(self, command: list[str], timeout_seconds: float) -> ExecResult:
        """Given a command, run it in the sandbox as the sandbox user and return its exit code and output."""

    def boot(self, request: BootRequest) -> BootResult:
        """Start a service on the restored data and wait until it is ready or the timeout passes."""


class Runner(Protocol):
    def sandbox(self, request: SandboxRequest) -> AbstractContextManager[Sandbox]:
        """Given a request, yield a running sandbox; remove everything it made on every exit path."""

    def remove_leftovers(self, is_abandoned: "OwnerCheck") -> list[str]:
        """Remove sandboxes whose owning process is gone; return what was removed."""

    def engine_version(self) -> str:
        """Return the engine's version; raise RunnerUnavailable if it does not answer."""

    def ensure_image(self, tag: str, target_kind: str) -> str:
        """Given an image tag, make it available (building restoreproof's own images); raise RunnerUnavailable."""

    def stop(self, run_id: str) -> None:
        """Given a run id, kill and remove its sandboxes now, from any thread (timeout or shutdown)."""


class OwnerCheck(Protocol):
    def __call__(self, owner: str) -> bool: ...


def runner_names() -> list[str]:
    return sorted(_FACTORIES)


def get_runner(name: str) -> Runner:
    """Given a runner name from a job, return the runner; raise KeyError naming the valid ones."""
    if name not in _FACTORIES:
        raise KeyError(f"unknown runner '{name}' (valid: {', '.join(runner_names())})")
    return _FACTORIES[name]()


def _docker() -> Runner:
    from orchestrator.runners.docker import DockerRunner

    return DockerRunner()


_FACTORIES = {"docker": _docker}


_STATUS_LINE = re.compile(r"^HTTP/\d(?:\.\d)?\s+(\d{3})")


def http_problem(response: str, status: int, contains: str | None) -> str | None:
    """Given a raw HTTP response, return what is wrong with it, or None if it has the status and text wanted."""
    match = _STATUS_LINE.match(response)
    if not match:
        return "no HTTP response"
    if int(match.group(1)) != status:
        return f"HTTP status {match.group(1)}, expected {status}"
    body = response.split("\r\n\r\n", 1)[-1]
    if contains is not None and contains not in body:
        return f"HTTP body does not contain the expected text {contains!r}"
    return None


def drain(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Yield non-empty chunks only: an empty chunk would end a chunked HTTP upload early."""
    for chunk in chunks:
        if chunk:
            yield chunk
