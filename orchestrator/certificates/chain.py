"""The hash chain over finished runs: each sealed run holds its sequence number, the hash of the run
sealed before it, and the hash of its own canonical record. Changing a sealed row changes its hash;
deleting one leaves a gap in the sequence and a link that points at nothing.

The canonical record is every column of the run (except its own hash) and of each of its checks,
with empty (NULL) values left out, so a column added by a later migration does not change the
hash of runs sealed before it existed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orchestrator.certificates.canonical import canonical_json, sha256_hex
from orchestrator.db.models import CheckResult, Run

RECORD_FORMAT = "restoreproof-run/1"
GENESIS = "0" * 64
_RUN_EXCLUDED = {"chain_hash"}
_CHECK_EXCLUDED = {"id", "run_id"}


@dataclass(frozen=True)
class ChainProblem:
    """Something wrong in the chain, with the sequence number it concerns."""

    sequence: int
    message: str


def run_record(run: Run) -> dict[str, Any]:
    """Given a run (with its checks loaded), return its canonical record: what its hash covers."""
    record = _columns(run, Run, _RUN_EXCLUDED)
    record["format"] = RECORD_FORMAT
    record["checks"] = [_columns(check, CheckResult, _CHECK_EXCLUDED)
                        for check in sorted(run.checks, key=lambda check: check.position)]
    return record


def record_hash(run: Run) -> str:
    """Given a run with its chain sequence and previous hash set, return the SHA-256 of its record."""
    return sha256_hex(canonical_json(run_record(run)))


def chain_problems(runs: Iterable[Run], expected_first: int = 1, previous_hash: str = GENESIS) -> list[ChainProblem]:
    """Given sealed runs in sequence order, return every gap, broken link and altered record found."""
    problems: list[ChainProblem] = []
    expected = expected_first
    for run in runs:
        sequence = run.chain_sequence or 0
        if sequence != expected:
            missing = f"#{expected}" if sequence == expected + 1 else f"#{expected} to #{sequence - 1}"
            problems.append(ChainProblem(expected, f"run record {missing} is missing from the run chain "
                                                   f"(deleted from the database?)"))
        elif run.chain_previous_hash != previous_hash:
            problems.append(ChainProblem(sequence, f"run record #{sequence} ({describe(run)}) does not link to "
                                                   f"the record before it"))
        actual = record_hash(run)
        if actual != run.chain_hash:
            problems.append(ChainProblem(sequence, f"run record #{sequence} ({describe(run)}) was altered in the "
                                                   f"database after it was sealed"))
        previous_hash, expected = run.chain_hash or "", sequence + 1
    return problems


def describe(run: Run) -> str:
    """Given a run, return how a person finds it: job, start time and uid."""
    started = run.started_at.strftime("%Y-%m-%d %H:%M UTC") if run.started_at else "unknown time"
    return f"job {run.job}, started {started}, uid {run.uid}"


def _columns(row: Any, model: type[Any], excluded: set[str]) -> dict[str, Any]:
    values = {}
    for column in model.__table__.columns:
        if column.key in excluded:
            continue
        value = getattr(row, column.key)
        if value is not None:
            values[column.key] = value
    return values
