"""The run database: connection, migrations and every query, in one place."""

from orchestrator.db.models import CheckResult, Run
from orchestrator.db.store import Database

__all__ = ["CheckResult", "Database", "Run"]
from orchestrator.db import models_alerts  # noqa: E402,F401 - registers the alert tables
from orchestrator.db import models_certificates  # noqa: E402,F401 - registers the certificate table
from orchestrator.db import models_probes  # noqa: E402,F401 - registers the read-data rotation table
from orchestrator.db import models_scheduler  # noqa: E402,F401 - registers the scheduler tables
