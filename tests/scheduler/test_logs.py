"""The daemon's log lines: one line per event, as text or JSON, with fields and without tracebacks."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from orchestrator.scheduler.logs import EventFormatter


def record(message: str, **fields: object) -> logging.LogRecord:
    entry = logging.LogRecord("restoreproof.daemon", logging.WARNING, __file__, 1, message, None, None)
    entry.event = "run-finished"
    entry.fields = fields
    return entry


def test_text_lines_carry_the_event_and_fields_on_one_line() -> None:
    line = EventFormatter(json_lines=False, tracebacks=False).format(
        record("checks not passed:\ntree (failed)", job="web", status="failed", reason=None, seconds=3.2))

    assert "\n" not in line
    assert line.split(" ", 2)[1:] == ["WARNING", "run-finished job=web status=failed seconds=3.2 "
                                                 "checks not passed:\\ntree (failed)"]


def test_json_lines_parse_and_keep_types() -> None:
    due = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
    line = EventFormatter(json_lines=True, tracebacks=False).format(record("started", job="web", due_at=due,
                                                                           delay_seconds=0.01))

    payload = json.loads(line)
    assert payload["event"] == "run-finished" and payload["level"] == "warning"
    assert (payload["job"], payload["due_at"], payload["delay_seconds"]) == ("web", due.isoformat(), 0.01)


def test_an_exception_is_one_field_not_a_traceback() -> None:
    try:
        raise RuntimeError("database went away")
    except RuntimeError:
        import sys

        entry = logging.LogRecord("orchestrator.x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = EventFormatter(json_lines=False, tracebacks=False).format(entry)

    assert "\n" not in line and "error=\"RuntimeError: database went away\"" in line
    assert "orchestrator.x" in line
