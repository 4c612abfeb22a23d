"""One module per subcommand. Each has HELP, `configure(parser)` and `run(arguments) -> exit code`;
cli.COMMANDS lists them all. Helpers shared by several commands live here."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from docker.errors import DockerException

from orchestrator.config import Config, Job, config_dir_from, load_config
from orchestrator.db import Database, Run
from orchestrator.owner import is_abandoned
from orchestrator.runners import RunnerUnavailable, get_runner

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_COULD_NOT_RUN = 0, 1, 2, 3
EXIT_BY_STATUS = {"passed": EXIT_OK, "failed": EXIT_FAILED, "error": EXIT_COULD_NOT_RUN,
                  "aborted": EXIT_COULD_NOT_RUN}

log = logging.getLogger("restoreproof")


class UsageError(Exception):
    """The command line asks for something that does not exist; exit 2."""


def load(arguments: argparse.Namespace) -> Config:
    """Given parsed arguments, return the config from --config, $RESTOREPROOF_CONFIG or the current directory."""
    directory = config_dir_from(arguments.config)
    if not directory.is_dir():
        raise UsageError(f"config directory {directory} does not exist")
    return load_config(directory)


def job_named(config: Config, name: str) -> Job:
    try:
        return config.job(name)
    except KeyError as unknown:
        raise UsageError(unknown.args[0]) from None


def open_database(config: Config) -> Database:
    database = Database(config.database_url)
    database.migrate()
    return database


def remove_leftovers(database: Database, state_dir: Path) -> None:
    """Record runs whose process died as `aborted` and remove sandboxes nobody owns any more."""
    from orchestrator.pipeline import remove_stale_run_caches

    for run_id in database.abort_abandoned(is_abandoned):
        log.warning("run %s was left running by a process that is gone: recorded as aborted", run_id)
    remove_stale_run_caches(state_dir, database.running_uids())
    try:
        for removed in get_runner("docker").remove_leftovers(is_abandoned):
            log.warning("removed leftover %s", removed)
    except (RunnerUnavailable, DockerException) as unavailable:
        log.warning("could not look for leftover sandboxes: %s", unavailable)


def worst_exit_code(runs: list[Run]) -> int:
    """Given finished runs, return 1 if any failed, else 3 if any could not run, else 0."""
    codes = {EXIT_BY_STATUS.get(run.status, EXIT_COULD_NOT_RUN) for run in runs}
    for code in (EXIT_FAILED, EXIT_COULD_NOT_RUN):
        if code in codes:
            return code
    return EXIT_OK
