"""Benchmark: restore throughput and orchestrator memory for one snapshot of a given size.

    python bench/restore_throughput.py --megabytes 200 --files 4000 --runs 3

Makes a real restic repository in a temporary folder, runs `restoreproof run --json` against it
with the real Docker engine, and prints the restore and total durations and the orchestrator's
peak RSS (it streams: memory should not grow with the snapshot's size).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


# Runs the CLI in this process and reports its own peak RSS (KiB) as the last line of stderr.
MEASURED_RUN = """
import resource, runpy, sys
sys.argv = ["restoreproof", *sys.argv[1:]]
try:
    runpy.run_module("orchestrator", run_name="__main__")
finally:
    print("peak-rss-kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def make_repository(root: Path, megabytes: int, files: int) -> tuple[Path, Path]:
    source, repository, password = root / "source", root / "repository", root / "password"
    size = megabytes * 1024 * 1024 // files
    for index in range(files):
        folder = source / f"folder-{index % 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file-{index:05d}.bin").write_bytes(os.urandom(size))
    password.write_text("benchmark-password\n")
    environment = {**os.environ, "RESTIC_REPOSITORY": str(repository), "RESTIC_PASSWORD_FILE": str(password)}
    for arguments in (["init"], ["backup", str(source)]):
        subprocess.run(["restic", *arguments, "--cache-dir", str(root / "cache"), "--quiet"], env=environment,
                       check=True)
    return repository, password


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--files", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="restoreproof-bench-") as folder:
        root = Path(folder)
        repository, password = make_repository(root, arguments.megabytes, arguments.files)
        config = root / "config"
        (config / "jobs").mkdir(parents=True)
        (config / "restoreproof.yml").write_text(f"state_dir: {root / 'state'}\n")
        (config / "jobs" / "bench.yml").write_text(
            f"repository:\n  url: {repository}\n  password_file: {password}\n"
            "target:\n  checks:\n    - type: tree\n")
        restores, totals, peaks = [], [], []
        for _ in range(arguments.runs):
            completed = subprocess.run([sys.executable, "-c", MEASURED_RUN, "--config", str(config), "run", "bench",
                                        "--json"], capture_output=True, text=True)
            run = json.loads(completed.stdout)
            assert run["status"] == "passed", run["message"]
            restores.append(run["durations"]["restore"])
            totals.append(run["durations"]["total"])
            peaks.append(int(completed.stderr.strip().splitlines()[-1].split()[-1]))
    print(f"snapshot: {arguments.megabytes} MiB in {arguments.files} files, {arguments.runs} runs")
    print(f"restore seconds: median {statistics.median(restores):.2f} (min {min(restores):.2f}, max {max(restores):.2f})"
          f" -> {arguments.megabytes / statistics.median(restores):.0f} MiB/s")
    print(f"total seconds:   median {statistics.median(totals):.2f}")
    print(f"orchestrator peak RSS: {max(peaks) / 1024:.0f} MiB (restic's own memory not included)")


if __name__ == "__main__":
    main()
