"""Who may run now: never two runs of one job at once, at most `limit` runs in all, the rest waiting in
due-time order. Each run gets its own thread and RunControl, so shutdown can abort them."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from orchestrator.control import RunControl

log = logging.getLogger(__name__)

QUEUED, SKIPPED, REFUSED = "queued", "skipped", "refused"

StartRun = Callable[[str, datetime, RunControl], None]


@dataclass(order=True)
class _Waiting:
    due_at: datetime
    sequence: int
    job: str = field(compare=False)


class Dispatcher:
    """Given the function that performs one run and the concurrency limit, start due runs as slots free up."""

    def __init__(self, start_run: StartRun, limit: int) -> None:
        self._start_run = start_run
        self._limit = limit
        self._lock = threading.Lock()
        self._waiting: list[_Waiting] = []
        self._running: dict[str, RunControl] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._sequence = itertools.count()
        self._stopping = False

    def submit(self, job: str, due_at: datetime) -> str:
        """Given a job that is due, queue it; return `skipped` if it is already waiting or running, `refused`
        once stopping."""
        with self._lock:
            if self._stopping:
                return REFUSED
            if job in self._running or any(waiting.job == job for waiting in self._waiting):
                return SKIPPED
            heapq.heappush(self._waiting, _Waiting(due_at, next(self._sequence), job))
            self._start_ready()
        return QUEUED

    def set_limit(self, limit: int) -> None:
        with self._lock:
            self._limit = limit
            self._start_ready()

    def running(self) -> list[str]:
        with self._lock:
            return sorted(self._running)

    def waiting(self) -> list[str]:
        with self._lock:
            return [entry.job for entry in sorted(self._waiting)]

    def stop(self, reason: str, message: str, timeout: float) -> tuple[list[tuple[str, datetime]], list[str]]:
        """Start nothing more, abort every running run and wait up to `timeout` seconds for them to end.

        Return the (job, due time) pairs that never started, and the jobs still running at the timeout.
        """
        with self._lock:
            self._stopping = True
            dropped = [(entry.job, entry.due_at) for entry in sorted(self._waiting)]
            self._waiting.clear()
            controls = list(self._running.values())
            threads = list(self._threads.values())
        for control in controls:
            control.abort(reason, message)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return dropped, self.running()

    def _start_ready(self) -> None:
        while self._waiting and len(self._running) < self._limit and not self._stopping:
            entry = heapq.heappop(self._waiting)
            control = RunControl()
            thread = threading.Thread(target=self._run, args=(entry.job, entry.due_at, control),
                                      name=f"run-{entry.job}", daemon=True)
            self._running[entry.job] = control
            self._threads[entry.job] = thread
            thread.start()

    def _run(self, job: str, due_at: datetime, control: RunControl) -> None:
        try:
            self._start_run(job, due_at, control)
        except Exception as error:  # noqa: BLE001 - one broken run must not stop the daemon
            log.error("run of job %s could not be completed: %s", job, error)
            log.debug("run failure", exc_info=True)
        finally:
            with self._lock:
                self._running.pop(job, None)
                self._threads.pop(job, None)
                self._start_ready()
