"""Fixtures for the scheduler: a database on SQLite *and* on a real PostgreSQL server (a fresh database per
test), and a real `restoreproof serve` process with its log, metrics endpoint and signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from orchestrator.db import Database
from tests.conftest import free_port, fresh_postgres_database

@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: SQLite in tmp_path, or a new database on the PostgreSQL server (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'restoreproof.db'}"
        return
    with fresh_postgres_database("rp_test") as url:
        yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    yield database
    database.engine.dispose()



@dataclass
class Daemon:
    """A real `restoreproof serve` process: JSON log lines on stderr, metrics on a free port."""

    process: subprocess.Popen[str]
    config: Path
    port: int
    log_path: Path
    started: float = field(default_factory=time.monotonic)

    def events(self, name: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        found = []
        for line in self.log_path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if (name is None or entry.get("event") == name) and all(entry.get(k) == v for k, v in fields.items()):
                found.append(entry)
        return found

    def wait_for(self, name: str, count: int = 1, timeout: float = 60, **fields: Any) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(name, **fields)
            if len(found) >= count:
                return found
            assert self.process.poll() is None, f"the daemon exited early:\n{self.log_path.read_text()}"
            time.sleep(0.1)
        raise AssertionError(f"no {count}x {name} {fields} within {timeout}s:\n{self.log_path.read_text()}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def stop(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Return a factory starting `restoreproof serve` on a config directory; every daemon is stopped after."""
    started: list[Daemon] = []

    def start(config: Path, env: dict[str, str] | None = None) -> Daemon:
        port = free_port()
        log_path = tmp_path / f"daemon-{len(started)}.log"
        log_file = log_path.open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestrator", "--config", str(config), "serve", "--log-format", "json",
             "--metrics-port", str(port)],
            stdout=log_file, stderr=log_file, text=True, env={**os.environ, **(env or {})})
        log_file.close()
        daemon = Daemon(process, config, port, log_path)
        started.append(daemon)
        daemon.wait_for("daemon-started", timeout=30)
        return daemon

    yield start
    for daemon in started:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait(timeout=30)


def slow_restic(tmp_path: Path, seconds: float) -> dict[str, str]:
    """A restic that waits before `dump`, so a restore is slow (restic itself still does the work)."""
    wrapper = tmp_path / f"slow-restic-{seconds:g}"
    wrapper.write_text(f'#!/bin/sh\nif [ "$1" = dump ]; then sleep {seconds:g}; fi\nexec restic "$@"\n')
    wrapper.chmod(0o755)
    return {"RESTOREPROOF_RESTIC": str(wrapper)}


def processes_running(text: str) -> list[int]:
    """Return the ids of processes whose command line contains `text` (e.g. a test's own wrapper path)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command_line = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in command_line:
            found.append(int(proc.name))
    return found
