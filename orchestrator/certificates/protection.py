"""Offline/immutable and off-site facts of a run, each marked measured or declared.

The repository probes (orchestrator/probes/, docs/probes.md) record them on the run: the location
columns (`repository_offsite` measured, `repository_facts` with the probe's basis and the job's
declarations) and the `immutability` check (its `data.measured`, `method`, `verdict`). This module
reads them into rows for the certificate and says nothing when a run carries none of them.
"""

from __future__ import annotations

from typing import Any

from orchestrator.db.models import Run

MEASURED, DECLARED = "measured", "declared"
IMMUTABILITY_CHECK = "immutability"


def protection_facts(run: Run) -> list[dict[str, Any]]:
    """Given a run, return its facts: property (immutability/offline/offsite), holds (True/False/None),
    basis (measured/declared), method and detail."""
    facts = [_immutability(check.status, check.detail, check.data or {})
             for check in run.checks if check.name == IMMUTABILITY_CHECK]
    location = getattr(run, "repository_facts", None) or {}
    facts.extend(_offsite_measured(getattr(run, "repository_offsite", None), location))
    facts.extend(_declared(location.get("declared") or {}))
    return facts


def _fact(prop: str, holds: bool | None, basis: str, method: str | None, detail: str) -> dict[str, Any]:
    return {"property": prop, "holds": holds, "basis": basis, "method": method, "detail": detail}


def _immutability(status: str, detail: str, data: dict[str, Any]) -> dict[str, Any]:
    verdict = data.get("verdict")
    holds = True if verdict == "protected" else False if verdict == "unprotected" else None
    basis = MEASURED if data.get("measured") else DECLARED
    if basis == DECLARED and data.get("declared"):
        detail = f"{detail} — {data['declared']}"
    return _fact("immutability", holds, basis, data.get("method"), detail)


def _offsite_measured(measured: bool | None, location: dict[str, Any]) -> list[dict[str, Any]]:
    offsite = location.get("offsite") or {}
    if measured is None and not offsite:
        return []
    addresses = ", ".join(offsite.get("addresses") or [])
    detail = str(offsite.get("basis") or "") + (f" ({addresses})" if addresses else "")
    return [_fact("offsite", measured, MEASURED, "location-probe", detail)]


def _declared(declared: dict[str, Any]) -> list[dict[str, Any]]:
    facts = []
    if declared.get("offsite") is not None:
        where = ", ".join(str(declared[key]) for key in ("site", "provider", "country") if declared.get(key))
        facts.append(_fact("offsite", bool(declared["offsite"]), DECLARED, "job-declaration", where))
    if declared.get("offline"):
        facts.append(_fact("offline", None, DECLARED, "job-declaration", str(declared["offline"])))
    return facts
