"""The 3-2-1-1-0 view: per protected system, across the jobs that cover it, how many copies, on how many media,
how many off-site, whether one is offline or immutable (measured or declared), and whether the last verified
restore of every copy had zero errors. Built from the config (declarations) and the run database (measurements).

Counting rules (docs/probes.md): a copy is a distinct repository (by restic repository id, else by location);
the production data counts as one more copy, so three copies means two repositories; media are counted among
the backup copies only.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from orchestrator.config import Config, Job
from orchestrator.db import Database, Run
from orchestrator.db.probes_store import ProbeStore
from orchestrator.probes.location import DEFAULT_MEDIA
from orchestrator.probes.rotation import coverage_rows
from orchestrator.restic import backend_type

MEASURED, DECLARED = "measured", "declared"


@dataclass(frozen=True)
class CopyView:
    """One repository holding a copy of the system, as its newest runs measured it and its jobs declare it."""

    key: str
    jobs: list[str]
    repository_id: str | None
    backend: str | None
    location: str | None
    media: str
    media_source: str
    offsite: bool | None
    offsite_source: str | None
    offsite_measured: bool | None
    offsite_declared: bool | None
    offsite_basis: str | None
    immutable: bool | None
    immutable_source: str | None
    immutable_method: str | None
    immutable_detail: str | None
    last_verified_run_id: int | None
    last_verified_status: str | None
    last_verified_at: str | None
    read_data_coverage: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ProtectionView:
    """The 3-2-1-1-0 rule for one protected system; `rules` says which parts hold, `met` whether all do."""

    system: str
    jobs: list[str]
    copies: int
    backup_copies: int
    media: list[str]
    offsite_copies: int
    offline_or_immutable_copies: int
    offline_or_immutable_measured: bool
    zero_errors: bool | None
    rules: dict[str, bool | None]
    met: bool
    copy_details: list[CopyView]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def three_two_one_view(config: Config, database: Database) -> list[ProtectionView]:
    """Given the config and the run database, return one ProtectionView per protected system, sorted by name."""
    store = ProbeStore(database)
    coverage = coverage_rows(database)
    systems: dict[str, list[Job]] = {}
    for job in config.jobs.values():
        systems.setdefault(job.protection.system or job.name, []).append(job)
    return [_system_view(name, jobs, store, coverage) for name, jobs in sorted(systems.items())]


def _system_view(system: str, jobs: list[Job], store: ProbeStore, coverage: list[dict[str, Any]]) -> ProtectionView:
    by_copy: dict[str, list[CopyView]] = {}
    for job in sorted(jobs, key=lambda job: job.name):
        view = _copy_view(job, store, [row for row in coverage if row["job"] == job.name])
        by_copy.setdefault(view.key, []).append(view)
    copies = [_merge(views) for views in by_copy.values()]
    media = sorted({copy.media for copy in copies})
    offsite = sum(1 for copy in copies if copy.offsite)
    immutable = [copy for copy in copies if copy.immutable]
    zero_errors = _zero_errors(copies)
    rules = {"three_copies": len(copies) + 1 >= 3, "two_media": len(media) >= 2, "one_offsite": offsite >= 1,
             "one_offline_or_immutable": bool(immutable), "zero_errors": zero_errors}
    return ProtectionView(
        system=system, jobs=sorted(job.name for job in jobs), copies=len(copies) + 1, backup_copies=len(copies),
        media=media, offsite_copies=offsite, offline_or_immutable_copies=len(immutable),
        offline_or_immutable_measured=any(copy.immutable_source == MEASURED for copy in immutable),
        zero_errors=zero_errors, rules=rules, met=all(value is True for value in rules.values()), copy_details=copies)


def _copy_view(job: Job, store: ProbeStore, coverage: list[dict[str, Any]]) -> CopyView:
    located = store.last_located_run(job.name)
    verified = store.last_verified_run(job.name)
    facts = (located.repository_facts or {}) if located else {}
    backend = (located.repository_backend if located else None) or _configured_backend(job)
    repository_id = (located.repository_id if located else None) or (verified.repository_id if verified else None)
    location = (located.repository_location if located else None) or _configured_location(job)
    offsite, offsite_source = _offsite(located, job.protection.offsite)
    immutable, immutable_source, method, detail = _immutability(job, store)
    return CopyView(
        key=repository_id or f"location:{location}", jobs=[job.name], repository_id=repository_id,
        backend=backend, location=location,
        media=job.protection.media or DEFAULT_MEDIA.get(backend or "", backend or "unknown"),
        media_source=DECLARED if job.protection.media else "derived from the backend",
        offsite=offsite, offsite_source=offsite_source,
        offsite_measured=located.repository_offsite if located else None, offsite_declared=job.protection.offsite,
        offsite_basis=(facts.get("offsite") or {}).get("basis"),
        immutable=immutable, immutable_source=immutable_source, immutable_method=method, immutable_detail=detail,
        last_verified_run_id=verified.id if verified else None,
        last_verified_status=verified.status if verified else None,
        last_verified_at=verified.finished_at.isoformat() if verified and verified.finished_at else None,
        read_data_coverage=coverage)


def _offsite(located: Run | None, declared: bool | None) -> tuple[bool | None, str | None]:
    """A measured 'this machine' or a declared 'same site' wins; otherwise a measured or declared 'elsewhere'."""
    measured = located.repository_offsite if located else None
    if measured is False:
        return False, MEASURED
    if declared is False:
        return False, DECLARED
    if measured is True:
        return True, MEASURED + (" and declared" if declared else "")
    if declared is True:
        return True, DECLARED
    return None, None


def _immutability(job: Job, store: ProbeStore) -> tuple[bool | None, str | None, str | None, str | None]:
    result = store.last_check(job.name, "immutability")
    data = (result.data or {}) if result else {}
    if data.get("measured"):
        return data.get("verdict") == "protected", MEASURED, data.get("method"), data.get("summary")
    expected = job.protection.immutable
    if expected is not None:
        detail = job.protection.offline if expected == DECLARED else f"{expected} expected, not measured yet"
        return True, DECLARED, expected, detail
    if job.protection.offline:
        return True, DECLARED, "offline", job.protection.offline
    return None, None, None, None


def _merge(views: list[CopyView]) -> CopyView:
    """Several jobs testing one repository are one copy: keep the newest verification, the strongest evidence."""
    first = views[0]
    if len(views) == 1:
        return first
    verified = max(views, key=lambda view: view.last_verified_run_id or 0)
    measured = [view for view in views if view.immutable_source == MEASURED] or views
    immutable = max(measured, key=lambda view: (view.immutable is True, view.last_verified_run_id or 0))
    jobs = sorted({job for view in views for job in view.jobs})
    coverage = [row for view in views for row in view.read_data_coverage]
    return CopyView(**{**asdict(first), "jobs": jobs, "read_data_coverage": coverage,
                       **{name: getattr(verified, name) for name in
                          ("last_verified_run_id", "last_verified_status", "last_verified_at")},
                       **{name: getattr(immutable, name) for name in
                          ("immutable", "immutable_source", "immutable_method", "immutable_detail")}})


def _zero_errors(copies: list[CopyView]) -> bool | None:
    statuses = [copy.last_verified_status for copy in copies]
    if "failed" in statuses:
        return False
    if not statuses or None in statuses:
        return None
    return True


def _configured_backend(job: Job) -> str | None:
    return backend_type(job.repository.url) if job.repository.url else None


def _configured_location(job: Job) -> str:
    if job.repository.url:
        return re.sub(r"//[^/@]*@", "//", job.repository.url)
    return f"(url_file {job.repository.url_file})"


def write_protection(views: list[ProtectionView], out: TextIO) -> None:
    """Write the 3-2-1-1-0 view as short aligned text, one block per protected system."""
    if not views:
        out.write("no jobs configured\n")
        return
    for view in views:
        out.write(f"\n{view.system}: 3-2-1-1-0 {'MET' if view.met else 'NOT MET'}  (jobs: {', '.join(view.jobs)})\n")
        out.write(f"  {_mark(view.rules['three_copies'])} copies      {view.copies} (production + "
                  f"{view.backup_copies} repositor{'y' if view.backup_copies == 1 else 'ies'})\n")
        out.write(f"  {_mark(view.rules['two_media'])} media       {', '.join(view.media) or '-'}\n")
        out.write(f"  {_mark(view.rules['one_offsite'])} off-site    {view.offsite_copies} copy(ies)\n")
        kind = "measured" if view.offline_or_immutable_measured else "declared" if view.offline_or_immutable_copies else "-"
        out.write(f"  {_mark(view.rules['one_offline_or_immutable'])} immutable   "
                  f"{view.offline_or_immutable_copies} copy(ies), {kind}\n")
        out.write(f"  {_mark(view.rules['zero_errors'])} zero errors in the last verified restore of each copy\n")
        for copy in view.copy_details:
            _write_copy(copy, out)


def _write_copy(copy: CopyView, out: TextIO) -> None:
    out.write(f"    - {copy.location} ({copy.backend}, {copy.media}) jobs {', '.join(copy.jobs)}\n")
    out.write(f"      off-site {_yes_no(copy.offsite)} ({copy.offsite_source or 'unknown'}"
              f"{': ' + copy.offsite_basis if copy.offsite_basis else ''})\n")
    out.write(f"      immutable {_yes_no(copy.immutable)} ({copy.immutable_source or 'unknown'}"
              f"{': ' + copy.immutable_detail if copy.immutable_detail else ''})\n")
    verified = (f"run {copy.last_verified_run_id} {copy.last_verified_status} at {copy.last_verified_at}"
                if copy.last_verified_run_id else "never verified")
    out.write(f"      last verified restore: {verified}\n")
    for row in copy.read_data_coverage:
        last = row["last_full_pass_at"] or "never"
        out.write(f"      data read in pass {row['cycle']}: {row['coverage_percent']}% of {row['subsets']} parts "
                  f"(last full pass: {last})\n")


def _mark(value: bool | None) -> str:
    return {True: "[ok]", False: "[NO]", None: "[??]"}[value]


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[value]
