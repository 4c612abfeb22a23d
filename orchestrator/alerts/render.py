"""Turn a notice's facts into an e-mail's subject, text body and HTML body, from the template triple
`templates/email/<language>/<name>-subject`, `-body-text` and `-body-html` (Jinja2, StrictUndefined;
HTML autoescaped)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import jinja2

from orchestrator.redact import Redactor
from orchestrator.resources import resource_dir

NOTICES = ("failure", "recovery", "overdue", "stale-backup", "error", "test")
LANGUAGES = ("en", "fr")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body_text: str
    body_html: str


def render(name: str, language: str, context: dict[str, Any], redactor: Redactor) -> Rendered:
    """Given a notice name, a language and its facts, return the e-mail's three parts with secrets masked.

    Raise jinja2.UndefinedError if a template uses a fact the context lacks.
    """
    environment = _environment()
    facts = _redacted(context, redactor)
    parts = [environment.get_template(f"{language}/{name}-{part}").render(facts)
             for part in ("subject", "body-text", "body-html")]
    subject = " ".join(redactor.redact(parts[0]).split())
    return Rendered(subject, redactor.redact(parts[1]), redactor.redact(parts[2]))


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates") / "email")),
        undefined=jinja2.StrictUndefined,
        autoescape=lambda name: name is not None and name.endswith(("-body-html", ".html")),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = format_when
    environment.filters["duration"] = format_duration
    return environment


def format_when(value: datetime | None) -> str:
    """Given an aware datetime, return '2026-11-27 03:04 UTC'; '-' for None."""
    if value is None:
        return "-"
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def format_duration(value: float | timedelta | None) -> str:
    """Given seconds (or a timedelta), return '4.2 s', '12 min', '3 h 05 min' or '2 d 4 h'; '-' for None."""
    if value is None:
        return "-"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _redacted(value: Any, redactor: Redactor) -> Any:
    # Masked before rendering too, so a secret that HTML escaping would change is still caught.
    if isinstance(value, str):
        return redactor.redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item, redactor) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(item, redactor) for item in value]
    return value
