"""RunControl: the deadline and abort switch of one run, with real child processes."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from orchestrator.control import RunControl, RunStopped, run_process


def test_deadline_stops_the_run_and_kills_its_process() -> None:
    control = RunControl()
    control.arm(0.3)
    started = time.monotonic()

    completed = run_process(control, ["sleep", "30"], {}, timeout=60)

    assert time.monotonic() - started < 5
    assert completed.returncode == -9
    assert control.verdict() == ("failed", "timeout", control.message)
    assert "timeouts.run (0.3s)" in (control.message or "")
    with pytest.raises(RunStopped):
        control.check()


def test_abort_from_another_thread_runs_every_stop_action_once() -> None:
    control = RunControl()
    calls: list[str] = []
    with control.on_stop(lambda: calls.append("sandbox")):
        threading.Timer(0.2, control.abort, args=("shutdown", "the daemon was stopped")).start()
        completed = run_process(control, ["sleep", "30"], {}, timeout=60)
        control.abort("shutdown", "again")

    assert completed.returncode == -9
    assert calls == ["sandbox"]
    assert control.verdict() == ("aborted", "shutdown", "the daemon was stopped")


def test_a_disarmed_run_can_no_longer_be_stopped() -> None:
    control = RunControl()
    control.arm(0.1)
    control.disarm()
    time.sleep(0.3)
    control.abort("shutdown", "too late")

    assert not control.stopped
    control.check()


def test_actions_registered_after_the_stop_run_at_once() -> None:
    control = RunControl()
    control.abort("shutdown", "stopped")
    calls: list[str] = []

    with control.on_stop(lambda: calls.append("late")):
        pass

    assert calls == ["late"]


def test_own_timeout_raises_with_the_output_so_far() -> None:
    with pytest.raises(subprocess.TimeoutExpired) as raised:
        run_process(None, ["sh", "-c", "echo partial >&2; sleep 30"], {"PATH": "/usr/bin:/bin"}, timeout=0.5)

    assert raised.value.stderr == "partial\n"
