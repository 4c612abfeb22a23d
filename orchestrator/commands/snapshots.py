"""`restoreproof snapshots JOB`: what the job's repository holds (matching the job's filters)."""

from __future__ import annotations

import argparse
import json

from orchestrator.commands import EXIT_OK, job_named, load
from orchestrator.restic import Restic

HELP = "what a job's repository holds"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", help="job name")
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(arguments: argparse.Namespace) -> int:
    config = load(arguments)
    job = job_named(config, arguments.job)
    restic = Restic(job.repository, config.state_dir / "restic-cache", job.timeouts.restic.total_seconds())
    snapshots = list(reversed(restic.snapshots(job.snapshot.host, job.snapshot.tags, job.snapshot.paths)))
    if arguments.json:
        print(json.dumps([{"id": s.id, "short_id": s.short_id, "time": s.time.isoformat(), "host": s.hostname,
                           "username": s.username, "paths": list(s.paths), "tags": list(s.tags)}
                          for s in snapshots], indent=2))
        return EXIT_OK
    print(f"{'id':<9} {'time (UTC)':<20} {'host':<16} {'tags':<16} paths")
    for snapshot in snapshots:
        print(f"{snapshot.short_id:<9} {snapshot.time:%Y-%m-%d %H:%M:%S}  {snapshot.hostname[:16]:<16} "
              f"{','.join(snapshot.tags)[:16]:<16} {', '.join(snapshot.paths)}")
    print(f"{len(snapshots)} snapshot(s) in {restic.display_location}")
    return EXIT_OK
