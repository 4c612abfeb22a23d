"""Every notice renders in both languages from its template triple; HTML is escaped; secrets are masked."""

from __future__ import annotations

from datetime import datetime, timezone

import jinja2
import pytest

from orchestrator.alerts.render import LANGUAGES, NOTICES, format_duration, render
from orchestrator.redact import Redactor
from orchestrator.resources import resource_dir

WHEN = datetime(2026, 11, 27, 3, 4, tzinfo=timezone.utc)
RUN = {"id": 7, "uid": "abc123", "status": "failed", "reason": "check-failed", "message": "checks not passed",
       "started_at": WHEN, "finished_at": WHEN}
CONTEXT = {
    "organisation": "Example Org", "job": "web", "job_description": "<script>alert(1)</script>",
    "reminder": False, "count": 2, "run": RUN,
    "snapshot": {"id": "ab" * 32, "short_id": "abababab", "time": WHEN, "host": "web01", "paths": ["/srv"]},
    "repository": {"id": "cd" * 32, "backend": "local", "location": "/srv/restic"},
    "checks": [{"name": "expect", "status": "failed", "detail": "missing: <db>/dump.sql"}],
    "failed_checks": [{"name": "expect", "status": "failed", "detail": "missing: <db>/dump.sql"}],
    "problem": "expect: missing: <db>/dump.sql", "durations": {"restore": 1.5, "checks": 0.2, "boot": None,
                                                                "total": 4.0},
    "last_pass": {"run_id": 3, "finished_at": WHEN, "snapshot_id": "efefefef"},
    "log_tail": "starting\nusing hunter2-secret\n", "failing_since": WHEN, "failing_for": 7200.0,
    "age_seconds": 90000.0, "rpo_seconds": 86400.0, "stale_since": WHEN,
    "last_result_at": None, "expected_by": WHEN, "overdue_for": 600.0,
    "server": "mail:587", "security": "starttls", "username": "alerts", "sender": "b@example.com",
    "recipients": ["ops@example.com"], "sent_at": WHEN,
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", NOTICES)
def test_every_notice_renders_in_every_language(name: str, language: str) -> None:
    for part in ("subject", "body-text", "body-html"):
        assert (resource_dir("templates") / "email" / language / f"{name}-{part}").is_file()
    rendered = render(name, language, CONTEXT, Redactor(["hunter2-secret"]))
    assert rendered.subject.startswith("[restoreproof] ") and "\n" not in rendered.subject
    assert "<script>" not in rendered.body_html
    assert rendered.body_html.lstrip().startswith("<!DOCTYPE html>") and f'lang="{language}"' in rendered.body_html
    for text in (rendered.subject, rendered.body_text, rendered.body_html):
        assert "hunter2-secret" not in text
    if name in ("failure", "error", "recovery", "stale-backup", "overdue"):
        assert "web" in rendered.subject


def test_failure_names_the_job_the_check_and_escapes_html() -> None:
    rendered = render("failure", "en", CONTEXT, Redactor(["hunter2-secret"]))
    assert rendered.subject == ("[restoreproof] restore test FAILED: web: expect: missing: <db>/dump.sql "
                                "(2 bad results in a row)")
    assert "[failed] expect: missing: <db>/dump.sql" in rendered.body_text
    assert "missing: &lt;db&gt;/dump.sql" in rendered.body_html
    assert "using [redacted]" in rendered.body_text
    assert "Last pass:  run 3 finished 2026-11-27 03:04 UTC (snapshot efefefef)" in rendered.body_text


def test_a_missing_fact_is_an_error_not_an_empty_string() -> None:
    context = dict(CONTEXT)
    del context["problem"]
    with pytest.raises(jinja2.UndefinedError):
        render("failure", "en", context, Redactor())


def test_durations_read_naturally() -> None:
    assert [format_duration(value) for value in (None, 4.25, 720, 3 * 3600 + 300, 3 * 86400 + 7200)] == [
        "-", "4.2 s", "12 min", "3 h 05 min", "3 d 2 h"]
