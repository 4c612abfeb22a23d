"""The one module that talks to the Docker SDK: images, hardened sandboxes, boot containers, cleanup."""

from __future__ import annotations

import os
import logging
import shlex
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.types import Mount

from orchestrator.owner import current_owner
from orchestrator.resources import resource_dir
from orchestrator.runners import (
    BootRequest,
    BootResult,
    ExecResult,
    OwnerCheck,
    RunnerUnavailable,
    SandboxFacts,
    SandboxRequest,
    drain,
    http_problem,
)

LABEL_MANAGED = "io.restoreproof.managed"
LABEL_RUN = "io.restoreproof.run"
LABEL_JOB = "io.restoreproof.job"
LABEL_OWNER = "io.restoreproof.owner"
LABEL_INSTALLATION = "io.restoreproof.installation"  # the state directory: whose sandbox it is
log = logging.getLogger(__name__)
LOG_TAIL_LINES = 40
# A static busybox from the host, bind-mounted read-only, lets any boot image expire on its own.
HOST_BUSYBOX = Path(os.environ.get("RESTOREPROOF_BUSYBOX", "/bin/busybox"))
EXPIRY_TOOL = "/.restoreproof/busybox"  # named busybox: the multi-call binary dispatches on argv[0]


class DockerRunner:
    """Runs sandboxes on the local Docker engine (or the one DOCKER_HOST names)."""

    def __init__(self) -> None:
        self._client: docker.DockerClient | None = None

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            try:
                self._client = docker.from_env(timeout=300)
                self._client.ping()
            except docker.errors.DockerException as error:
                self._client = None
                raise RunnerUnavailable(f"Docker engine unreachable: {_plain(error)}") from None
        return self._client

    def engine_version(self) -> str:
        return str(self.client.version().get("Version", "unknown"))

    def ensure_image(self, tag: str, target_kind: str) -> str:
        """Given an image tag, return it, building restoreproof's own images locally when missing."""
        try:
            self.client.images.get(tag)
            return tag
        except docker.errors.ImageNotFound:
            pass
        if not tag.startswith("restoreproof/"):
            self._pull(tag)
            return tag
        self._build(tag, resource_dir("restore_targets") / target_kind)
        return tag

    @contextmanager
    def sandbox(self, request: SandboxRequest) -> Iterator["DockerSandbox"]:
        labels = _labels(request)
        volume = self.client.volumes.create(name=f"restoreproof-{request.run_id}", labels=labels)
        sandbox: DockerSandbox | None = None
        try:
            container = self.client.containers.create(
                request.image,
                command=["sleep", str(request.deadline_seconds)],
                entrypoint=[],
                mounts=[Mount(target=request.data_mount, source=volume.name, type="volume")],
                working_dir=request.data_mount,
                name=f"restoreproof-{request.run_id}",
                **_hardening(request, labels),
            )
            sandbox = DockerSandbox(self, container, volume.name, request)
            container.start()
            yield sandbox
        finally:
            try:
                if sandbox is not None:
                    sandbox.remove_boot_containers()
            finally:
                self._remove_run(request.run_id)

    def stop(self, run_id: str) -> None:
        self._remove_run(run_id)

    def remove_leftovers(self, is_abandoned: OwnerCheck) -> list[str]:
        removed = []
        managed = {"label": LABEL_MANAGED}
        for container in self.client.containers.list(all=True, filters=managed):
            if is_abandoned(container.labels.get(LABEL_OWNER, "")):
                _quietly(lambda: container.remove(force=True))
                removed.append(f"container {container.name}")
        for volume in self.client.volumes.list(filters=managed):
            if is_abandoned((volume.attrs.get("Labels") or {}).get(LABEL_OWNER, "")):
                _quietly(lambda: volume.remove(force=True))
                removed.append(f"volume {volume.name}")
        return removed

    def image_digest(self, tag: str) -> str:
        image = self.client.images.get(tag)
        digests = image.attrs.get("RepoDigests") or []
        return str(digests[0] if digests else image.id)

    def _remove_run(self, run_id: str) -> None:
        run_filter = {"label": f"{LABEL_RUN}={run_id}"}
        for container in self.client.containers.list(all=True, filters=run_filter):
            _quietly(lambda: container.remove(force=True, v=True))
        for volume in self.client.volumes.list(filters=run_filter):
            _quietly(lambda: volume.remove(force=True))

    def _pull(self, tag: str) -> None:
        try:
            self.client.images.pull(tag)
        except docker.errors.DockerException as error:
            raise RunnerUnavailable(f"image {tag} is not present and cannot be pulled: {_plain(error)}") from None

    def _build(self, tag: str, definition: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="restoreproof-build-") as context:
            shutil.copytree(definition, context, dirs_exist_ok=True)
            if HOST_BUSYBOX.is_file():
                shutil.copy2(HOST_BUSYBOX, Path(context) / "busybox")
                dockerfile = "Dockerfile"
            else:
                dockerfile = "Dockerfile.registry"
            try:
                self.client.images.build(path=context, dockerfile=dockerfile, tag=tag, rm=True, forcerm=True,
                                         labels={LABEL_MANAGED: "image"})
            except docker.errors.DockerException as error:
                raise RunnerUnavailable(f"cannot build image {tag}: {_plain(error)}") from None


class DockerSandbox:
    """One running, hardened container holding the restored data, plus any boot containers beside it."""

    def __init__(self, runner: DockerRunner, container: Any, volume: str, request: SandboxRequest) -> None:
        self._runner = runner
        self._container = container
        self._volume = volume
        self._request = request
        self._boot_containers: list[Any] = []
        self.facts = SandboxFacts(
            engine_version=runner.engine_version(),
            image=request.image,
            image_digest=runner.image_digest(request.image),
            hardening=_hardening_facts(request),
        )

    def load(self, tar_stream: Iterable[bytes]) -> None:
        """Unpack the stream with `tar` running inside the sandbox as the sandbox user.

        Unlike the engine's put_archive (which unpacks as root and holds the container's lock, so
        `docker inspect` hangs for the whole restore), this never creates root-owned files or device
        nodes from untrusted data.
        """
        api = self._runner.client.api
        command = ["tar", "-x", "-f", "-", "-C", self._request.data_mount]
        execution = api.exec_create(self._container.id, command, stdin=True, user=self._request.user)
        connection = api.exec_start(execution["Id"], socket=True)
        raw = connection._sock  # docker-py's hijacked exec socket: the documented way to write to stdin
        stopped_early = False
        try:
            try:
                for chunk in drain(tar_stream):
                    raw.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                stopped_early = True  # tar stopped reading: its exit code and message below say why
            finally:
                _shutdown_writes(raw)
            output = _demultiplex(_read_all(raw))
        finally:
            connection.close()
        exit_code = api.exec_inspect(execution["Id"])["ExitCode"]
        if exit_code != 0:
            raise RuntimeError(f"tar in the sandbox exited with code {exit_code}: {output.strip()[-300:]}")
        if stopped_early:
            raise RuntimeError(f"tar in the sandbox stopped reading before the end of the data: {output.strip()[-300:]}")

    def execute(self, command: list[str], timeout_seconds: float) -> ExecResult:
        wrapped = ["timeout", "-s", "KILL", str(max(1, int(timeout_seconds))), *command]
        exit_code, output = self._container.exec_run(wrapped, user=self._request.user, workdir=self._request.data_mount)
        return ExecResult(exit_code=int(exit_code), output=output.decode("utf-8", "replace"))

    def boot(self, request: BootRequest) -> BootResult:
        started = time.monotonic()
        client = self._runner.client
        image = self._runner.ensure_image(request.image, "files")
        service = client.containers.run(
            image,
            detach=True,
            name=f"restoreproof-{self._request.run_id}-boot",
            mounts=self._boot_mounts(request),
            **self._expiring_command(image, request.command),
            **_hardening(self._request, _labels(self._request), user=request.user),
        )
        self._boot_containers.append(service)
        probe = None
        if request.tcp_port or request.http_port:
            probe = self._start_probe(service)
        if probe is None and (request.tcp_port or request.http_port):
            return _exited(service, command_only=False, started=started)
        result = _wait_until_ready(service, probe, request, started)
        digest = self._runner.image_digest(image)
        return BootResult(result.ready, result.seconds, result.message, result.probe_output, result.log_tail, digest)

    def _start_probe(self, service: Any) -> Any | None:
        """Start a busybox container inside the service's network namespace; None if the service already died."""
        try:
            probe = self._runner.client.containers.run(
                self._request.image,
                command=["sleep", str(self._request.deadline_seconds)],
                entrypoint=[],
                detach=True,
                name=f"restoreproof-{self._request.run_id}-probe",
                **_hardening(self._request, _labels(self._request), network_mode=f"container:{service.id}"),
            )
        except docker.errors.APIError as error:
            service.reload()
            if service.status in ("exited", "dead"):
                return None
            raise RuntimeError(f"cannot start the probe next to the boot container: {_plain(error)}") from None
        self._boot_containers.append(probe)
        return probe

    def remove_boot_containers(self) -> None:
        for container in self._boot_containers:
            _quietly(lambda: container.remove(force=True))
        self._boot_containers.clear()

    def _boot_mounts(self, request: BootRequest) -> list[Mount]:
        mounts = [Mount(target=request.data_mount, source=self._volume, type="volume")]
        if HOST_BUSYBOX.is_file():
            mounts.append(Mount(target=EXPIRY_TOOL, source=str(HOST_BUSYBOX), type="bind", read_only=True))
        return mounts

    def _expiring_command(self, image: str, command: list[str]) -> dict[str, Any]:
        """Wrap the boot command so the container's main process ends itself at the run's deadline."""
        if not HOST_BUSYBOX.is_file():
            return {"command": command}
        entrypoint = self._runner.client.images.get(image).attrs["Config"].get("Entrypoint") or []
        wrapper = [EXPIRY_TOOL, "timeout", "-s", "KILL", str(self._request.deadline_seconds)]
        return {"entrypoint": wrapper + list(entrypoint), "command": command}


def _shutdown_writes(raw: socket.socket) -> None:
    try:
        raw.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _read_all(raw: socket.socket) -> bytes:
    chunks = []
    while chunk := raw.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _demultiplex(stream: bytes) -> str:
    """Given Docker's multiplexed exec output (8-byte frame headers), return the text it carries."""
    text, index = [], 0
    while index + 8 <= len(stream):
        size = int.from_bytes(stream[index + 4:index + 8], "big")
        text.append(stream[index + 8:index + 8 + size])
        index += 8 + size
    return b"".join(text).decode("utf-8", "replace")


def _wait_until_ready(service: Any, probe: Any, request: BootRequest, started: float) -> BootResult:
    deadline = started + request.timeout_seconds
    last_output = ""
    while time.monotonic() < deadline:
        service.reload()
        if service.status in ("exited", "dead"):
            return _exited(service, probe is None, started)
        if probe is not None:
            ready, last_output = _probe(probe, request)
            if ready:
                return BootResult(True, time.monotonic() - started, "ready", last_output)
        time.sleep(0.25)
    message = f"not ready within {request.timeout_seconds:g}s"
    if probe is None:
        message = f"command still running after {request.timeout_seconds:g}s"
    return BootResult(False, time.monotonic() - started, message, last_output, _log_tail(service))


def _exited(service: Any, command_only: bool, started: float) -> BootResult:
    service.reload()
    exit_code = service.attrs.get("State", {}).get("ExitCode")
    seconds = time.monotonic() - started
    tail = _log_tail(service)
    if command_only and exit_code == 0:
        return BootResult(True, seconds, "command exited 0", log_tail=tail)
    if service.attrs.get("State", {}).get("OOMKilled"):
        return BootResult(False, seconds, "killed: out of memory", log_tail=tail)
    return BootResult(False, seconds, f"exited with code {exit_code} before it was ready", log_tail=tail)


def _probe(probe: Any, request: BootRequest) -> tuple[bool, str]:
    if request.http_port:
        http_request = f"GET {request.http_path} HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        script = f"printf '%s' {shlex.quote(http_request)} | nc -w 2 127.0.0.1 {request.http_port}"
        exit_code, output = probe.exec_run(["timeout", "5", "sh", "-c", script])
        text = output.decode("utf-8", "replace")
        # A server still warming up (503, wrong page) is polled again until the timeout.
        return http_problem(text, request.http_status, request.http_contains) is None, text
    exit_code, output = probe.exec_run(["timeout", "3", "sh", "-c", f"nc -w 1 127.0.0.1 {request.tcp_port} </dev/null"])
    return exit_code == 0, output.decode("utf-8", "replace")


def _log_tail(container: Any) -> str:
    try:
        return str(container.logs(tail=LOG_TAIL_LINES, stdout=True, stderr=True).decode("utf-8", "replace"))
    except docker.errors.DockerException:
        return ""


def _labels(request: SandboxRequest) -> dict[str, str]:
    return {LABEL_MANAGED: "1", LABEL_RUN: request.run_id, LABEL_JOB: request.job, LABEL_OWNER: current_owner(),
            LABEL_INSTALLATION: request.installation}


def _hardening(request: SandboxRequest, labels: dict[str, str], user: str | None = None,
               network_mode: str | None = None) -> dict[str, Any]:
    return {
        "user": user or request.user,
        "labels": labels,
        "network_mode": network_mode or ("bridge" if request.network else "none"),
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "read_only": True,
        "tmpfs": {"/tmp": f"size={request.tmp_bytes},mode=1777"},
        "pids_limit": request.pids,
        "mem_limit": request.memory_bytes,
        "memswap_limit": request.memory_bytes,
        "nano_cpus": int(request.cpus * 1e9),
        "auto_remove": False,
    }


def _hardening_facts(request: SandboxRequest) -> dict[str, object]:
    return {
        "network": "bridge" if request.network else "none",
        "capabilities": "all dropped",
        "no_new_privileges": True,
        "read_only_root": True,
        "user": request.user,
        "memory_bytes": request.memory_bytes,
        "pids_limit": request.pids,
        "cpus": request.cpus,
        "self_expiry_seconds": request.deadline_seconds,
        "docker_socket": "not mounted",
        "secrets_in_sandbox": "none (restic runs on the host; data is streamed in)",
    }


def _quietly(action: Any) -> None:
    """Run a removal; log instead of raising, so one failure never skips the removals after it."""
    try:
        action()
    except docker.errors.NotFound:
        pass
    except docker.errors.DockerException as error:
        if getattr(error, "status_code", None) != 409:  # 409: removal already in progress
            log.warning("could not remove a sandbox part: %s", _plain(error))


def _plain(error: Exception) -> str:
    text = str(error)
    if "Connection refused" in text or "No such file or directory" in text or "FileNotFoundError" in text:
        return "is the Docker engine running? (socket not reachable)"
    return text.splitlines()[0] if text else type(error).__name__
