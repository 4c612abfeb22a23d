"""The one module that runs restic: builds command lines, passes secrets, parses JSON, classifies failures.

Secrets never go on a command line: the repository string, the password file or command and the backend
credentials reach restic through the environment of its own process only, and everything restic
prints passes through a Redactor before it is logged, stored or shown.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from orchestrator.config.schema import Repository
from orchestrator.control import RunControl, run_process
from orchestrator.redact import Redactor

RESTIC_BINARY = os.environ.get("RESTOREPROOF_RESTIC", "restic")
_SECRET_KEY = re.compile(r"SECRET|PASSWORD|PASS|TOKEN|KEY|CREDENTIAL|AUTH", re.I)


class FailureKind(StrEnum):
    WRONG_PASSWORD = "wrong-password"
    REPOSITORY_NOT_FOUND = "repository-not-found"
    UNREACHABLE = "repository-unreachable"
    LOCKED = "repository-locked"
    CORRUPTED = "corrupted-data"
    SNAPSHOT_NOT_FOUND = "snapshot-not-found"
    PATH_NOT_FOUND = "path-not-found"
    TIMEOUT = "timeout"
    PASSWORD_UNAVAILABLE = "password-unavailable"
    NOT_INSTALLED = "restic-not-installed"
    FAILED = "restic-failed"


# Whether the failure says something about the backup itself (the test ran and the backup did not
# prove restorable) rather than about our ability to reach it right now.
BACKUP_FAULTS = {
    FailureKind.WRONG_PASSWORD,
    FailureKind.REPOSITORY_NOT_FOUND,
    FailureKind.CORRUPTED,
    FailureKind.SNAPSHOT_NOT_FOUND,
    FailureKind.PATH_NOT_FOUND,
}

_PLAIN_MESSAGES = {
    FailureKind.WRONG_PASSWORD: "wrong password: no key in the repository opens with the configured password",
    FailureKind.REPOSITORY_NOT_FOUND: "repository not found: there is no restic repository at the configured location",
    FailureKind.UNREACHABLE: "repository unreachable: the backend did not answer",
    FailureKind.LOCKED: "repository locked by another restic process; try again later",
    FailureKind.CORRUPTED: "corrupted data: restic found damaged pack or blob contents",
    FailureKind.SNAPSHOT_NOT_FOUND: "snapshot not found in the repository",
    FailureKind.PATH_NOT_FOUND: "path not found in the snapshot",
    FailureKind.TIMEOUT: "restic did not finish within the time allowed",
    FailureKind.PASSWORD_UNAVAILABLE: "the repository password could not be read (password_file or "
                                      "password_command failed)",
    FailureKind.NOT_INSTALLED: "the restic binary was not found on PATH",
    FailureKind.FAILED: "restic failed",
}

# Order matters: an unreachable server also prints "unable to open config file".
_CLASSIFIERS: list[tuple[FailureKind, re.Pattern[str]]] = [
    (FailureKind.WRONG_PASSWORD, re.compile(r"wrong password|no key found", re.I)),
    (FailureKind.PASSWORD_UNAVAILABLE, re.compile(r"Resolving password failed|password command|"
                                                  r"reading password", re.I)),
    (FailureKind.UNREACHABLE, re.compile(r"connection refused|no such host|i/o timeout|network is unreachable|"
                                         r"dial tcp|TLS handshake|connection reset", re.I)),
    (FailureKind.LOCKED, re.compile(r"repository is already locked|unable to create lock", re.I)),
    (FailureKind.REPOSITORY_NOT_FOUND, re.compile(r"unable to open config file|Is there a repository", re.I)),
    (FailureKind.CORRUPTED, re.compile(r"ciphertext verification failed|pack .* contains|hash does not match|"
                                       r"does not match|checksum|invalid data returned|Load\(<data/|"
                                       r"errors were found|decrypting blob|failed to decrypt", re.I)),
    (FailureKind.SNAPSHOT_NOT_FOUND, re.compile(r"no matching ID found|invalid id|no snapshot found", re.I)),
    (FailureKind.PATH_NOT_FOUND, re.compile(r"not found in snapshot", re.I)),
]


class ResticError(Exception):
    """A restic call failed; `kind` classifies it, `message` is plain, `detail` is restic's redacted output."""

    def __init__(self, kind: FailureKind, detail: str = "", exit_code: int | None = None) -> None:
        self.kind = kind
        self.detail = detail
        self.exit_code = exit_code
        super().__init__(self.message)

    @property
    def message(self) -> str:
        last_line = self.detail.strip().splitlines()[-1] if self.detail.strip() else ""
        plain = _PLAIN_MESSAGES[self.kind]
        return f"{plain} ({last_line})" if last_line and self.kind == FailureKind.FAILED else plain

    @property
    def is_backup_fault(self) -> bool:
        return self.kind in BACKUP_FAULTS


def classify(stderr: str) -> FailureKind:
    """Given restic's error output, return the failure kind it describes."""
    for kind, pattern in _CLASSIFIERS:
        if pattern.search(stderr):
            return kind
    return FailureKind.FAILED


@dataclass(frozen=True)
class Snapshot:
    id: str
    short_id: str
    time: datetime
    hostname: str
    username: str
    paths: tuple[str, ...]
    tags: tuple[str, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Snapshot":
        return cls(
            id=data["id"],
            short_id=data.get("short_id", data["id"][:8]),
            time=parse_restic_time(data["time"]),
            hostname=data.get("hostname", ""),
            username=data.get("username", ""),
            paths=tuple(data.get("paths") or ()),
            tags=tuple(data.get("tags") or ()),
        )


@dataclass(frozen=True)
class Node:
    """One entry of a snapshot's listing."""

    path: str
    type: str
    size: int
    mode: int


@dataclass(frozen=True)
class RestoreSize:
    bytes: int
    files: int


@dataclass(frozen=True)
class ResticCheckResult:
    passed: bool
    kind: FailureKind | None
    output: str


def parse_restic_time(text: str) -> datetime:
    """Given restic's RFC 3339 time with nanoseconds, return an aware datetime (microsecond precision)."""
    match = re.match(r"^(.*?T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    if not match:
        raise ValueError(f"unexpected time from restic: {text!r}")
    fraction = (match.group(2) or ".0")[:7]
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return datetime.fromisoformat(f"{match.group(1)}{fraction}{zone}")


def backend_type(repository_string: str) -> str:
    """Given a restic repository string, return its backend type: local, sftp, rest, s3, b2, azure, gs, rclone."""
    prefix, separator, _ = repository_string.partition(":")
    if separator and prefix in {"sftp", "rest", "s3", "b2", "azure", "gs", "rclone", "swift"}:
        return prefix
    return "local"


@dataclass
class Restic:
    """Given a job's repository settings, run restic against that repository."""

    repository: Repository
    cache_dir: Path
    timeout: float
    redactor: Redactor = field(default_factory=Redactor)
    control: RunControl | None = None  # a stopped run kills its restic processes

    def __post_init__(self) -> None:
        self._environment = self._build_environment()

    @cached_property
    def repository_string(self) -> str:
        if self.repository.url is not None:
            return self.repository.url
        assert self.repository.url_file is not None
        return self.repository.url_file.read_text(encoding="utf-8").strip()

    @property
    def backend(self) -> str:
        return backend_type(self.repository_string)

    @property
    def display_location(self) -> str:
        """The repository string with any credentials removed, safe for records and certificates."""
        return self.redactor.redact(re.sub(r"//[^/@]*@", "//", self.repository_string))

    def version(self) -> str:
        output = self._run(["version"], json_output=False)
        match = re.search(r"restic (\S+)", output)
        return match.group(1) if match else output.strip()

    def init(self) -> None:
        """Create the repository (used by `restoreproof demo` and the tests' fixtures)."""
        self._run(["init"], json_output=False)

    def backup(self, source: Path, tags: list[str] | None = None, host: str | None = None) -> str:
        """Back up a folder; return the new snapshot's id."""
        arguments = ["backup", str(source)] + [flag for tag in tags or [] for flag in ("--tag", tag)]
        if host:
            arguments += ["--host", host]
        output = self._execute(arguments + ["--json"], json_output=False, lock=True)
        if output.returncode != 0:
            detail = self.redactor.redact(output.stderr)
            raise ResticError(classify(detail), detail, output.returncode)
        summary = [json.loads(line) for line in output.stdout.splitlines() if '"summary"' in line]
        return str(summary[-1]["snapshot_id"])

    def repository_id(self) -> str:
        return str(json.loads(self._run(["cat", "config"], json_output=False))["id"])

    def snapshots(self, host: str | None = None, tags: list[str] | None = None,
                  paths: list[str] | None = None) -> list[Snapshot]:
        """Return the repository's snapshots matching the filters, oldest first."""
        arguments = ["snapshots"]
        if host:
            arguments += ["--host", host]
        for tag in tags or []:
            arguments += ["--tag", tag]
        for path in paths or []:
            arguments += ["--path", path]
        snapshots = [Snapshot.from_json(item) for item in json.loads(self._run(arguments) or "[]")]
        return sorted(snapshots, key=lambda snapshot: snapshot.time)

    def snapshot(self, snapshot_id: str) -> Snapshot:
        """Given a full or short id, return the snapshot; raise ResticError(SNAPSHOT_NOT_FOUND) otherwise."""
        matches = [snapshot for snapshot in self.snapshots() if snapshot.id.startswith(snapshot_id)]
        if len(matches) != 1:
            raise ResticError(FailureKind.SNAPSHOT_NOT_FOUND, f"no unique snapshot with id {snapshot_id}")
        return matches[0]

    def ls(self, snapshot_id: str) -> list[Node]:
        """Return every node of the snapshot's listing (the snapshot line itself is dropped)."""
        nodes = []
        for line in self._run(["ls", snapshot_id]).split("\n"):
            if not line.strip():
                continue
            item = json.loads(line)
            if item.get("struct_type", "node") == "node" and "path" in item:
                nodes.append(Node(item["path"], item["type"], int(item.get("size") or 0), int(item.get("mode") or 0)))
        return nodes

    def restore_size(self, snapshot_id: str) -> RestoreSize:
        data = json.loads(self._run(["stats", "--mode", "restore-size", snapshot_id]))
        return RestoreSize(bytes=int(data["total_size"]), files=int(data["total_file_count"]))

    def check(self, read_data_subset: str | None) -> ResticCheckResult:
        """Run `restic check`; return its outcome (a damaged repository is an outcome, not an exception).

        Without a lock, like every other call here: testing never writes to the repository (and works
        on append-only and object-locked ones). A prune running at the same moment can make it report
        errors that are not there -- a false failure, never a false pass.
        """
        arguments = ["check"] + ([f"--read-data-subset={read_data_subset}"] if read_data_subset else [])
        completed = self._execute(arguments, json_output=False, lock=False)
        output = self.redactor.redact(completed.stdout + completed.stderr)
        if completed.returncode == 0:
            return ResticCheckResult(True, None, output)
        kind = classify(output)
        if kind in (FailureKind.FAILED, FailureKind.CORRUPTED):
            return ResticCheckResult(False, FailureKind.CORRUPTED, output)
        raise ResticError(kind, output, completed.returncode)

    @contextmanager
    def dump(self, snapshot_id: str, path: str, archive: bool) -> Iterator[IO[bytes]]:
        """Stream `restic dump` of one path (a tar archive when `archive`); raise ResticError if it fails.

        The process is killed if the caller stops reading early, so a full pipe never blocks restic.
        """
        command = self._command(["dump"] + (["--archive", "tar"] if archive else []) + [snapshot_id, path], lock=False)
        process = self._spawn(command)
        assert process.stdout is not None and process.stderr is not None
        stderr_chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            _kill_group(process)

        timer = threading.Timer(self.timeout, expire)
        timer.start()
        reader_failed = False
        try:
            yield process.stdout
            while process.stdout.read(1 << 16):
                pass
        except BaseException:
            reader_failed = True
            raise
        finally:
            if reader_failed and process.poll() is None:
                _kill_group(process)
            returncode = _wait(process, self.timeout)
            timer.cancel()
            reader.join()
            process.stdout.close()
            stderr = self.redactor.redact(b"".join(stderr_chunks).decode("utf-8", "replace"))
            # restic's own failure is the root cause of whatever the reader saw (a truncated stream),
            # so it replaces the reader's exception. When the reader finished, ANY non-zero status counts:
            # restic killed by a signal mid-stream can leave a tar that looks complete.
            if timed_out.is_set():
                raise ResticError(FailureKind.TIMEOUT, stderr, returncode)
            if returncode > 0 or (returncode != 0 and not reader_failed):
                raise ResticError(classify(stderr), stderr or f"restic ended with status {returncode}", returncode)

    def _run(self, arguments: list[str], json_output: bool = True) -> str:
        completed = self._execute(arguments, json_output=json_output, lock=False)
        if completed.returncode != 0:
            detail = self.redactor.redact(completed.stderr)
            raise ResticError(classify(detail), detail, completed.returncode)
        return completed.stdout

    def _execute(self, arguments: list[str], json_output: bool, lock: bool) -> subprocess.CompletedProcess[str]:
        command = self._command(arguments + (["--json"] if json_output else []), lock=lock)
        try:
            return run_process(self.control, command, self._environment, self.timeout)
        except subprocess.TimeoutExpired as expired:
            raise ResticError(FailureKind.TIMEOUT, self.redactor.redact(str(expired.stderr or ""))) from None
        except FileNotFoundError:
            raise ResticError(FailureKind.NOT_INSTALLED) from None

    def _spawn(self, command: list[str]) -> subprocess.Popen[bytes]:
        try:
            # Its own process group: a terminal's Ctrl-C reaches us, not restic, and killing the
            # group also ends a password command or wrapper restic started.
            process = subprocess.Popen(command, env=self._environment, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True)
        except FileNotFoundError:
            raise ResticError(FailureKind.NOT_INSTALLED) from None
        if self.control is not None:
            self.control.kill_on_stop(process)
        return process

    def _command(self, arguments: list[str], lock: bool) -> list[str]:
        # Read-only commands take no lock, so testing never writes to the repository
        # (and works on append-only and object-locked backends).
        flags = ["--cache-dir", str(self.cache_dir), "--quiet"] + ([] if lock else ["--no-lock"])
        return [RESTIC_BINARY, *arguments[:1], *flags, *arguments[1:]]

    def _build_environment(self) -> dict[str, str]:
        environment = {key: value for key, value in os.environ.items() if not key.startswith("RESTIC_")}
        if self.repository.url is not None:
            environment["RESTIC_REPOSITORY"] = self.repository.url
            self.redactor.add_url_credentials(self.repository.url)
        else:
            environment["RESTIC_REPOSITORY_FILE"] = str(self.repository.url_file)
            self.redactor.add_url_credentials(self.repository_string)
        if self.repository.password_file is not None:
            environment["RESTIC_PASSWORD_FILE"] = str(self.repository.password_file)
            self.redactor.add_file_contents(self.repository.password_file)
        else:
            assert self.repository.password_command is not None
            environment["RESTIC_PASSWORD_COMMAND"] = self.repository.password_command
        if self.repository.env_file is not None:
            for key, value in read_env_file(self.repository.env_file).items():
                environment[key] = value
                if _SECRET_KEY.search(key):  # a region or endpoint stays readable in the evidence
                    self.redactor.add(value)
        return environment


def _wait(process: subprocess.Popen[bytes], timeout: float) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        return process.wait()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def read_env_file(path: Path) -> dict[str, str]:
    """Given a file of KEY=value lines (comments and blank lines allowed), return the mapping."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values
