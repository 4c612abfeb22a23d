"""Decide which notices a finished run or a missed deadline calls for, and queue them, rendered.

A job's problem is a streak: the first bad result is told at once, later ones at most once per
`alerts.reminder_every` (with a count), except that a failed restore after runs that could not run at
all is told at once, since it is worse news. The first pass after a streak is always told.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from orchestrator.alerts.outbox import new_notice
from orchestrator.alerts.render import render
from orchestrator.alerts.smtp import SendError, read_password, resolve
from orchestrator.config import Config, Job
from orchestrator.config.schema import CanaryCheck
from orchestrator.db import Database, Run
from orchestrator.db.alerts_store import AlertStore, NewNotice, Streak, StreakStep
from orchestrator.redact import Redactor

log = logging.getLogger(__name__)

HEALTH, STALE, OVERDUE = "health", "stale-backup", "overdue"
FAILURE, ERROR, RECOVERY = "failure", "error", "recovery"
KIND_BY_STATUS = {"failed": FAILURE, "error": ERROR}
# As for the dead-man's switch, only a pass or a failure is a result; an error or an abort proved nothing.
RESULT_STATUSES = ("passed", "failed")
PROBLEM_LENGTH = 140


def next_step(streak: Streak | None, kind: str, now: datetime, reminder_every: timedelta) -> StreakStep:
    """Given a job's open problem (or None), one more bad result of `kind`, return the new state and whether to tell."""
    if streak is None:
        return StreakStep(Streak(now, 1, kind, now, 0), notify=True, reminder=False)
    counted = replace(streak, count=streak.count + 1)
    if kind == FAILURE and streak.notified_kind != FAILURE:
        return StreakStep(replace(counted, notified_kind=FAILURE, notified_at=now), notify=True, reminder=False)
    if now - streak.notified_at >= reminder_every:
        return StreakStep(replace(counted, notified_at=now, reminders=streak.reminders + 1), notify=True, reminder=True)
    return StreakStep(counted, notify=False, reminder=False)


def process_run(config: Config, database: Database, run: Run, now: datetime) -> None:
    """Given a finished run, queue the failure, error, recovery or stale-backup notices it calls for."""
    if not _wanted(config, run.job):
        return
    store = AlertStore(database)
    if run.status in RESULT_STATUSES:
        store.close_streak(run.job, OVERDUE)
    redactor = redactor_for(config, config.jobs.get(run.job))
    if run.status in KIND_BY_STATUS:
        _bad_result(config, database, store, run, KIND_BY_STATUS[run.status], now, redactor)
    elif run.status == "passed":
        streak = store.close_streak(run.job, HEALTH)
        if streak is not None:
            _recovery(config, database, store, run, streak, now, redactor)
    _staleness(config, store, run, now, redactor)


def notify_overdue(config: Config, database: Database, job: str, last_result_at: datetime | None,
                   expected_by: datetime, now: datetime) -> None:
    """Given a job with no result by `expected_by`, queue an `overdue` notice (then reminders per period)."""
    if not _wanted(config, job):
        return
    facts = {"last_result_at": last_result_at, "expected_by": expected_by,
             "overdue_for": (now - expected_by).total_seconds()}
    redactor = redactor_for(config, config.jobs.get(job))

    def build(step: StreakStep) -> NewNotice | None:
        key = f"overdue:{job}:{step.streak.opened_at.isoformat()}:{step.streak.reminders}"
        return _notice(config, OVERDUE, job, None, key, _context(config, job, step, facts), redactor)

    _advance(config, AlertStore(database), job, OVERDUE, OVERDUE, now, build)


def close_overdue(database: Database, still_overdue: set[str]) -> None:
    """End the overdue problem of every job not in `still_overdue` (a result came, or the schedule changed)."""
    store = AlertStore(database)
    for job in set(store.open_streaks(OVERDUE)) - still_overdue:
        store.close_streak(job, OVERDUE)


def recipients_for(config: Config, job_name: str | None) -> list[str]:
    """Given a job name (or None), return who hears about it: the job's own recipients and, unless the job
    opts out, alerts.recipients."""
    job = config.jobs.get(job_name) if job_name else None
    recipients = list(job.alerts.recipients) if job else []
    if job is None or job.alerts.include_global_recipients:
        recipients += config.settings.alerts.recipients
    return list(dict.fromkeys(recipients))


def redactor_for(config: Config, job: Job | None) -> Redactor:
    """Given the config and a job, return a Redactor that knows every secret an e-mail about it must not show."""
    redactor = Redactor()
    smtp = config.settings.smtp
    if smtp is not None:
        try:
            redactor.add(read_password(smtp, config.directory) or "")
        except SendError:
            pass
    if job is None:
        return redactor
    repository = job.repository
    for path in (repository.password_file, repository.url_file):
        if path is not None:
            redactor.add_file_contents(path)
    if repository.url:
        redactor.add_url_credentials(repository.url)
    if repository.url_file is not None:
        _add_url_file(redactor, repository.url_file)
    if repository.env_file is not None:
        _add_env_values(redactor, repository.env_file)
    for check in job.target.checks:
        if isinstance(check, CanaryCheck):
            redactor.add(check.content or "")
            if check.content_file is not None:
                redactor.add_file_contents(resolve(check.content_file, config.directory))
    return redactor


def _advance(config: Config, store: AlertStore, job: str, condition: str, kind: str, now: datetime,
             build: Callable[[StreakStep], NewNotice | None]) -> None:
    reminder_every = config.settings.alerts.reminder_every
    store.advance_streak(job, condition, lambda streak: next_step(streak, kind, now, reminder_every), build, now)


def _wanted(config: Config, job: str) -> bool:
    if config.settings.smtp is None:
        log.debug("no smtp settings: no alert e-mail about job %s", job)
        return False
    known = config.jobs.get(job)
    return known is None or known.alerts.enabled


def _bad_result(config: Config, database: Database, store: AlertStore, run: Run, kind: str, now: datetime,
                redactor: Redactor) -> None:
    def build(step: StreakStep) -> NewNotice | None:
        facts = {**run_facts(config, database, run), "failing_since": step.streak.opened_at}
        return _notice(config, kind, run.job, run.id, f"{kind}:run:{run.uid}",
                       _context(config, run.job, step, facts), redactor)

    _advance(config, store, run.job, HEALTH, kind, now, build)


def _recovery(config: Config, database: Database, store: AlertStore, run: Run, streak: Streak, now: datetime,
              redactor: Redactor) -> None:
    failing_for = ((run.finished_at or now) - streak.opened_at).total_seconds()
    facts = {**run_facts(config, database, run), "failing_since": streak.opened_at, "failing_for": failing_for,
             "count": streak.count, "reminder": False}
    notice = _notice(config, RECOVERY, run.job, run.id, f"recovery:run:{run.uid}",
                     _base_context(config, run.job) | facts, redactor)
    if notice is not None:
        store.add_notice(notice, now)


def _staleness(config: Config, store: AlertStore, run: Run, now: datetime, redactor: Redactor) -> None:
    if run.rpo_met is None:
        return
    if run.rpo_met:
        store.close_streak(run.job, STALE)
        return
    # The RPO is about the newest matching snapshot, which a run testing a random one also saw.
    age = run.newest_snapshot_age_seconds if run.newest_snapshot_age_seconds is not None else run.snapshot_age_seconds

    def build(step: StreakStep) -> NewNotice | None:
        facts = {"run": _run_summary(run), "snapshot": _snapshot(run), "age_seconds": age,
                 "rpo_seconds": run.rpo_seconds, "stale_since": step.streak.opened_at}
        return _notice(config, STALE, run.job, run.id, f"stale-backup:run:{run.uid}",
                       _context(config, run.job, step, facts), redactor)

    _advance(config, store, run.job, STALE, STALE, now, build)


def run_facts(config: Config, database: Database, run: Run) -> dict[str, Any]:
    """Given a finished run, return what a failure, error or recovery e-mail says about it."""
    checks = [{"name": check.name, "status": check.status, "detail": check.detail} for check in run.checks]
    bad = [check for check in checks if check["status"] in ("failed", "error")]
    last_pass = database.last_run_with_status(run.job, "passed", before_id=run.id)
    lines = config.settings.alerts.log_tail_lines
    return {
        "run": _run_summary(run),
        "snapshot": _snapshot(run),
        "repository": {"id": run.repository_id, "backend": run.repository_backend,
                       "location": run.repository_location} if run.repository_id else None,
        "checks": checks,
        "failed_checks": bad,
        "problem": _problem(run, bad),
        "durations": {"restore": run.restore_seconds, "checks": run.checks_seconds, "boot": run.boot_seconds,
                      "total": run.total_seconds},
        "last_pass": {"run_id": last_pass.id, "finished_at": last_pass.finished_at,
                      "snapshot_id": (last_pass.snapshot_id or "")[:8]} if last_pass else None,
        "log_tail": "\n".join((run.log_tail or "").splitlines()[-lines:]) if lines else "",
    }


def _run_summary(run: Run) -> dict[str, Any]:
    return {"id": run.id, "uid": run.uid, "status": run.status, "reason": run.reason or "",
            "message": run.message or "", "started_at": run.started_at, "finished_at": run.finished_at}


def _snapshot(run: Run) -> dict[str, Any] | None:
    if run.snapshot_id is None:
        return None
    return {"id": run.snapshot_id, "short_id": run.snapshot_id[:8], "time": run.snapshot_time,
            "host": run.snapshot_host or "", "paths": list(run.snapshot_paths or [])}


def _problem(run: Run, bad: list[dict[str, Any]]) -> str:
    if bad:
        first = f"{bad[0]['name']}: {bad[0]['detail']}"
        text = first if len(bad) == 1 else f"{first} (+{len(bad) - 1} more)"
    else:
        text = run.message or run.reason or run.status
    return text if len(text) <= PROBLEM_LENGTH else text[:PROBLEM_LENGTH - 1] + "…"


def _base_context(config: Config, job_name: str) -> dict[str, Any]:
    job = config.jobs.get(job_name)
    return {"organisation": config.settings.organisation, "job": job_name,
            "job_description": job.description if job else ""}


def _context(config: Config, job_name: str, step: StreakStep, facts: dict[str, Any]) -> dict[str, Any]:
    return {**_base_context(config, job_name), "reminder": step.reminder, "count": step.streak.count, **facts}


def _notice(config: Config, kind: str, job: str, run_id: int | None, dedup_key: str, context: dict[str, Any],
            redactor: Redactor) -> NewNotice | None:
    recipients = recipients_for(config, job)
    if not recipients:
        log.warning("no recipients for alert e-mails about job %s (set alerts.recipients): %s notice not queued",
                    job, kind)
        return None
    rendered = render(kind, config.settings.alerts.language, context, redactor)
    return new_notice(config, kind=kind, job=job, run_id=run_id, recipients=recipients, subject=rendered.subject,
                      body_text=rendered.body_text, body_html=rendered.body_html, dedup_key=dedup_key)


def _add_url_file(redactor: Redactor, path: Path) -> None:
    try:
        redactor.add_url_credentials(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        pass


def _add_env_values(redactor: Redactor, path: Path) -> None:
    """Hide every value of a KEY=value file: backend keys, tokens."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    for line in lines:
        _, separator, value = line.partition("=")
        if separator:
            redactor.add(value.strip().strip("'\""))
