"""The run-finished hook that seals runs into the run chain as soon as they finish."""

from __future__ import annotations

from orchestrator.config import Config
from orchestrator.db import Database, Run
from orchestrator.db.certificates_store import CertificateStore


def seal_finished_runs(config: Config, database: Database, run: Run) -> None:
    """Given a finished run, seal it (and any finished run not sealed yet, e.g. one recorded `aborted` after
    its process died) into the run chain. Issuing a certificate seals too, so a failure here loses nothing."""
    CertificateStore(database).seal_pending()
