"""Every fact a certificate states, gathered from the database into one JSON-ready dict. The HTML and PDF
are rendered from this dict alone, so the evidence JSON and what the insurer reads cannot disagree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestrator import __version__
from orchestrator.certificates.canonical import iso_utc
from orchestrator.checks import ERROR, FAILED, PASSED
from orchestrator.certificates.controls import canonical_id, control_title
from orchestrator.certificates.keys import PublicKey
from orchestrator.certificates.period import Month
from orchestrator.certificates.protection import protection_facts
from orchestrator.config import Config
from orchestrator.db.certificates_store import CertificateStore, ChainHead
from orchestrator.db.models import Run

EVIDENCE_FORMAT = "restoreproof-certificate-evidence/1"
ABORTED = "aborted"


@dataclass(frozen=True)
class Issue:
    """Who issues which certificate, when, and where it sits in the certificate chain."""

    organisation: str
    month: Month
    language: str
    issued_at: datetime
    sequence: int
    previous_sha256: str | None
    previous_sequence: int | None
    run_chain: ChainHead
    key: PublicKey
    trigger: str


def build_evidence(config: Config, store: CertificateStore, issue: Issue, job_names: list[str] | None) -> dict[str, Any]:
    """Given the config, the store, the certificate being issued and optionally some job names, return the
    month's evidence: summary, control matrix and, per job, every run with its checks."""
    month = issue.month
    runs = store.runs_between(month.start, month.end, job_names, issue.run_chain.sequence)
    by_job: dict[str, list[Run]] = {name: [] for name in (job_names or sorted(config.jobs))}
    for run in runs:
        by_job.setdefault(run.job, []).append(run)
    jobs = [_job(config, store, name, by_job[name], issue) for name in sorted(by_job)]
    return {
        "format": EVIDENCE_FORMAT,
        "certificate": _certificate(issue),
        "signing_key": {"algorithm": "Ed25519", "fingerprint": issue.key.fingerprint,
                        "public_key_pem": issue.key.pem},
        "run_chain": {"sequence": issue.run_chain.sequence, "hash": issue.run_chain.hash},
        "generator": {"restoreproof": __version__},
        "summary": _summary(jobs, store.running_between(month.start, month.end)),
        "controls": _control_matrix(jobs, issue.language),
        "jobs": jobs,
    }


def _certificate(issue: Issue) -> dict[str, Any]:
    return {"sequence": issue.sequence, "month": str(issue.month), "period_start": iso_utc(issue.month.start),
            "period_end": iso_utc(issue.month.end), "days": issue.month.days, "language": issue.language,
            "organisation": issue.organisation, "issued_at": iso_utc(issue.issued_at), "trigger": issue.trigger,
            "previous_certificate_sha256": issue.previous_sha256, "previous_sequence": issue.previous_sequence}


def _job(config: Config, store: CertificateStore, name: str, runs: list[Run], issue: Issue) -> dict[str, Any]:
    job = config.jobs.get(name)
    latest = runs[-1] if runs else None
    controls = sorted({canonical_id(control) for control in job.controls}) if job else []
    return {
        "name": name,
        "configured": job is not None,
        "description": job.description if job else "",
        "controls": controls,
        # The targets the month's runs were judged against (the newest run's); the config's when none ran.
        "rto_seconds": latest.rto_seconds if latest else (job.rto.total_seconds() if job and job.rto else None),
        "rpo_seconds": latest.rpo_seconds if latest else (job.rpo.total_seconds() if job and job.rpo else None),
        "summary": tally(runs),
        "repositories": _repositories(runs),
        "protection": protection_facts(latest) if latest else [],
        "versions": latest.versions if latest else None,
        "sandbox": latest.sandbox if latest else None,
        "failures": _failures(store, name, runs, issue.month),
        "runs": [run_evidence(run) for run in runs],
    }


def tally(runs: list[Run]) -> dict[str, Any]:
    """Given runs, return their counts by status, RTO/RPO met/missed/unknown, the last result and a status."""
    statuses = Counter(run.status for run in runs)
    last = runs[-1] if runs else None
    return {
        "runs": len(runs), "passed": statuses[PASSED], "failed": statuses[FAILED], "errors": statuses[ERROR],
        "aborted": statuses[ABORTED],
        "rto": _targets(run.rto_met for run in runs), "rpo": _targets(run.rpo_met for run in runs),
        "last_result": last.status if last else None,
        "last_run_at": iso_utc(last.started_at) if last else None,
        "status": _status(runs),
    }


def _status(runs: list[Run]) -> str:
    """'no-runs', 'passed' (every run passed), 'recovered' (failures, but the last run passed) or 'failing'."""
    if not runs:
        return "no-runs"
    if all(run.status == PASSED for run in runs):
        return "passed"
    return "recovered" if runs[-1].status == PASSED else "failing"


def _targets(values: Iterable[bool | None]) -> dict[str, int]:
    counts = Counter(values)
    return {"met": counts[True], "missed": counts[False], "unknown": counts[None]}


def _repositories(runs: list[Run]) -> list[dict[str, Any]]:
    """Each distinct repository the month's runs opened (a change of repository is worth seeing)."""
    seen: dict[tuple[str | None, str | None, str | None], dict[str, Any]] = {}
    for run in runs:
        key = (run.repository_id, run.repository_backend, run.repository_location)
        if run.repository_id is None and run.repository_location is None:
            continue
        entry = seen.setdefault(key, {"id": key[0], "backend": key[1], "location": key[2],
                                      "host": getattr(run, "repository_host", None),
                                      "region": getattr(run, "repository_region", None),
                                      "runs": 0, "last_seen_at": None})
        entry["runs"] += 1
        entry["last_seen_at"] = iso_utc(run.started_at)
    return list(seen.values())


def _failures(store: CertificateStore, job: str, runs: list[Run], month: Month) -> list[dict[str, Any]]:
    """Every run that did not pass, with whether and when the job passed again (possibly after the month)."""
    failures = []
    # Failures after the month's last pass all share one answer: the job's first pass after the month.
    after_month: list[datetime | None] = []
    for index, run in enumerate(runs):
        if run.status == PASSED:
            continue
        again = next((later.started_at for later in runs[index + 1:] if later.status == PASSED), None)
        if again is None:
            if not after_month:
                after_month.append(store.first_pass_after(job, run.started_at))
            again = after_month[0]
        failures.append({
            "uid": run.uid, "started_at": iso_utc(run.started_at), "status": run.status, "reason": run.reason,
            "message": run.message,
            "checks_not_passed": [{"name": check.name, "status": check.status, "detail": check.detail}
                                  for check in run.checks if check.status != PASSED],
            "passed_again_at": iso_utc(again),
            "passed_again_within_period": again is not None and again < month.end,
        })
    return failures


def run_evidence(run: Run) -> dict[str, Any]:
    """Given a run, return every fact about it the certificate states, JSON-ready."""
    return {
        "uid": run.uid,
        "chain_sequence": run.chain_sequence,
        "record_hash": run.chain_hash,
        "status": run.status, "reason": run.reason, "message": run.message,
        "started_at": iso_utc(run.started_at), "finished_at": iso_utc(run.finished_at),
        "snapshot": {"id": run.snapshot_id, "time": iso_utc(run.snapshot_time),
                     "seen_at": iso_utc(run.snapshot_seen_at), "host": run.snapshot_host,
                     "paths": run.snapshot_paths, "tags": run.snapshot_tags, "age_seconds": run.snapshot_age_seconds},
        "repository": {"id": run.repository_id, "backend": run.repository_backend,
                       "location": run.repository_location},
        "restore": {"seconds": run.restore_seconds, "files": run.files_restored, "bytes": run.bytes_restored,
                    "expected_bytes": run.expected_bytes},
        "durations": {"checks": run.checks_seconds, "boot": run.boot_seconds, "total": run.total_seconds},
        "targets": {"rto_seconds": run.rto_seconds, "rto_met": run.rto_met,
                    "rpo_seconds": run.rpo_seconds, "rpo_met": run.rpo_met},
        "checks": [{"name": check.name, "status": check.status, "detail": check.detail, "seconds": check.seconds,
                    "data": check.data} for check in run.checks],
        "versions": run.versions,
        "sandbox": run.sandbox,
    }


def _summary(jobs: list[dict[str, Any]], in_progress: int) -> dict[str, Any]:
    def total(key: str) -> int:
        return sum(int(job["summary"][key]) for job in jobs)

    def targets(key: str) -> dict[str, int]:
        return {part: sum(job["summary"][key][part] for job in jobs) for part in ("met", "missed", "unknown")}

    statuses = Counter(job["summary"]["status"] for job in jobs)
    verdict = "no-runs" if total("runs") == 0 else ("all-passed" if total("runs") == total("passed") else "failures")
    return {
        "systems": len(jobs), "systems_tested": len(jobs) - statuses["no-runs"],
        "systems_without_runs": statuses["no-runs"], "systems_failing": statuses["failing"],
        "systems_recovered": statuses["recovered"], "systems_passed": statuses["passed"],
        "runs": total("runs"), "passed": total("passed"), "failed": total("failed"), "errors": total("errors"),
        "aborted": total("aborted"), "in_progress": in_progress,
        "rto": targets("rto"), "rpo": targets("rpo"), "verdict": verdict,
    }


def _control_matrix(jobs: list[dict[str, Any]], language: str) -> list[dict[str, Any]]:
    """Per control: the jobs that evidence it, their run counts, results and RTO/RPO status."""
    controls: dict[str, list[dict[str, Any]]] = {}
    for job in jobs:
        for control in job["controls"]:
            controls.setdefault(control, []).append(job)
    matrix = []
    for control, members in sorted(controls.items()):
        rows = [{"job": job["name"], **{key: job["summary"][key] for key in
                                        ("runs", "passed", "failed", "errors", "aborted", "rto", "rpo", "status")}}
                for job in members]
        runs = sum(row["runs"] for row in rows)
        passed = sum(row["passed"] for row in rows)
        missed = sum(row["rto"]["missed"] + row["rpo"]["missed"] for row in rows)
        status = "no-runs" if runs == 0 else ("failures" if passed < runs else
                                              ("targets-missed" if missed else "passed"))
        if status == "passed" and any(row["status"] == "no-runs" for row in rows):
            status = "incomplete"
        matrix.append({"id": control, "title": control_title(control, language), "jobs": rows, "runs": runs,
                       "passed": passed, "not_passed": runs - passed, "targets_missed": missed, "status": status})
    return matrix
