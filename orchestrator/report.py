"""Turn recorded runs into what people read: one JSON object per run, or short aligned text."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any, TextIO

from orchestrator.checks import CheckOutcome
from orchestrator.db import Run
from orchestrator.tarstream import StreamStats

SYMBOLS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "error": "ERR ", "running": "....",
           "aborted": "ABRT"}


def run_to_dict(run: Run) -> dict[str, Any]:
    """Given a recorded run, return the JSON-ready object `run --json` and `history --json` print."""
    return {
        "run_id": run.id,
        "uid": run.uid,
        "job": run.job,
        "status": run.status,
        "reason": run.reason,
        "message": run.message,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "snapshot": {
            "id": run.snapshot_id,
            "time": iso(run.snapshot_time),
            "seen_at": iso(run.snapshot_seen_at),
            "host": run.snapshot_host,
            "paths": run.snapshot_paths,
            "tags": run.snapshot_tags,
            "age_seconds": _round(run.snapshot_age_seconds),
        },
        "repository": {"id": run.repository_id, "backend": run.repository_backend,
                       "location": run.repository_location, "host": run.repository_host,
                       "region": run.repository_region, "offsite_measured": run.repository_offsite,
                       "facts": run.repository_facts},
        "durations": {"restore": _round(run.restore_seconds), "checks": _round(run.checks_seconds),
                      "boot": _round(run.boot_seconds), "total": _round(run.total_seconds)},
        "restored": {"bytes": run.bytes_restored, "files": run.files_restored, "expected_bytes": run.expected_bytes},
        "targets": {"rto_seconds": run.rto_seconds, "rto_met": run.rto_met,
                    "rpo_seconds": run.rpo_seconds, "rpo_met": run.rpo_met},
        "checks": [{"name": check.name, "status": check.status, "detail": check.detail,
                    "seconds": check.seconds, "data": check.data} for check in run.checks],
        "versions": run.versions,
        "sandbox": run.sandbox,
        "log_tail": run.log_tail,
    }


def write_summary(run: Run, out: TextIO) -> None:
    """Write a short, readable account of one run."""
    out.write(f"\n{run.job}: {run.status.upper()}  (run {run.id})\n")
    if run.snapshot_id:
        out.write(f"  snapshot  {run.snapshot_id[:8]}  {when(run.snapshot_time)}  {run.snapshot_host}"
                  f"  {', '.join(run.snapshot_paths or [])}\n")
    if run.repository_id:
        out.write(f"  repository {run.repository_id[:12]} ({run.repository_backend}) {run.repository_location}\n")
    if run.files_restored is not None:
        out.write(f"  restored  {run.files_restored} files, {run.bytes_restored} bytes\n")
    for check in run.checks:
        out.write(f"  [{SYMBOLS.get(check.status, check.status)}] {check.name:<13} {check.detail}\n")
    out.write(f"  durations restore {_seconds(run.restore_seconds)} · checks {_seconds(run.checks_seconds)}"
              f" · boot {_seconds(run.boot_seconds)} · total {_seconds(run.total_seconds)}\n")
    out.write(f"  targets   RTO {_met(run.rto_met)} · RPO {_met(run.rpo_met)}\n")
    if run.message:
        out.write(f"  result    {run.message}\n")
    if run.log_tail:
        out.write("  log tail:\n" + "".join(f"    {line}\n" for line in run.log_tail.splitlines()[-15:]))


def write_history(runs: list[Run], out: TextIO) -> None:
    if not runs:
        out.write("no runs recorded\n")
        return
    out.write(f"{'run':>5}  {'job':<16} {'started (UTC)':<17} {'status':<8} {'snapshot':<9} {'restore':>8} "
              f"{'total':>8}  message\n")
    for run in runs:
        out.write(f"{run.id:>5}  {run.job[:16]:<16} {when(run.started_at):<17} {run.status:<8} "
                  f"{(run.snapshot_id or '-')[:8]:<9} {_seconds(run.restore_seconds):>8} "
                  f"{_seconds(run.total_seconds):>8}  {(run.message or '')[:80]}\n")


def write_scorecard(runs: list[Run], out: TextIO) -> None:
    out.write(f"\n{'job':<20} {'result':<8} {'restore':>9}  {'RTO met':<8} {'RPO met':<8}\n")
    for run in runs:
        out.write(f"{run.job[:20]:<20} {run.status:<8} {_seconds(run.restore_seconds):>9}  "
                  f"{_met(run.rto_met):<8} {_met(run.rpo_met):<8}\n")
    passed = sum(1 for run in runs if run.status == "passed")
    out.write(f"{passed} of {len(runs)} job(s) passed\n")


class TextReporter:
    """Shows progress on a terminal (stderr) while a run goes on."""

    def __init__(self, out: TextIO = sys.stderr) -> None:
        self.out = out
        self._live = out.isatty()

    def phase(self, name: str, detail: str = "") -> None:
        self._clear()
        self.out.write(f"  {name:<9} {detail}\n")
        self.out.flush()

    def progress(self, stats: StreamStats, expected_bytes: int) -> None:
        if not self._live:
            return
        share = f" ({100 * stats.bytes / expected_bytes:.0f}%)" if expected_bytes else ""
        self.out.write(f"\r  restoring {stats.files} files, {stats.bytes / 1048576:.1f} MiB{share}")
        self.out.flush()

    def check(self, outcome: CheckOutcome) -> None:
        self._clear()
        self.out.write(f"  {'checked':<9} {outcome.name}: {outcome.status}\n")
        self.out.flush()

    def _clear(self) -> None:
        if self._live:
            self.out.write("\r\033[K")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def _seconds(value: float | None) -> str:
    return f"{value:.1f}s" if value is not None else "-"


def _met(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "NO")
