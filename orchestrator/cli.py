"""The `restoreproof` command: parse arguments, load config, dispatch to one action per subcommand.

Exit codes: 0 passed / ok, 1 a restore test failed, 2 config or usage error, 3 could not run.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Callable
from types import FrameType

from orchestrator import __version__
from orchestrator.config import Config, ConfigInvalid, config_dir_from, load_config
from orchestrator.db import Database, Run
from orchestrator.owner import is_abandoned
from orchestrator.report import TextReporter, run_to_dict, write_history, write_scorecard, write_summary
from orchestrator.restic import Restic, ResticError
from orchestrator.runners import RunnerUnavailable, get_runner

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_COULD_NOT_RUN = 0, 1, 2, 3
EXIT_BY_STATUS = {"passed": EXIT_OK, "failed": EXIT_FAILED, "error": EXIT_COULD_NOT_RUN,
                  "aborted": EXIT_COULD_NOT_RUN}

log = logging.getLogger("restoreproof")


class UsageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if arguments.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(COMMANDS[arguments.command](arguments))
    except ConfigInvalid as invalid:
        for error in invalid.errors:
            print(error, file=sys.stderr)
        return EXIT_USAGE
    except UsageError as error:
        print(f"restoreproof: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (RunnerUnavailable, ResticError) as error:
        print(f"restoreproof: {error}", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    except KeyboardInterrupt:
        print("restoreproof: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="restoreproof", description="Prove that restic backups restore.")
    parser.add_argument("--config", help="config directory (default: $RESTOREPROOF_CONFIG or the current directory)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log debug details to stderr")
    parser.add_argument("--version", action="version", version=f"restoreproof {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("validate", help="check restoreproof.yml and jobs/*.yml; exit 2 listing every error")

    run = commands.add_parser("run", help="run one restore test now (or every job with --all)")
    run.add_argument("job", nargs="?", help="job name")
    run.add_argument("--all", action="store_true", help="run every job in turn and print a scorecard")
    run.add_argument("--json", action="store_true", help="print the result as one JSON object")

    history = commands.add_parser("history", help="past runs, newest first")
    history.add_argument("job", nargs="?", help="only this job")
    history.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    history.add_argument("--json", action="store_true", help="print a JSON list")

    snapshots = commands.add_parser("snapshots", help="what a job's repository holds")
    snapshots.add_argument("job", help="job name")
    snapshots.add_argument("--json", action="store_true", help="print a JSON list")

    demo = commands.add_parser("demo", help="make a demo repository and job, run it, show the result")
    demo.add_argument("--json", action="store_true", help="print the result as one JSON object")
    return parser


def command_validate(arguments: argparse.Namespace) -> int:
    config = _config(arguments)
    print(f"ok: {len(config.jobs)} job(s) valid in {config.directory}")
    return EXIT_OK


def command_run(arguments: argparse.Namespace) -> int:
    from orchestrator.pipeline import Pipeline

    config = _config(arguments)
    if arguments.all == bool(arguments.job):
        raise UsageError("give a job name or --all")
    jobs = list(config.jobs.values()) if arguments.all else [_job(config, arguments.job)]
    database = open_database(config)
    remove_leftovers(database)
    pipeline = Pipeline(config, database, reporter=TextReporter())
    runs: list[Run] = []
    for job in jobs:
        print(f"restoreproof: testing job '{job.name}'", file=sys.stderr)
        runs.append(database.get_run(pipeline.run(job)))
        if not arguments.json:
            write_summary(runs[-1], sys.stdout)
    if arguments.json:
        payload = [run_to_dict(run) for run in runs]
        print(json.dumps(payload if arguments.all else payload[0], indent=2))
    elif arguments.all:
        write_scorecard(runs, sys.stdout)
    return worst_exit_code(runs)


def command_history(arguments: argparse.Namespace) -> int:
    config = _config(arguments)
    if arguments.job:
        _job(config, arguments.job)
    runs = open_database(config).history(arguments.job, arguments.limit)
    if arguments.json:
        print(json.dumps([run_to_dict(run) for run in runs], indent=2))
    else:
        write_history(runs, sys.stdout)
    return EXIT_OK


def command_snapshots(arguments: argparse.Namespace) -> int:
    config = _config(arguments)
    job = _job(config, arguments.job)
    restic = Restic(job.repository, config.state_dir / "restic-cache", job.timeouts.restic.total_seconds())
    snapshots = restic.snapshots(job.snapshot.host, job.snapshot.tags, job.snapshot.paths)
    if arguments.json:
        print(json.dumps([{"id": s.id, "short_id": s.short_id, "time": s.time.isoformat(), "host": s.hostname,
                           "username": s.username, "paths": list(s.paths), "tags": list(s.tags)}
                          for s in reversed(snapshots)], indent=2))
        return EXIT_OK
    print(f"{'id':<9} {'time (UTC)':<20} {'host':<16} {'tags':<16} paths")
    for snapshot in reversed(snapshots):
        print(f"{snapshot.short_id:<9} {snapshot.time:%Y-%m-%d %H:%M:%S}  {snapshot.hostname[:16]:<16} "
              f"{','.join(snapshot.tags)[:16]:<16} {', '.join(snapshot.paths)}")
    print(f"{len(snapshots)} snapshot(s) in {restic.display_location}")
    return EXIT_OK


def command_demo(arguments: argparse.Namespace) -> int:
    from orchestrator.demo import prepare_demo

    config_dir = config_dir_from(arguments.config)
    base = load_config(config_dir)
    demo_dir = prepare_demo(base.state_dir)
    print(f"restoreproof: demo repository and job written to {demo_dir}", file=sys.stderr)
    arguments.config, arguments.job, arguments.all = str(demo_dir), "demo", False
    code = command_run(arguments)
    if not arguments.json:
        print(f"\nTry next:  restoreproof --config {demo_dir} history")
        print(f"           restoreproof --config {demo_dir} snapshots demo")
        print(f"           cat {demo_dir}/jobs/demo.yml")
    return code


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "validate": command_validate,
    "run": command_run,
    "history": command_history,
    "snapshots": command_snapshots,
    "demo": command_demo,
}


def open_database(config: Config) -> Database:
    database = Database(config.database_url)
    database.migrate()
    return database


def remove_leftovers(database: Database) -> None:
    """Record runs whose process died as `aborted` and remove their sandboxes."""
    for run_id in database.abort_abandoned(is_abandoned):
        log.warning("run %s was left running by a process that is gone: recorded as aborted", run_id)
    try:
        for removed in get_runner("docker").remove_leftovers(is_abandoned):
            log.warning("removed leftover %s", removed)
    except RunnerUnavailable as unavailable:
        log.warning("could not look for leftover sandboxes: %s", unavailable)


def worst_exit_code(runs: list[Run]) -> int:
    codes = {EXIT_BY_STATUS.get(run.status, EXIT_COULD_NOT_RUN) for run in runs}
    for code in (EXIT_FAILED, EXIT_COULD_NOT_RUN):
        if code in codes:
            return code
    return EXIT_OK


def _config(arguments: argparse.Namespace) -> Config:
    return load_config(config_dir_from(arguments.config))


def _job(config: Config, name: str):  # type: ignore[no-untyped-def]
    try:
        return config.job(name)
    except KeyError as unknown:
        raise UsageError(unknown.args[0]) from None


def _terminate(signal_number: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal_number}")
