"""The `schedule` of a job and the `daemon` settings: defaults, and every mistake located as file:line:col."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from orchestrator.config import ConfigInvalid, load_config
from orchestrator.config.schedule import crontab_weekdays

JOB = """\
repository:
  url: /srv/restic
  password_file: /etc/restoreproof/web.pass
"""


def write(directory: Path, job: str, settings: str = "") -> Path:
    (directory / "jobs").mkdir(exist_ok=True)
    (directory / "jobs" / "web.yml").write_text(JOB + textwrap.dedent(job))
    (directory / "restoreproof.yml").write_text(textwrap.dedent(settings))
    return directory


def errors(directory: Path) -> list[str]:
    with pytest.raises(ConfigInvalid) as raised:
        load_config(directory)
    return [str(error) for error in raised.value.errors]


def test_no_schedule_and_default_daemon_settings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))

    assert config.jobs["web"].schedule is None
    daemon = config.settings.daemon
    assert (daemon.concurrency, daemon.metrics.host, daemon.log_format) == (1, "127.0.0.1", "text")


def test_cron_and_interval_schedules_load(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """\
        schedule:
          cron: "30 2 * * 1-5"
          timezone: Europe/Paris
          jitter: 10m
          misfire_grace: 2h
        """, "daemon:\n  concurrency: 3\n  log_format: json\n"))

    schedule = config.jobs["web"].schedule
    assert schedule is not None
    assert schedule.describe() == "cron 30 2 * * 1-5 (Europe/Paris) ±10m"
    assert schedule.misfire_grace == timedelta(hours=2)
    assert config.settings.daemon.concurrency == 3


@pytest.mark.parametrize(("schedule", "expected"), [
    ('  cron: "61 * * * *"\n', "jobs/web.yml:5:3: job 'web': schedule.cron: invalid cron expression '61 * * * *'"),
    ("  cron: 0 3 * *\n", "jobs/web.yml:5:3: job 'web': schedule.cron: a cron expression has 5 fields"),
    ("  every: 1d\n  timezone: Mars/Olympus\n", "jobs/web.yml:6:3: job 'web': schedule.timezone: unknown time zone"),
    ("  every: soon\n", "jobs/web.yml:5:3: job 'web': schedule.every: 'soon' is not a duration"),
    ("  jitter: 5m\n", "jobs/web.yml:4:1: job 'web': schedule: give exactly one of cron or every"),
    ("  every: 1d\n  when: now\n", "jobs/web.yml:6:3: job 'web': schedule.when: extra inputs are not permitted"),
])
def test_schedule_mistakes_are_located(tmp_path: Path, schedule: str, expected: str) -> None:
    found = errors(write(tmp_path, "schedule:\n" + schedule))

    assert any(line.startswith(expected) for line in found), found


def test_daemon_setting_mistakes_are_located(tmp_path: Path) -> None:
    found = errors(write(tmp_path, "", "daemon:\n  concurrency: 0\n  log_format: xml\n"))

    assert found[0].startswith("restoreproof.yml:2:3: daemon.concurrency: input should be greater than or equal to 1")
    assert found[1].startswith("restoreproof.yml:3:3: daemon.log_format: input should be 'text' or 'json'")


@pytest.mark.parametrize(("crontab", "names"), [
    ("*", "*"), ("0", "sun"), ("7", "sun"), ("1-5", "mon,tue,wed,thu,fri"), ("fri-sun", "sun,fri,sat"),
    ("6,0", "sun,sat"), ("*/2", "sun,tue,thu,sat"), ("1/2", "mon,wed,fri"),
])
def test_crontab_weekdays_count_from_sunday(crontab: str, names: str) -> None:
    assert crontab_weekdays(crontab) == names
