"""`restoreproof serve`: run every scheduled job through the same Pipeline as `restoreproof run`.

Threads: APScheduler decides when jobs are due (its job store is a table of the run database); the
Dispatcher starts runs, one thread each, within the concurrency limit; the HTTP endpoint serves metrics.
The main thread only waits for signals: SIGHUP reloads the config, SIGTERM/SIGINT stop the daemon.
"""

from __future__ import annotations

import logging
import os
from collections import deque
import select
import signal
import socket
from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text

from orchestrator.commands import open_database, remove_leftovers
from orchestrator.config import Config, ConfigInvalid, load_config
from orchestrator.control import RunControl
from orchestrator.daemon_tasks import PeriodicTask, periodic_tasks
from orchestrator.db.scheduler_store import SchedulerStore
from orchestrator.db.store import utcnow
from orchestrator.owner import current_owner, is_abandoned
from orchestrator.runners import RunnerUnavailable, get_runner
from orchestrator.scheduler.dispatch import QUEUED, SKIPPED, Dispatcher
from orchestrator.scheduler.http import DaemonMetrics, DaemonView, EndpointServer
from orchestrator.scheduler.jobs import JOB_STORE, catch_up_jobs, sync_jobs
from orchestrator.scheduler.logs import DaemonReporter, configure_logging, event

HEARTBEAT = timedelta(seconds=15)
SHUTDOWN_MESSAGE = "the daemon was stopped before the test finished"
_SIGNALS: dict[int, str] = {signal.SIGTERM: "stop", signal.SIGINT: "stop", signal.SIGHUP: "reload"}


class DaemonConflict(Exception):
    """Another daemon already serves this database; two would run every job twice."""


class Daemon:
    """Given a loaded config, serve it until SIGTERM/SIGINT; the keyword arguments override its settings."""

    def __init__(self, config: Config, verbose: bool = False, metrics_host: str | None = None,
                 metrics_port: int | None = None, log_format: str | None = None) -> None:
        self.config = config
        self.verbose = verbose
        self.log_format = log_format
        self.owner = current_owner()
        self.database = open_database(config)
        self.store = SchedulerStore(self.database)
        self.dispatcher = Dispatcher(self._run_job, config.settings.daemon.concurrency)
        self.scheduler = self._make_scheduler()
        metrics = config.settings.daemon.metrics
        self._metrics_address = (metrics_host or metrics.host, metrics.port if metrics_port is None else metrics_port)
        self.view = DaemonView(config=lambda: self.config, database=self.database, running=self.dispatcher.running,
                               waiting=self.dispatcher.waiting, healthy=self._health, clock=utcnow)
        self.metrics = DaemonMetrics(self.view)
        self.endpoint: EndpointServer | None = None
        self._stopping = False
        self._pending: deque[str] = deque()

    def serve(self) -> int:
        """Start, wait for signals, stop; return the exit code (0 after a clean stop)."""
        wakeup = self._catch_signals()
        self.start()
        while True:
            action = self._next_signal(wakeup)
            if action == "reload":
                self._reload_safely()
            elif action == "stop":
                break
        self.stop()
        return 0

    def start(self) -> None:
        self._refuse_second_daemon()
        remove_leftovers(self.database, self.config.state_dir)
        if self.config.settings.daemon.metrics.enabled:
            self.endpoint = EndpointServer(*self._metrics_address, self.metrics, self.view)
            self.endpoint.start()
        address = self.endpoint.address if self.endpoint else None
        self.store.daemon_started(self.owner, socket.gethostname(), os.getpid(), utcnow(), address)
        self.scheduler.start(paused=True)
        now = utcnow()
        changes = sync_jobs(self.scheduler, self.store, self.config, now)
        catch_up_jobs(self.scheduler, self.store, self.config, now)
        self._add_tasks()
        self.scheduler.resume()
        event("daemon-started", f"serving {self._scheduled_count()} scheduled job(s); {changes.describe()}",
              pid=os.getpid(), concurrency=self.config.settings.daemon.concurrency, metrics=address,
              config=str(self.config.directory))

    def reload(self) -> None:
        """Re-read the config; apply it if valid, else log every located error and keep the old schedule."""
        try:
            config = load_config(self.config.directory)
        except ConfigInvalid as invalid:
            for error in invalid.errors:
                event("config-error", str(error), level=logging.ERROR)
            message = (f"the new configuration has {len(invalid.errors)} error(s); the previous schedule keeps "
                       "running:\n" + "\n".join(str(error) for error in invalid.errors))
            event("reload-refused", message.splitlines()[0], level=logging.ERROR)
            self.store.record_reload(self.owner, False, message)
            return
        self._warn_about_restart_settings(config)
        self.config = config
        changes = sync_jobs(self.scheduler, self.store, config, utcnow())
        self.dispatcher.set_limit(config.settings.daemon.concurrency)
        configure_logging(self.log_format or config.settings.daemon.log_format, self.verbose)
        message = f"{self._scheduled_count()} scheduled job(s); {changes.describe()}"
        event("reloaded", message, added=len(changes.added), removed=len(changes.removed),
              rescheduled=len(changes.rescheduled))
        self.store.record_reload(self.owner, True, message)

    def _reload_safely(self) -> None:
        try:
            self.reload()
        except Exception as error:  # noqa: BLE001 - e.g. the database is briefly unreachable: keep serving
            event("reload-failed", f"the reload did not complete: {error}", level=logging.ERROR)
            logging.getLogger(__name__).debug("reload failure", exc_info=True)

    def stop(self) -> None:
        """Stop taking runs, abort running ones (recorded `aborted`, sandboxes removed) within the timeout."""
        self._stopping = True
        event("daemon-stopping", "no new runs; aborting running ones", running=",".join(self.dispatcher.running()) or None)
        self.scheduler.shutdown(wait=False)
        timeout = self.config.settings.daemon.shutdown_timeout.total_seconds()
        dropped, stuck = self.dispatcher.stop("shutdown", SHUTDOWN_MESSAGE, timeout)
        now = utcnow()
        for job, due_at in dropped:
            self.store.record_missed(job, "shutdown", due_at, due_at, 1, now)
            event("run-missed", "the daemon stopped while the run waited for a free slot", level=logging.WARNING,
                  job=job, reason="shutdown", due_at=due_at)
        if stuck:
            self._force_abort(stuck)
        if self.endpoint is not None:
            self.endpoint.stop()
        self.store.daemon_stopped(self.owner, utcnow())
        event("daemon-stopped", "stopped cleanly")

    # Runs.

    def _on_due(self, scheduler_event: JobExecutionEvent) -> None:
        if scheduler_event.jobstore != JOB_STORE:
            return
        job, due_at = scheduler_event.job_id, scheduler_event.scheduled_run_time
        if scheduler_event.code == EVENT_JOB_MISSED:
            self._record_missed(job, "late", due_at, "the run started too late (beyond the misfire grace)")
            return
        outcome = self.dispatcher.submit(job, due_at)
        if outcome == QUEUED:
            event("run-due", "queued", level=logging.DEBUG, job=job, due_at=due_at)
        elif outcome == SKIPPED:
            self._record_missed(job, "overlap", due_at, "the previous run of this job has not finished: skipped")

    def _record_missed(self, job: str, reason: str, due_at: datetime, message: str) -> None:
        self.store.record_missed(job, reason, due_at, due_at, 1, utcnow())
        event("run-missed", message, level=logging.WARNING, job=job, reason=reason, due_at=due_at)

    def _run_job(self, name: str, due_at: datetime, control: RunControl) -> None:
        from orchestrator.pipeline import Pipeline

        config = self.config
        job = config.jobs.get(name)
        if job is None:
            event("run-dropped", "the job was removed from the config before its run started", job=name)
            return
        delay = max(0.0, (utcnow() - due_at).total_seconds())
        self.metrics.start_delay.observe(delay)
        event("run-started", "restore test started", job=name, due_at=due_at, delay_seconds=round(delay, 3))
        run = self.database.get_run(Pipeline(config, self.database, reporter=DaemonReporter(name)).run(job, control))
        level = logging.INFO if run.status == "passed" else logging.WARNING
        event("run-finished", run.message or "", level=level, job=name, run=run.id, status=run.status,
              reason=run.reason, seconds=round(run.total_seconds or 0.0, 3))

    def _force_abort(self, jobs: list[str]) -> None:
        """Runs that did not end within the shutdown timeout: record them and remove their sandboxes now."""
        aborted = self.store.abort_runs_of(self.owner, "shutdown", SHUTDOWN_MESSAGE, utcnow())
        event("runs-abandoned", "runs did not stop within the shutdown timeout: recorded aborted",
              level=logging.WARNING, jobs=",".join(jobs), runs=",".join(str(run) for run in aborted))
        try:
            for removed in get_runner("docker").remove_leftovers(lambda owner: owner == self.owner):
                event("leftover-removed", removed, level=logging.WARNING)
        except RunnerUnavailable as unavailable:
            event("leftover-check-failed", str(unavailable), level=logging.WARNING)

    # Periodic tasks.

    def _add_tasks(self) -> None:
        tasks = [PeriodicTask("heartbeat", HEARTBEAT, self._heartbeat), *periodic_tasks()]
        for task in tasks:
            self.scheduler.add_job(self._run_task, IntervalTrigger(seconds=task.interval.total_seconds()),
                                   args=[task], id=f"task:{task.name}", jobstore="tasks", executor="tasks",
                                   coalesce=True, max_instances=1, misfire_grace_time=None)

    def _run_task(self, task: PeriodicTask) -> None:
        try:
            task.function(self.config, self.database, utcnow())
        except Exception as error:  # noqa: BLE001 - a task's failure is logged and never stops the daemon
            event("task-failed", str(error), level=logging.ERROR, task=task.name)
            logging.getLogger(__name__).debug("task failure", exc_info=True)

    def _heartbeat(self, config: Config, database: object, now: datetime) -> None:
        self.store.heartbeat(self.owner, now)

    # Plumbing.

    def _make_scheduler(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            jobstores={JOB_STORE: SQLAlchemyJobStore(engine=self.database.engine, tablename="apscheduler_jobs"),
                       "tasks": MemoryJobStore()},
            # One worker keeps due events in due-time order; the runs themselves have their own threads.
            executors={"default": ThreadPoolExecutor(1), "tasks": ThreadPoolExecutor(2)},
            timezone=timezone.utc,
        )
        scheduler.add_listener(self._on_due, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
        return scheduler

    def _health(self) -> tuple[bool, dict[str, Any]]:
        details: dict[str, Any] = {"scheduler": "running" if self.scheduler.running and not self._stopping
                                   else "stopped", "running_runs": len(self.dispatcher.running())}
        try:
            with self.database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            details["database"] = "ok"
        except Exception as error:  # noqa: BLE001 - reported as unhealthy, with the reason
            details["database"] = f"unreachable: {type(error).__name__}"
        return details["scheduler"] == "running" and details["database"] == "ok", details

    def _refuse_second_daemon(self) -> None:
        now = utcnow()
        for record in self.store.serving_daemons():
            if record.owner == self.owner:
                continue
            local = record.host == socket.gethostname()
            alive = not is_abandoned(record.owner) if local else now - record.heartbeat_at < 3 * HEARTBEAT
            if alive:
                raise DaemonConflict(f"another restoreproof daemon already serves this database (pid {record.pid} "
                                     f"on {record.host}, since {record.started_at:%Y-%m-%d %H:%M:%S} UTC)")
            if local:
                self.store.daemon_stopped(record.owner, now)

    def _warn_about_restart_settings(self, config: Config) -> None:
        old, new = self.config.settings, config.settings
        changed = [name for name, before, after in (
            ("database_url", self.config.database_url, config.database_url),
            ("state_dir", self.config.state_dir, config.state_dir),
            ("daemon.metrics", old.daemon.metrics, new.daemon.metrics)) if before != after]
        if changed:
            event("restart-needed", f"{', '.join(changed)} changed: takes effect when the daemon restarts",
                  level=logging.WARNING)

    def _scheduled_count(self) -> int:
        return len(self.scheduler.get_jobs(jobstore=JOB_STORE))

    def _catch_signals(self) -> int:
        """Route SIGTERM, SIGINT and SIGHUP to a pipe the main loop reads: nothing runs inside a handler."""
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        for number in _SIGNALS:
            signal.signal(number, lambda received, frame: None)
        return read_end

    def _next_signal(self, wakeup: int) -> str:
        while not self._pending:
            select.select([wakeup], [], [])
            for number in os.read(wakeup, 64):
                if number in _SIGNALS:
                    event("signal", f"received {signal.Signals(number).name}", level=logging.DEBUG)
                    self._pending.append(_SIGNALS[number])
        return self._pending.popleft()
