"""Benchmark of `restoreproof serve` with many jobs (not a test): start-up time, idle CPU and RSS, and the
delay between a run's due time and its start.

    python bench/bench_daemon.py [--jobs 500] [--idle 60] [--busy 40] [--due 10]

Phase 1 starts the daemon with --jobs jobs, none due (cron at 03:00 on 1 January), and measures its CPU
time and resident memory over --idle seconds. Phase 2 restarts it with --due of those jobs every 5s
(a wrong password makes each run fail fast inside restic; concurrency = --due, so no run waits for a
slot) and reads every `run-started` event's delay (due time to start) for --busy seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--idle", type=float, default=60)
    parser.add_argument("--busy", type=float, default=40)
    parser.add_argument("--due", type=int, default=10)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="restoreproof-bench-") as folder:
        root = Path(folder)
        repository, password = make_repository(root)
        config = write_config(root, repository, password, options.jobs, due=0)
        idle = measure_idle(config, root / "idle.log", options.idle)
        config = write_config(root, repository, password, options.jobs, due=options.due)
        delays = measure_delays(config, root / "busy.log", options.busy)
    report(options, idle, delays)


def make_repository(root: Path) -> tuple[Path, Path]:
    source, repository, password = root / "source", root / "repository", root / "password"
    source.mkdir()
    (source / "file.txt").write_text("benchmark\n")
    password.write_text("bench-password\n")
    environment = {**os.environ, "RESTIC_REPOSITORY": str(repository), "RESTIC_PASSWORD_FILE": str(password)}
    for arguments in (["init"], ["backup", str(source)]):
        subprocess.run(["restic", *arguments, "--cache-dir", str(root / "cache"), "--quiet"], env=environment,
                       check=True, capture_output=True)
    return repository, password


def write_config(root: Path, repository: Path, password: Path, jobs: int, due: int) -> Path:
    config = root / "config"
    (config / "jobs").mkdir(parents=True, exist_ok=True)
    # As many slots as due jobs: the delay measured is the scheduler's, not time spent waiting for a slot.
    (config / "restoreproof.yml").write_text(f"state_dir: {root / 'state'}\ndaemon:\n  concurrency: {max(1, due)}\n")
    wrong = root / "wrong-password"
    wrong.write_text("not-the-password\n")
    for index in range(jobs):
        is_due = index < due
        schedule = "every: 5s" if is_due else "cron: '0 3 1 1 *'"
        (config / "jobs" / f"job-{index:04d}.yml").write_text(
            f"repository:\n  url: {repository}\n  password_file: {wrong if is_due else password}\n"
            f"schedule:\n  {schedule}\n")
    return config


def start(config: Path, log: Path) -> tuple[subprocess.Popen[bytes], float]:
    began = time.monotonic()
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "orchestrator", "--config", str(config), "serve",
                                    "--log-format", "json", "--metrics-port", "0"], stdout=output, stderr=output)
    while '"daemon-started"' not in log.read_text():
        if process.poll() is not None:
            raise SystemExit(f"the daemon exited:\n{log.read_text()}")
        time.sleep(0.05)
    return process, time.monotonic() - began


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stop(process: subprocess.Popen[bytes]) -> float:
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    return time.monotonic() - began


def measure_idle(config: Path, log: Path, seconds: float) -> dict[str, float]:
    process, startup = start(config, log)
    time.sleep(5)  # let start-up work settle
    cpu_before, began = cpu_seconds(process.pid), time.monotonic()
    time.sleep(seconds)
    cpu = cpu_seconds(process.pid) - cpu_before
    elapsed = time.monotonic() - began
    rss = rss_mib(process.pid)
    stopping = stop(process)
    return {"startup_s": startup, "cpu_percent": 100 * cpu / elapsed, "rss_mib": rss, "stop_s": stopping}


def measure_delays(config: Path, log: Path, seconds: float) -> list[float]:
    process, restart = start(config, log)
    print(f"restart with the stored schedule: {restart:.1f}s to daemon-started")
    time.sleep(seconds)
    stop(process)
    delays = []
    for line in log.read_text().splitlines():
        entry = json.loads(line) if line.startswith("{") else {}
        if entry.get("event") == "run-started":
            delays.append(float(entry["delay_seconds"]))
    return delays


def report(options: argparse.Namespace, idle: dict[str, float], delays: list[float]) -> None:
    print(f"jobs: {options.jobs}   cores: {os.cpu_count()}   python: {sys.version.split()[0]}")
    print(f"start-up to daemon-started: {idle['startup_s']:.1f}s   SIGTERM to exit: {idle['stop_s']:.1f}s")
    print(f"idle ({options.idle:g}s, none due): CPU {idle['cpu_percent']:.2f}% of one core, RSS {idle['rss_mib']:.0f} MiB")
    if delays:
        ordered = sorted(delays)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(f"due-to-start delay over {len(delays)} runs ({options.due} jobs every 5s, concurrency {options.due}): "
              f"median {1000 * statistics.median(ordered):.0f} ms, p95 {1000 * p95:.0f} ms, "
              f"max {1000 * ordered[-1]:.0f} ms")
    else:
        print("no run started during the busy phase")


if __name__ == "__main__":
    main()
