"""Run the backend's immutability probe and judge it against what the job expects (`protection.immutable`)."""

from __future__ import annotations

import random
from datetime import datetime

from orchestrator.config.probes import ImmutableExpectation
from orchestrator.config.schema import Repository
from orchestrator.probes import INCONCLUSIVE, PROTECTED, UNPROTECTED, ProbeResult, backend_environment
from orchestrator.probes import declared, rest, s3
from orchestrator.probes.location import parse_endpoint
from orchestrator.redact import Redactor

PASS, FAIL, ERROR = "passed", "failed", "error"
# The backend on which each expectation can be measured.
MEASURABLE_ON = {"append-only": "rest", "object-lock": "s3"}


def probe_repository(repository: Repository, repository_string: str, sample: int, timeout: float,
                     redactor: Redactor, chooser: random.Random, now: datetime) -> ProbeResult:
    """Given a job's repository, return the probe result for its backend; never modifies the repository."""
    environment = backend_environment(repository)
    for value in (environment.get("AWS_SECRET_ACCESS_KEY"), environment.get("AWS_SESSION_TOKEN")):
        if value:
            redactor.add(value)
    endpoint = parse_endpoint(repository_string, environment)
    if endpoint.backend == "rest":
        return rest.probe(repository_string, timeout, redactor)
    if endpoint.backend == "s3":
        return s3.probe(repository_string, environment, sample, timeout, redactor, chooser, now)
    return declared.probe(endpoint)


def judge(expected: ImmutableExpectation | None, result: ProbeResult, backend: str,
          declaration: str | None) -> tuple[str, str]:
    """Given the expectation and the probe result, return (status, detail); a contradiction fails."""
    if expected in MEASURABLE_ON:
        if MEASURABLE_ON[expected] != backend:
            return FAIL, (f"expected {expected}, which is measured on a {MEASURABLE_ON[expected]} backend, "
                          f"but this repository is {backend}: {result.summary}")
        if result.verdict == PROTECTED:
            return PASS, f"measured {result.protection}: {result.summary}"
        if result.verdict == UNPROTECTED:
            return FAIL, f"expected {expected}, measured otherwise: {result.summary}"
        return ERROR, f"expected {expected}, but the probe was inconclusive: {result.summary}"
    if expected == "declared":
        measured = f"; probe: {result.summary}" if result.verdict != INCONCLUSIVE else ""
        return PASS, f"declared: {declaration}{measured}"
    return PASS, f"no expectation declared (protection.immutable); probe: {result.summary}"
