"""The daemon's log: one line per event on stderr, as `time level event key=value ... message` or as JSON."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

from orchestrator.checks import CheckOutcome
from orchestrator.tarstream import StreamStats

log = logging.getLogger("restoreproof.daemon")

# Libraries whose routine chatter would drown the daemon's own events.
_QUIET_LOGGERS = {"apscheduler": logging.ERROR, "urllib3": logging.WARNING, "docker": logging.WARNING,
                  "alembic": logging.WARNING}


def event(name: str, message: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event: a short name (e.g. `run-started`), a plain message and key=value fields."""
    log.log(level, message, extra={"event": name, "fields": fields})


def configure_logging(log_format: str, verbose: bool) -> None:
    """Send every log record to stderr, one line each, as `text` or `json`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EventFormatter(json_lines=log_format == "json", tracebacks=verbose))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name, level in _QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else level)


class EventFormatter(logging.Formatter):
    """Format a record on one line; newlines inside messages are escaped so each event stays one line."""

    def __init__(self, json_lines: bool, tracebacks: bool) -> None:
        super().__init__()
        self.json_lines = json_lines
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        fields = {key: value for key, value in (getattr(record, "fields", {}) or {}).items() if value is not None}
        name = getattr(record, "event", None) or record.name
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            fields["error"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            if self.tracebacks:
                fields["traceback"] = self.formatException(record.exc_info)
        moment = datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
        if self.json_lines:
            payload = {"time": moment, "level": record.levelname.lower(), "event": name, "message": message}
            payload.update({key: _plain(value) for key, value in fields.items()})
            return json.dumps(payload, ensure_ascii=False)
        pairs = " ".join(f"{key}={_text(value)}" for key, value in fields.items())
        return " ".join(part for part in (moment, record.levelname, name, pairs, _one_line(message)) if part)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _text(value: Any) -> str:
    text = _one_line(str(_plain(value)))
    return json.dumps(text) if (" " in text or not text) else text


def _one_line(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


class DaemonReporter:
    """A pipeline Reporter that turns a run's phases and checks into log events."""

    def __init__(self, job: str) -> None:
        self.job = job

    def phase(self, name: str, detail: str = "") -> None:
        event("run-phase", detail, level=logging.DEBUG if name in ("prepare", "image") else logging.INFO,
              job=self.job, phase=name)

    def progress(self, stats: StreamStats, expected_bytes: int) -> None:
        pass

    def check(self, outcome: CheckOutcome) -> None:
        event("run-check", outcome.detail, job=self.job, check=outcome.name, status=outcome.status)
