"""The run database: connection, migrations and every query, in one place."""

from orchestrator.db.models import CheckResult, Run
from orchestrator.db.store import Database

__all__ = ["CheckResult", "Database", "Run"]
