"""Stop a run from outside its own thread: at its deadline (`timeouts.run`) or when the daemon shuts down.

A stop kills what the run is waiting on (its restic processes, its sandbox), so the run's thread
wakes up with some error; the pipeline then records the stop's verdict instead of that error.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

log = logging.getLogger(__name__)

TIMEOUT, ABORTED = "timeout", "aborted"


class RunStopped(Exception):
    """Raised inside a run between steps once its control has stopped it."""


class RunControl:
    """A deadline and an abort switch for one run; on either, every registered stop action is called once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._actions: dict[int, Callable[[], None]] = {}
        self._next_key = 0
        self._timer: threading.Timer | None = None
        self._timeout_seconds = 0.0
        self._done = False
        self.kind: str | None = None
        self.reason: str | None = None
        self.message: str | None = None

    @property
    def stopped(self) -> bool:
        return self.kind is not None

    def arm(self, timeout_seconds: float) -> None:
        """Stop the run as timed out after `timeout_seconds`, unless it is disarmed first."""
        with self._lock:
            if self._done or self._timer is not None:
                return
            self._timeout_seconds = timeout_seconds
            self._timer = threading.Timer(timeout_seconds, self._time_out)
            self._timer.daemon = True
            self._timer.start()

    def disarm(self) -> None:
        """The run has finished its steps: no stop may change its result any more."""
        with self._lock:
            self._done = True
            if self._timer is not None:
                self._timer.cancel()

    def abort(self, reason: str, message: str) -> None:
        """Given why (e.g. 'shutdown'), stop the run now; it is recorded `aborted`."""
        self._stop(ABORTED, reason, message)

    def check(self) -> None:
        """Raise RunStopped if the run has been stopped."""
        if self.stopped:
            raise RunStopped(self.message or "stopped")

    def verdict(self) -> tuple[str, str, str]:
        """Return (status, reason, message) to record for a stopped run."""
        assert self.kind is not None and self.reason is not None and self.message is not None
        return ("failed" if self.kind == TIMEOUT else "aborted"), self.reason, self.message

    @contextmanager
    def on_stop(self, action: Callable[[], None]) -> Iterator[None]:
        """Call `action` if the run is stopped while inside this block (at once if it already is)."""
        key = self._add(action)
        try:
            yield
        finally:
            with self._lock:
                self._actions.pop(key, None)

    def kill_on_stop(self, process: subprocess.Popen[Any]) -> None:
        """Kill this child process (and its group) if the run is stopped while it still runs."""
        self._add(lambda: kill_process(process))

    def _add(self, action: Callable[[], None]) -> int:
        with self._lock:
            key = self._next_key
            self._next_key += 1
            self._actions[key] = action
            already = self.stopped
        if already:
            _call(action)
        return key

    def _time_out(self) -> None:
        self._stop(TIMEOUT, TIMEOUT, f"the run did not finish within timeouts.run ({self._timeout_seconds:g}s): "
                                     "it was stopped and its sandbox killed")

    def _stop(self, kind: str, reason: str, message: str) -> None:
        with self._lock:
            if self._done or self.stopped:
                return
            self.kind, self.reason, self.message = kind, reason, message
            actions = list(self._actions.values())
        for action in actions:
            _call(action)


def _call(action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as error:  # noqa: BLE001 - one failed kill must not prevent the others
        log.warning("while stopping a run: %s", error)


def kill_process(process: subprocess.Popen[Any]) -> None:
    """Kill a still-running child (and its process group when it leads one)."""
    if process.poll() is not None:
        return
    try:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass


def watching(control: RunControl | None, process: subprocess.Popen[Any]) -> Any:
    """Return a context in which the process is killed if the run is stopped."""
    return control.on_stop(lambda: kill_process(process)) if control is not None else nullcontext()


def run_process(control: RunControl | None, command: list[str], environment: dict[str, str],
                timeout: float) -> subprocess.CompletedProcess[str]:
    """Like subprocess.run(capture_output=True, text=True, stdin=DEVNULL), but also killed when the run stops.

    Raise subprocess.TimeoutExpired (output attached) after `timeout` seconds, FileNotFoundError if the
    program does not exist.
    """
    # Its own session, as for `restic dump`: a terminal's Ctrl-C or a service manager's SIGTERM to the whole
    # group reaches us, not restic, so a stopped run is recorded as stopped rather than as a restic failure.
    with subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, text=True, start_new_session=True) as process, \
            watching(control, process):
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_process(process)
            stdout, stderr = process.communicate()
            raise subprocess.TimeoutExpired(command, timeout, output=stdout, stderr=stderr) from None
        except BaseException:
            kill_process(process)
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
