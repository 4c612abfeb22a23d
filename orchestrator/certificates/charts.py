"""Geometry of the two pictures drawn per job (the templates turn it into inline SVG): restore duration
across the month against the RTO target, and a calendar strip of each day's results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.certificates.formatting import as_datetime
from orchestrator.certificates.period import Month

WIDTH, HEIGHT = 520.0, 120.0
LEFT, RIGHT, TOP, BOTTOM = 54.0, 12.0, 10.0, 18.0
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
STRIP_HEIGHT, CELL_HEIGHT = 34.0, 16.0
# A day with any failed run is red even if another run passed: the strip must not hide a failure.
DAY_PRECEDENCE = ("failed", "error", "aborted", "passed")
TICKS = 4
# Round steps for the duration axis, in seconds: 1 s up to 1 day.
TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    status: str
    seconds: float | None


@dataclass(frozen=True)
class Tick:
    position: float
    value: float | int


@dataclass(frozen=True)
class DurationChart:
    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float
    points: list[Point]
    line: str
    rto_y: float | None
    y_ticks: list[Tick]
    x_ticks: list[Tick]


@dataclass(frozen=True)
class Day:
    number: int
    x: float
    width: float
    status: str
    runs: int


@dataclass(frozen=True)
class CalendarStrip:
    width: float
    height: float
    cell_height: float
    days: list[Day] = field(default_factory=list)


def duration_chart(month: Month, runs: list[dict[str, Any]], rto_seconds: float | None) -> DurationChart:
    """Given the month, a job's run evidence and its RTO, return where each run's restore duration is drawn."""
    durations = [run["restore"]["seconds"] for run in runs if run["restore"]["seconds"] is not None]
    step = _tick_step(max(durations + ([rto_seconds] if rto_seconds else []) + [1.0]) * 1.1)
    ticks = [step * index for index in range(TICKS + 1)]
    top_value = max(durations + ([rto_seconds] if rto_seconds else []) + [1.0]) * 1.1
    top_value = next(value for value in ticks if value >= top_value)
    points = [Point(_x(month, run["started_at"]), _y(run["restore"]["seconds"] or 0.0, top_value), run["status"],
                    run["restore"]["seconds"]) for run in runs]
    line = " ".join(f"{point.x:.1f},{point.y:.1f}" for point in points if point.seconds is not None)
    return DurationChart(
        WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM, points, line,
        _y(rto_seconds, top_value) if rto_seconds else None,
        [Tick(_y(value, top_value), value) for value in ticks if value <= top_value],
        [Tick(LEFT + (day - 1 + 0.5) / month.days * PLOT_WIDTH, day) for day in range(1, month.days + 1, 7)],
    )


def calendar_strip(month: Month, runs: list[dict[str, Any]]) -> CalendarStrip:
    """Given the month and a job's run evidence, return one cell per day coloured by that day's worst result."""
    per_day: dict[int, list[str]] = {}
    for run in runs:
        per_day.setdefault(as_datetime(run["started_at"]).day, []).append(run["status"])
    cell = PLOT_WIDTH / month.days
    days = [Day(day, LEFT + (day - 1) * cell, cell, _day_status(per_day.get(day, [])), len(per_day.get(day, [])))
            for day in range(1, month.days + 1)]
    return CalendarStrip(WIDTH, STRIP_HEIGHT, CELL_HEIGHT, days)


def _tick_step(top_value: float) -> float:
    """Given the largest value to show, return the smallest round step that reaches it in TICKS steps."""
    for step in TICK_STEPS:
        if step * TICKS >= top_value:
            return float(step)
    return float(86400 * (int(top_value / (86400 * TICKS)) + 1))


def _day_status(statuses: list[str]) -> str:
    for status in DAY_PRECEDENCE:
        if status in statuses:
            return status
    return "none"


def _x(month: Month, started_at: str) -> float:
    share = (as_datetime(started_at) - month.start) / (month.end - month.start)
    return LEFT + min(max(share, 0.0), 1.0) * PLOT_WIDTH


def _y(seconds: float, top_value: float) -> float:
    return TOP + PLOT_HEIGHT * (1 - min(seconds / top_value, 1.0))
