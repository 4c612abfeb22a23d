"""`restoreproof run JOB | --all`: one restore test now, or every job in turn with a scorecard."""

from __future__ import annotations

import argparse
import json
import sys

from orchestrator.commands import UsageError, job_named, load, open_database, remove_leftovers, worst_exit_code
from orchestrator.config import Config
from orchestrator.db import Run
from orchestrator.report import TextReporter, run_to_dict, write_scorecard, write_summary

HELP = "run one restore test now (or every job with --all)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", nargs="?", help="job name")
    parser.add_argument("--all", action="store_true", help="run every job in turn and print a scorecard")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def run(arguments: argparse.Namespace) -> int:
    config = load(arguments)
    if arguments.all == bool(arguments.job):
        raise UsageError("give a job name or --all")
    names = list(config.jobs) if arguments.all else [job_named(config, arguments.job).name]
    runs = run_jobs(config, names, quiet=arguments.json)
    if arguments.json:
        payload = [run_to_dict(run) for run in runs]
        print(json.dumps(payload if arguments.all else payload[0], indent=2))
    elif arguments.all:
        write_scorecard(runs, sys.stdout)
    return worst_exit_code(runs)


def run_jobs(config: Config, names: list[str], quiet: bool) -> list[Run]:
    """Given job names, run each through the pipeline now and return the recorded runs."""
    from orchestrator.pipeline import Pipeline

    database = open_database(config)
    remove_leftovers(database, config.state_dir)
    pipeline = Pipeline(config, database, reporter=TextReporter())
    runs = []
    for name in names:
        print(f"restoreproof: testing job '{name}'", file=sys.stderr)
        runs.append(database.get_run(pipeline.run(config.jobs[name])))
        if not quiet:
            write_summary(runs[-1], sys.stdout)
    return runs
