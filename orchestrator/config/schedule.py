"""When a job runs on its own (`schedule` in a job file) and how the daemon behaves (`daemon` in
restoreproof.yml). Both are read by `restoreproof serve`; `restoreproof run` ignores them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from orchestrator.config.types import Duration, Strict

_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_PART = re.compile(r"^(\*|[a-z]{3}|\d)(?:-([a-z]{3}|\d))?(?:/(\d+))?$")


class Schedule(Strict):
    """A cron expression or a fixed interval, with optional jitter, in a time zone."""

    cron: str | None = Field(None, description="Crontab expression: 'minute hour day month weekday' (0 or 7 = "
                                                "Sunday); a sixth leading field gives seconds")
    every: Duration | None = Field(None, description="Fixed interval, e.g. 6h or 1d (first run one interval "
                                                     "after the daemon first sees the job)")
    jitter: Duration | None = Field(None, description="Start up to this much later, at random, to spread load")
    timezone: str = Field("UTC", description="IANA time zone the cron expression is read in, e.g. Europe/Paris")
    misfire_grace: Duration = Field(timedelta(hours=1), description="A run missed (daemon down or busy) still "
                                                                    "starts if no later than this; else it is "
                                                                    "recorded as missed")
    grace: Duration | None = Field(None, description="How long after a due time a result may take before the job "
                                                     "is overdue; default: the job's timeouts.run")

    @model_validator(mode="after")
    def _cron_or_every(self) -> "Schedule":
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of cron or every")
        return self

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None:
            cron_fields(value)
        return value

    @field_validator("every")
    @classmethod
    def _positive_interval(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value.total_seconds() < 1:
            raise ValueError("every must be at least 1s")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}' (use an IANA name such as Europe/Paris or UTC)") from None
        return value

    def describe(self) -> str:
        """Return the schedule as one short line, e.g. 'cron 0 3 * * * (Europe/Paris)' or 'every 6h'."""
        text = f"cron {self.cron}" if self.cron else f"every {_duration_text(self.every)}"
        if self.timezone != "UTC":
            text += f" ({self.timezone})"
        if self.jitter:
            text += f" ±{_duration_text(self.jitter)}"
        return text


def cron_fields(expression: str) -> dict[str, str]:
    """Given a crontab expression (5 fields, or 6 with leading seconds), return APScheduler CronTrigger
    arguments; raise ValueError naming the faulty field.

    Crontab counts weekdays from Sunday (0 or 7) while APScheduler 3 counts from Monday, so weekday
    numbers are translated to names here rather than passed through.
    """
    from apscheduler.triggers.cron import CronTrigger

    values = expression.split()
    if len(values) not in (5, 6):
        raise ValueError(f"a cron expression has 5 fields (minute hour day month weekday), got {len(values)}")
    names = ["minute", "hour", "day", "month", "day_of_week"]
    if len(values) == 6:
        names.insert(0, "second")
    arguments = dict(zip(names, values))
    arguments["day_of_week"] = crontab_weekdays(arguments["day_of_week"])
    try:
        CronTrigger(**arguments, timezone="UTC")  # type: ignore[arg-type]
    except ValueError as error:
        raise ValueError(f"invalid cron expression '{expression}': {error}") from None
    return arguments


def crontab_weekdays(field: str) -> str:
    """Given a crontab weekday field ('1-5', '0,6', 'sun', '*/2'), return it as APScheduler weekday names."""
    if field in ("*", "?"):
        return "*"
    days: list[int] = []
    for part in field.lower().split(","):
        match = _WEEKDAY_PART.match(part)
        if not match:
            raise ValueError(f"invalid weekday field '{field}'")
        first, last, step = match.groups()
        if first == "*":
            low, high = 0, 6
        else:
            low = _weekday(first)
            high = _weekday(last, end=True) if last else (6 if step else low)
        if high < low:
            raise ValueError(f"invalid weekday range '{part}'")
        days.extend(day % 7 for day in range(low, high + 1, int(step or 1)))
    return ",".join(_WEEKDAY_NAMES[day] for day in sorted(set(days)))


def _weekday(token: str, end: bool = False) -> int:
    """Given '0'-'7' or a day name, return 0-7; Sunday ends a range as 7 ('fri-sun')."""
    if token.isdigit():
        if int(token) > 7:
            raise ValueError(f"weekday {token} is out of range (0-7, 0 and 7 are Sunday)")
        return int(token)
    if token not in _WEEKDAY_NAMES:
        raise ValueError(f"unknown weekday '{token}'")
    index = _WEEKDAY_NAMES.index(token)
    return 7 if end and index == 0 else index


def _duration_text(value: timedelta | None) -> str:
    seconds = int(value.total_seconds()) if value else 0
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class MetricsSettings(Strict):
    enabled: bool = True
    host: str = Field("127.0.0.1", description="Address the /metrics and /healthz endpoint listens on")
    port: int = Field(9797, ge=0, le=65535, description="Its port (0 picks a free one, logged at start)")


class DaemonSettings(Strict):
    """How `restoreproof serve` behaves."""

    concurrency: int = Field(1, ge=1, description="At most this many restore tests at once; the rest wait in "
                                                  "due-time order")
    metrics: MetricsSettings = MetricsSettings()
    log_format: Literal["text", "json"] = Field("text", description="One line per event on stderr, as text or "
                                                                    "JSON")
    shutdown_timeout: Duration = Field(timedelta(seconds=30), description="On SIGTERM, how long running tests "
                                                                           "get to record `aborted` and remove "
                                                                           "their sandboxes")
