"""The scheduler daemon (`restoreproof serve`): calendar logic, dispatching runs within limits, the
dead-man's switch, and the metrics/health endpoint. Its persistent state lives in the run database."""
