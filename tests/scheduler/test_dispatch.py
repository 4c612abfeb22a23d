"""The dispatcher with a fake run at the seam (a function that waits until released): no overlap per job,
the concurrency limit, due-time order, and shutdown. Real threads, no Docker."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

from orchestrator.control import RunControl
from orchestrator.scheduler.dispatch import QUEUED, REFUSED, SKIPPED, Dispatcher

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


class FakeRuns:
    """Records starts; each run waits until released or aborted."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.running = 0
        self.most_at_once = 0

    def __call__(self, job: str, due_at: datetime, control: RunControl) -> None:
        with self.lock:
            self.started.append(job)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        with control.on_stop(self.release.set):
            self.release.wait(10)
        with self.lock:
            self.running -= 1

    def wait_started(self, count: int) -> None:
        deadline = time.monotonic() + 5
        while len(self.started) < count and time.monotonic() < deadline:
            time.sleep(0.01)


def test_a_job_never_runs_twice_at_once() -> None:
    runs = FakeRuns()
    dispatcher = Dispatcher(runs, limit=4)

    assert dispatcher.submit("web", T0) == QUEUED
    runs.wait_started(1)
    assert dispatcher.submit("web", T0 + timedelta(seconds=1)) == SKIPPED
    runs.release.set()
    dispatcher.stop("shutdown", "test over", timeout=5)
    assert runs.started == ["web"]


def test_the_limit_holds_and_waiting_runs_start_in_due_time_order() -> None:
    runs = FakeRuns()
    dispatcher = Dispatcher(runs, limit=1)

    dispatcher.submit("first", T0)
    runs.wait_started(1)
    dispatcher.submit("late", T0 + timedelta(seconds=9))
    dispatcher.submit("early", T0 + timedelta(seconds=3))
    assert dispatcher.waiting() == ["early", "late"]
    assert dispatcher.submit("early", T0 + timedelta(seconds=4)) == SKIPPED  # already waiting
    runs.release.set()
    runs.wait_started(3)
    dispatcher.stop("shutdown", "test over", timeout=5)

    assert runs.started == ["first", "early", "late"]
    assert runs.most_at_once == 1


def test_raising_the_limit_starts_waiting_runs() -> None:
    runs = FakeRuns()
    dispatcher = Dispatcher(runs, limit=1)
    for index, job in enumerate(["a", "b", "c"]):
        dispatcher.submit(job, T0 + timedelta(seconds=index))
    runs.wait_started(1)

    dispatcher.set_limit(3)
    runs.wait_started(3)

    assert sorted(dispatcher.running()) == ["a", "b", "c"]
    assert runs.most_at_once == 3
    runs.release.set()
    dispatcher.stop("shutdown", "test over", timeout=5)


def test_stop_aborts_running_runs_and_drops_waiting_ones() -> None:
    runs = FakeRuns()
    controls: list[RunControl] = []

    def run(job: str, due_at: datetime, control: RunControl) -> None:
        controls.append(control)
        runs(job, due_at, control)

    dispatcher = Dispatcher(run, limit=1)
    dispatcher.submit("running", T0)
    runs.wait_started(1)
    dispatcher.submit("waiting", T0 + timedelta(seconds=1))

    dropped, stuck = dispatcher.stop("shutdown", "the daemon was stopped", timeout=5)

    assert dropped == [("waiting", T0 + timedelta(seconds=1))]
    assert stuck == []
    assert controls[0].verdict() == ("aborted", "shutdown", "the daemon was stopped")
    assert dispatcher.submit("later", T0) == REFUSED


def test_a_run_that_raises_frees_its_slot() -> None:
    started: list[str] = []

    def broken(job: str, due_at: datetime, control: RunControl) -> None:
        started.append(job)
        raise RuntimeError("database went away")

    dispatcher = Dispatcher(broken, limit=1)
    dispatcher.submit("a", T0)
    dispatcher.submit("b", T0)
    deadline = time.monotonic() + 5
    while len(started) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)

    assert started == ["a", "b"]
