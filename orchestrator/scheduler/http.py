"""The daemon's HTTP endpoint: `/healthz` and Prometheus `/metrics`. Per-job figures are read from the run
database at each scrape, so they survive restarts and agree with `restoreproof history`."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector

from orchestrator.config import Config
from orchestrator.db import Database
from orchestrator.db.scheduler_store import SchedulerStore
from orchestrator.scheduler.overdue import overdue_jobs

log = logging.getLogger(__name__)

STATUSES = ("passed", "failed", "error", "aborted", "running")
# Due-to-start delays are normally milliseconds; the larger buckets show runs that waited for a slot.
DELAY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


@dataclass(frozen=True)
class DaemonView:
    """What the endpoint needs to know about the daemon, read at each request."""

    config: Callable[[], Config]
    database: Database
    running: Callable[[], list[str]]
    waiting: Callable[[], list[str]]
    healthy: Callable[[], tuple[bool, dict[str, Any]]]
    clock: Callable[[], datetime]


class DaemonMetrics:
    """The Prometheus registry of one daemon: per-job collector, start delay histogram, process figures."""

    def __init__(self, view: DaemonView) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(JobCollector(view))
        ProcessCollector(registry=self.registry)
        self.start_delay = Histogram("restoreproof_scheduler_start_delay_seconds",
                                     "Seconds between a run's due time and its start", buckets=DELAY_BUCKETS,
                                     registry=self.registry)


class JobCollector:
    """Builds the per-job metric families from the database on every scrape."""

    def __init__(self, view: DaemonView) -> None:
        self.view = view

    def collect(self) -> Iterator[Metric]:
        config, now = self.view.config(), self.view.clock()
        store = SchedulerStore(self.view.database)
        jobs = sorted(config.jobs)
        yield _gauge("restoreproof_scheduler_up", "1 while the scheduler daemon serves", [([], 1.0)])
        yield _gauge("restoreproof_scheduler_jobs", "Jobs with a schedule",
                     [([], float(sum(1 for job in config.jobs.values() if job.schedule)))])
        yield _gauge("restoreproof_scheduler_runs_running", "Runs in progress", [([], float(len(self.view.running())))])
        yield _gauge("restoreproof_scheduler_runs_waiting", "Due runs waiting for a free slot",
                     [([], float(len(self.view.waiting())))])
        yield from self._last_runs(jobs, store, now)
        yield from self._times(jobs, store, config, now)
        yield from self._totals(store)

    def _last_runs(self, jobs: list[str], store: SchedulerStore, now: datetime) -> Iterator[Metric]:
        latest, finished_runs = store.latest_runs(), store.latest_runs(finished=True)
        status = GaugeMetricFamily("restoreproof_job_last_run_status", "1 for the status of the job's newest run",
                                   labels=["job", "status"])
        duration = GaugeMetricFamily("restoreproof_job_last_run_duration_seconds",
                                     "Total duration of the job's newest finished run", labels=["job"])
        finished = GaugeMetricFamily("restoreproof_job_last_run_timestamp_seconds",
                                     "When the job's newest finished run ended", labels=["job"])
        for job in jobs:
            if job in latest:
                for name in STATUSES:
                    status.add_metric([job, name], 1.0 if latest[job].status == name else 0.0)
            done = finished_runs.get(job)
            if done is not None and done.total_seconds is not None and done.finished_at is not None:
                duration.add_metric([job], done.total_seconds)
                finished.add_metric([job], done.finished_at.timestamp())
        yield from (status, duration, finished)

    def _times(self, jobs: list[str], store: SchedulerStore, config: Config, now: datetime) -> Iterator[Metric]:
        success, snapshots, following = store.last_success_times(), store.newest_snapshot_times(), store.next_run_times()
        overdue = {entry.job for entry in overdue_jobs(config, self.view.database, now)}
        yield _gauge("restoreproof_job_last_success_timestamp_seconds", "When the job last passed",
                     [([job], success[job].timestamp()) for job in jobs if job in success], ["job"])
        yield _gauge("restoreproof_job_newest_snapshot_age_seconds",
                     "Age of the newest snapshot any run of the job has seen",
                     [([job], (now - snapshots[job]).total_seconds()) for job in jobs if job in snapshots], ["job"])
        yield _gauge("restoreproof_job_next_run_timestamp_seconds", "When the job is next due",
                     [([job], following[job].timestamp()) for job in jobs if job in following], ["job"])
        yield _gauge("restoreproof_job_overdue", "1 if the job has no result within its expected period plus grace",
                     [([job], 1.0 if job in overdue else 0.0) for job in jobs if config.jobs[job].schedule], ["job"])

    def _totals(self, store: SchedulerStore) -> Iterator[Metric]:
        runs = CounterMetricFamily("restoreproof_runs", "Runs recorded, by job and status", labels=["job", "status"])
        for (job, status), count in sorted(store.run_counts().items()):
            runs.add_metric([job, status], float(count))
        missed = CounterMetricFamily("restoreproof_runs_missed", "Due times that started no run, by reason",
                                     labels=["job", "reason"])
        for (job, reason), count in sorted(store.missed_counts().items()):
            missed.add_metric([job, reason], float(count))
        yield from (runs, missed)


def _gauge(name: str, documentation: str, samples: list[tuple[list[str], float]],
           labels: list[str] | None = None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels or [])
    for label_values, value in samples:
        family.add_metric(label_values, value)
    return family


class EndpointServer:
    """Serves /healthz and /metrics on (host, port) from a background thread."""

    def __init__(self, host: str, port: int, metrics: DaemonMetrics, view: DaemonView) -> None:
        handler = type("Handler", (_Handler,), {"metrics": metrics, "view": view})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    metrics: DaemonMetrics
    view: DaemonView

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._metrics()
        elif path == "/healthz":
            self._health()
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found: try /healthz or /metrics\n")

    def _metrics(self) -> None:
        try:
            body = generate_latest(self.metrics.registry)
        except Exception as error:  # noqa: BLE001 - a scrape failure is answered, never crashes the daemon
            log.warning("metrics scrape failed: %s", error)
            self._send(500, "text/plain; charset=utf-8", f"metrics unavailable: {error}\n".encode())
            return
        self._send(200, CONTENT_TYPE_LATEST, body)

    def _health(self) -> None:
        healthy, details = self.view.healthy()
        body = json.dumps({"status": "ok" if healthy else "unhealthy", **details}).encode() + b"\n"
        self._send(200 if healthy else 503, "application/json", body)

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        log.debug("http: " + format, *args)
