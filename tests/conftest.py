"""Shared fixtures: real restic repositories, config directories and the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

IN_CI = bool(os.environ.get("CI"))
# scripts/dev.sh starts this server and exports the URL; the role may create databases.
POSTGRES_URL = os.environ.get("RESTOREPROOF_TEST_POSTGRES_URL",
                              "postgresql+psycopg://restoreproof:restoreproof@127.0.0.1:5432/restoreproof_test")
MANAGED_LABEL = "io.restoreproof.managed"


def require(condition: bool, what: str) -> None:
    """Skip when a dependency is missing on a developer's machine; fail under CI, where it must exist."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI")
    pytest.skip(f"{what} is not available")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now (for a test server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """Create a new, empty database on the test PostgreSQL server, yield its URL, and drop it after."""
    from sqlalchemy import create_engine, text

    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means no usable server
        admin = None
    require(admin is not None, f"a PostgreSQL server at {POSTGRES_URL.split('@')[-1]} (scripts/dev.sh starts one)")
    assert admin is not None
    name = f"{prefix}_{os.urandom(6).hex()}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def docker_client():  # type: ignore[no-untyped-def]
    import docker

    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception:  # noqa: BLE001 - any failure means no usable engine
        client = None
    require(client is not None, "a running Docker engine")
    return client


@pytest.fixture(scope="session")
def restic_binary() -> str:
    path = shutil.which("restic")
    require(path is not None, "the restic binary")
    assert path is not None
    return path


@dataclass
class Repository:
    url: str
    password_file: Path
    password: str
    source: Path
    cache: Path

    def restic(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, "RESTIC_REPOSITORY": self.url, "RESTIC_PASSWORD_FILE": str(self.password_file)}
        return subprocess.run(["restic", arguments[0], "--cache-dir", str(self.cache), *arguments[1:]],
                              env=environment, capture_output=True, text=True, check=check)

    def backup(self, *extra: str) -> str:
        output = self.restic("backup", str(self.source), "--json", *extra).stdout
        return [json.loads(line) for line in output.splitlines() if '"summary"' in line][-1]["snapshot_id"]

    def corrupt_largest_pack(self) -> Path:
        packs = sorted(Path(self.url, "data").rglob("*"), key=lambda path: path.stat().st_size if path.is_file() else 0)
        pack = packs[-1]
        content = bytearray(pack.read_bytes())
        content[len(content) // 2] ^= 0xFF
        pack.chmod(0o600)
        pack.write_bytes(bytes(content))
        return pack


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


SAMPLE_FILES: dict[str, str | bytes] = {
    "www/index.html": "<html><body>hello from the restored site</body></html>\n" * 4,
    "data/report-1.csv": "a,b\n1,2\n",
    "data/report-2.csv": "a,b\n3,4\n",
    "data/big.bin": os.urandom(2 * 1024 * 1024),
    "canary.txt": "canary-content-7f3a9c\n",
    # Longer than a plain tar header holds: needs PAX records all the way into the sandbox.
    "deep/" + "a-rather-long-folder-name/" * 5 + "and-a-long-file-name-too.txt": "deep\n",
}


@pytest.fixture
def make_repository(tmp_path: Path, restic_binary: str) -> Callable[..., Repository]:
    """Return a factory: a real restic repository with one snapshot of the given files."""

    def make(files: dict[str, str | bytes] | None = None, name: str = "repo", manifest: bool = True) -> Repository:
        source = tmp_path / f"{name}-source"
        write_tree(source, files or SAMPLE_FILES)
        if manifest:
            import hashlib

            lines = [f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(source)}\n"
                     for path in sorted(source.rglob("*")) if path.is_file()]
            (source / "SHA256SUMS").write_text("".join(lines))
        password = f"pw-{os.urandom(8).hex()}"
        password_file = tmp_path / f"{name}.password"
        password_file.write_text(password + "\n")
        repository = Repository(str(tmp_path / name), password_file, password, source, tmp_path / "restic-cache")
        repository.restic("init")
        repository.backup("--tag", "test")
        return repository

    return make


@pytest.fixture
def config_dir(tmp_path: Path) -> Callable[..., Path]:
    """Return a factory writing restoreproof.yml and jobs/<name>.yml; returns the config directory."""

    def write(jobs: dict[str, str], settings: str = "") -> Path:
        directory = tmp_path / "config"
        (directory / "jobs").mkdir(parents=True, exist_ok=True)
        (directory / "restoreproof.yml").write_text(f"state_dir: {tmp_path / 'state'}\n{settings}")
        for name, text in jobs.items():
            (directory / "jobs" / f"{name}.yml").write_text(text)
        return directory

    return write


def job_yaml(repository: Repository, checks: str = "    - type: tree\n", extra: str = "") -> str:
    return (f"repository:\n  url: {repository.url}\n  password_file: {repository.password_file}\n"
            f"target:\n  kind: files\n  checks:\n{checks}{extra}")


def cli(config: Path, *arguments: str, env: dict[str, str] | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real `restoreproof` command line."""
    return subprocess.run([sys.executable, "-m", "orchestrator", "--config", str(config), *arguments],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def managed_leftovers(client, installation: str | Path) -> list[str]:  # type: ignore[no-untyped-def]
    """Return the sandbox containers and volumes of one installation (its state directory)."""
    label = {"label": f"io.restoreproof.installation={installation}"}
    containers = [c.name for c in client.containers.list(all=True, filters=label, sparse=True)]
    volumes = [v.name for v in client.volumes.list(filters=label)]
    return containers + volumes


@pytest.fixture
def installation(tmp_path: Path) -> Path:
    """The state directory of this test's installation (config_dir writes it into restoreproof.yml)."""
    return tmp_path / "state"


@pytest.fixture
def no_leftovers(docker_client, installation: Path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Fail the test if it leaves a sandbox container or volume of its own installation behind."""
    yield
    assert managed_leftovers(docker_client, installation) == []
