"""What reacts to a finished run, listed explicitly in order. A hook that fails is logged; the run's
record is already complete by then, so nothing about the run is lost."""

from __future__ import annotations

from typing import Protocol

from orchestrator.alerts import alert_after_run
from orchestrator.certificates.sealing import seal_finished_runs
from orchestrator.config import Config
from orchestrator.db import Database, Run


class RunFinishedHook(Protocol):
    def __call__(self, config: Config, database: Database, run: Run) -> None:
        """Given the config, the database and a finished run, react to it (alert, chain, ...)."""


def finished_hooks() -> list[RunFinishedHook]:
    return [seal_finished_runs, alert_after_run]
