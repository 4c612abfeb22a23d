"""Real repository servers on 127.0.0.1 for the probe tests: `rclone serve restic` (append-only or not) and
moto's S3 server with Object Lock; plus restic repositories backed up to them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from orchestrator.checks import CheckContext, all_checks
from orchestrator.config import load_config
from orchestrator.restic import Restic
from orchestrator.selection import RestorePlan
from tests.conftest import free_port, require, write_tree

SOURCE_FILES: dict[str, str | bytes] = {
    "www/index.html": "<html>probe test</html>\n",
    "data/a.bin": os.urandom(300_000),
    "data/b.txt": "b\n" * 1000,
}
ACCESS_KEY, SECRET_KEY = "AKIAPROBETEST0001", "probe-secret-key-7f1e2d3c4b5a"



def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with code {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    root: Path | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@dataclass
class RemoteRepository:
    """A restic repository behind a server, with what a job needs to open it."""

    url: str
    password_file: Path
    source: Path
    cache: Path
    env_file: Path | None = None
    environment: dict[str, str] = field(default_factory=dict)

    def restic(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, **self.environment, "RESTIC_REPOSITORY": self.url,
                       "RESTIC_PASSWORD_FILE": str(self.password_file)}
        return subprocess.run(["restic", arguments[0], "--cache-dir", str(self.cache), *arguments[1:]],
                              env=environment, capture_output=True, text=True, check=check)

    def backup(self, *extra: str) -> str:
        output = self.restic("backup", str(self.source), "--json", *extra).stdout
        return str([json.loads(line) for line in output.splitlines() if '"summary"' in line][-1]["snapshot_id"])

    def job_yaml(self, checks: str, extra: str = "") -> str:
        env_line = f"  env_file: {self.env_file}\n" if self.env_file else ""
        return (f"repository:\n  url: {self.url}\n  password_file: {self.password_file}\n{env_line}"
                f"target:\n  kind: files\n  checks:\n{checks}{extra}")


def file_listing(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under root with its size and content digest: equal listings mean nothing was modified."""
    return {str(path.relative_to(root)): (path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())
            for path in sorted(root.rglob("*")) if path.is_file()}


def start_server(command: list[str], port: int, log: Path) -> Server:
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    server = Server(port, process)
    try:
        wait_for_port(port, process)
    except AssertionError:
        server.stop()
        raise AssertionError(f"{command[0]} did not start: {log.read_text()[-2000:]}") from None
    return server


@pytest.fixture
def rest_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Return a factory: `rclone serve restic` on 127.0.0.1 over a folder, append-only or not."""
    require(shutil.which("rclone") is not None, "rclone (Debian package rclone)")
    started: list[Server] = []

    def start(root: Path, append_only: bool, user: str | None = None, password: str | None = None) -> Server:
        port = free_port()
        command = ["rclone", "serve", "restic", "--addr", f"127.0.0.1:{port}", str(root)]
        command += ["--append-only"] if append_only else []
        command += ["--user", user, "--pass", password] if user and password else []
        server = start_server(command, port, tmp_path / f"rclone-{port}.log")
        server.root = root
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def s3_server(tmp_path: Path) -> Iterator[Server]:
    """moto's S3 server on 127.0.0.1."""
    require(shutil.which("moto_server") is not None, "moto_server (pip install 'moto[server]')")
    port = free_port()
    server = start_server(["moto_server", "-H", "127.0.0.1", "-p", str(port)], port, tmp_path / "moto.log")
    yield server
    server.stop()


def s3_client(port: int):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name="us-east-1")


def bucket_listing(port: int, bucket: str) -> list[tuple[str, str, int]]:
    """Every version and delete marker in the bucket: equal listings mean nothing was written or deleted."""
    answer = s3_client(port).list_object_versions(Bucket=bucket)
    versions = [(item["Key"], item["VersionId"], item["Size"]) for item in answer.get("Versions", [])]
    markers = [(item["Key"], item["VersionId"], -1) for item in answer.get("DeleteMarkers", [])]
    return sorted(versions + markers)


@pytest.fixture
def make_remote_repository(tmp_path: Path, restic_binary: str) -> Callable[..., RemoteRepository]:
    """Return a factory: init a restic repository at a URL and back up a small tree once."""

    def make(url: str, name: str = "remote", environment: dict[str, str] | None = None,
             backup: bool = True) -> RemoteRepository:
        source = tmp_path / f"{name}-source"
        write_tree(source, SOURCE_FILES)
        password_file = tmp_path / f"{name}.password"
        password_file.write_text(f"pw-{os.urandom(8).hex()}\n")
        env_file = None
        if environment:
            env_file = tmp_path / f"{name}.env"
            env_file.write_text("".join(f"{key}={value}\n" for key, value in environment.items()))
        repository = RemoteRepository(url, password_file, source, tmp_path / "restic-cache", env_file,
                                      dict(environment or {}))
        repository.restic("init")
        if backup:
            repository.backup()
        return repository

    return make


def run_checks(config_path: Path, job_name: str = "web") -> dict[str, tuple[str, str, dict]]:
    """Load the job and run each of its checks the way the pipeline does; return name -> (status, detail, data)."""
    config = load_config(config_path)
    job = config.job(job_name)
    restic = Restic(job.repository, config.state_dir / "restic-cache", 120)
    context = CheckContext(None, RestorePlan((), (), "nothing"), restic, "/restore", 120, job=job)
    registry = all_checks()
    outcomes = {}
    for check in job.target.checks:
        outcome = registry[check.type].run(check, context)
        outcomes[outcome.name] = (outcome.status, outcome.detail, outcome.data)
    return outcomes
