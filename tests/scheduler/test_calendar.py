"""Calendar logic with an explicit `now`: fire times in a time zone, catching up after downtime (misfire
grace), and when a result is due. No sleeping: every moment is passed in."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from orchestrator.config.schedule import Schedule
from orchestrator.scheduler.calendar import (
    CATCH_UP_LIMIT,
    build_trigger,
    catch_up,
    expected_by,
    next_fire_after,
    trigger_fingerprint,
)

UTC = timezone.utc
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def schedule(**fields: object) -> Schedule:
    return Schedule.model_validate(fields)


def test_cron_reads_the_expression_in_its_time_zone() -> None:
    nightly = schedule(cron="0 3 * * *", timezone="Europe/Paris")

    assert next_fire_after(nightly, datetime(2026, 7, 1, tzinfo=UTC)) == datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    assert next_fire_after(nightly, datetime(2026, 1, 15, tzinfo=UTC)) == datetime(2026, 1, 15, 2, 0, tzinfo=UTC)


def test_cron_weekdays_count_from_sunday_like_crontab() -> None:
    mondays = schedule(cron="0 9 * * 1")
    sunday = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)

    assert next_fire_after(mondays, sunday) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert next_fire_after(schedule(cron="0 9 * * 0"), sunday) == datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_six_field_cron_has_seconds() -> None:
    assert next_fire_after(schedule(cron="*/10 * * * * *"), T0 + timedelta(seconds=3)) == T0 + timedelta(seconds=10)


def test_jitter_delays_within_its_bound() -> None:
    trigger = build_trigger(schedule(every="1h", jitter="5m"), start=T0)
    fires = [trigger.get_next_fire_time(None, T0) for _ in range(50)]

    assert all(T0 + timedelta(hours=1) <= fire <= T0 + timedelta(hours=1, minutes=5) for fire in fires)
    assert len(set(fires)) > 1


def test_downtime_within_misfire_grace_runs_the_newest_due_time_once() -> None:
    hourly = schedule(every="1h", misfire_grace="30m")
    trigger = build_trigger(hourly, start=T0 - timedelta(hours=1))  # first due at T0
    now = T0 + timedelta(hours=3, minutes=10)  # due at T0, +1h, +2h, +3h; the last one 10 min ago

    decision = catch_up(T0, trigger, now, hourly.misfire_grace)

    assert decision.run_at == T0 + timedelta(hours=3)
    assert (decision.missed_count, decision.first_missed, decision.last_missed) == (
        3, T0, T0 + timedelta(hours=2))
    assert decision.next_run_at == T0 + timedelta(hours=4)


def test_downtime_beyond_misfire_grace_runs_nothing_and_records_every_due_time() -> None:
    hourly = schedule(every="1h", misfire_grace="30m")
    trigger = build_trigger(hourly, start=T0 - timedelta(hours=1))
    now = T0 + timedelta(hours=1, minutes=45)

    decision = catch_up(T0, trigger, now, hourly.misfire_grace)

    assert decision.run_at is None
    assert (decision.missed_count, decision.first_missed, decision.last_missed) == (2, T0, T0 + timedelta(hours=1))
    assert decision.next_run_at == T0 + timedelta(hours=2)


def test_due_exactly_at_the_grace_boundary_still_runs() -> None:
    daily = schedule(cron="0 3 * * *", misfire_grace="1h")
    due = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)

    assert catch_up(due, build_trigger(daily), due + timedelta(hours=1), daily.misfire_grace).run_at == due
    assert catch_up(due, build_trigger(daily), due + timedelta(hours=1, seconds=1), daily.misfire_grace).run_at is None


def test_long_downtime_of_a_fast_schedule_is_counted_up_to_a_limit_and_skips_ahead() -> None:
    every_second = schedule(every="1s", misfire_grace="1s")
    trigger = build_trigger(every_second, start=T0 - timedelta(seconds=1))
    now = T0 + timedelta(days=1)

    decision = catch_up(T0, trigger, now, every_second.misfire_grace)

    assert decision.missed_count == CATCH_UP_LIMIT
    assert decision.next_run_at is not None and now < decision.next_run_at <= now + timedelta(seconds=1)


def test_expected_by_is_the_next_due_time_plus_jitter_plus_grace() -> None:
    timeout = timedelta(hours=2)

    assert expected_by(schedule(every="1d"), timeout, T0) == T0 + timedelta(days=1, hours=2)
    assert expected_by(schedule(every="1d", grace="30m", jitter="10m"), timeout, T0) == T0 + timedelta(
        days=1, minutes=40)
    after_a_run = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)
    assert expected_by(schedule(cron="0 3 * * *", grace="1h"), timeout, after_a_run) == datetime(
        2026, 11, 28, 4, 0, tzinfo=UTC)


def test_fingerprint_changes_with_the_fire_times_only() -> None:
    base = trigger_fingerprint(schedule(every="1d"))

    assert trigger_fingerprint(schedule(every="1d", misfire_grace="5h", grace="1h")) == base
    assert trigger_fingerprint(schedule(every="2d")) != base
    assert trigger_fingerprint(schedule(every="1d", timezone="Europe/Paris")) != base


@pytest.mark.parametrize("expression", ["0 3 * * *", "*/15 8-18 * * 1-5", "0 0 1 * *"])
def test_cron_fires_strictly_after_the_given_moment(expression: str) -> None:
    fire = next_fire_after(schedule(cron=expression), T0)

    assert fire > T0
    assert next_fire_after(schedule(cron=expression), fire) > fire
