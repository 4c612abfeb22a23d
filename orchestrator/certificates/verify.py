"""Check certificates again: the signature against a pinned public key, each signed file's SHA-256, the
chain of certificates (no gap, every link), and, when the database is at hand, that every run record
the certificate lists is still in the database unchanged and that the run chain is whole."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.certificates.chain import chain_problems, describe, record_hash
from orchestrator.certificates.formatting import as_datetime
from orchestrator.certificates.keys import PublicKey
from orchestrator.certificates.signing import Envelope, EnvelopeInvalid, file_sha256, read_envelope, signed_by
from orchestrator.db.certificates_store import CertificateStore

ENVELOPE_SUFFIX = ".dsse.json"


class NothingToVerify(Exception):
    """The path holds no certificate envelope."""


@dataclass
class Report:
    """What was checked (one line each) and every problem found."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)


@dataclass(frozen=True)
class Found:
    """One certificate on disk: its envelope file and what it says."""

    path: Path
    envelope: Envelope

    @property
    def sequence(self) -> int:
        return int(self.envelope.statement.predicate.get("sequence", 0))

    @property
    def label(self) -> str:
        predicate = self.envelope.statement.predicate
        return f"no. {self.sequence} ({predicate.get('month')}, {predicate.get('language')})"


def find_envelopes(path: Path) -> list[Path]:
    """Given a folder, an envelope, or a certificate's PDF, HTML or evidence file, return the envelopes to check;
    raise NothingToVerify if there is none."""
    if path.is_dir():
        envelopes = sorted(path.rglob("*" + ENVELOPE_SUFFIX))
    elif path.name.endswith(ENVELOPE_SUFFIX):
        envelopes = [path]
    else:
        month = path.name.split("-", 1)[-1].rsplit(".", 1)[0]
        envelopes = [path.parent / f"certificate-{month}{ENVELOPE_SUFFIX}"]
    envelopes = [envelope for envelope in envelopes if envelope.is_file()]
    if not envelopes:
        raise NothingToVerify(f"no certificate signature envelope (*{ENVELOPE_SUFFIX}) found at {path}")
    return envelopes


def verify(path: Path, key: PublicKey, store: CertificateStore | None) -> Report:
    """Given a path (see find_envelopes), the pinned public key and optionally the database, return the report."""
    report = Report()
    found = sorted((item for item in (_read(envelope, report) for envelope in find_envelopes(path)) if item is not None),
                   key=lambda item: item.sequence)
    for item in found:
        _check_signature_and_files(item, key, report)
    _check_certificate_chain(found, report)
    if store is None:
        report.notes.append("the run database was not compared (no configuration given): run records were not checked")
        return report
    _check_certificate_log(found, store, report)
    _check_run_records(found, store, report)
    return report


def _read(path: Path, report: Report) -> Found | None:
    try:
        return Found(path, read_envelope(path.read_bytes()))
    except (EnvelopeInvalid, OSError) as error:
        report.problem(f"{path.name}: {error}")
        return None


def _check_signature_and_files(item: Found, key: PublicKey, report: Report) -> None:
    if not signed_by(item.envelope, key):
        key_ids = ", ".join(key_id for key_id, _ in item.envelope.signatures) or "none"
        report.problem(f"{item.path.name}: the signature does not match the public key {key.fingerprint} "
                       f"(the envelope names key {key_ids}): wrong key, or the statement was changed")
        return
    subjects = item.envelope.statement.subjects
    changed = False
    for subject in subjects:
        file = item.path.parent / subject.name
        if not file.is_file():
            report.problem(f"{subject.name} is missing (certificate {item.label} signs it)")
            changed = True
            continue
        actual = file_sha256(file)
        if actual != subject.sha256:
            report.problem(f"{subject.name} was changed after it was signed: its SHA-256 is {actual}, "
                           f"the signed statement says {subject.sha256}")
            changed = True
    if not changed:
        report.checked.append(f"certificate {item.label}: signature valid (key {key.fingerprint}), "
                              f"{len(subjects)} signed files unchanged")


def _check_certificate_chain(found: list[Found], report: Report) -> None:
    ordered = sorted(found, key=lambda item: item.sequence)
    for earlier, later in zip(ordered, ordered[1:]):
        previous = later.envelope.statement.predicate.get("previous_certificate") or {}
        if later.sequence == earlier.sequence:
            report.problem(f"two certificates claim number {later.sequence}: {earlier.path.name}, {later.path.name}")
        elif later.sequence > earlier.sequence + 1:
            missing = _range(earlier.sequence + 1, later.sequence - 1)
            report.problem(f"gap in the certificate chain: certificate {missing} is missing between "
                           f"{earlier.label} and {later.label}")
        elif previous.get("sha256") != earlier.envelope.statement.sha256:
            report.problem(f"certificate {later.label} does not link to {earlier.label}: it names a different "
                           f"previous certificate (replaced?)")
    if ordered and ordered[0].sequence == 1 and ordered[0].envelope.statement.predicate.get("previous_certificate"):
        report.problem("certificate no. 1 names a previous certificate")
    if len(ordered) > 1 and not any("certificate chain" in problem for problem in report.problems):
        report.checked.append(f"certificate chain: {len(ordered)} certificates (no. {ordered[0].sequence} to "
                              f"{ordered[-1].sequence}) linked without a gap")


def _check_certificate_log(found: list[Found], store: CertificateStore, report: Report) -> None:
    """The database keeps every issued certificate: each on disk must match it, and the log must be whole."""
    log = {row.sequence: row for row in store.certificates()}
    for item in found:
        row = log.get(item.sequence)
        previous = item.envelope.statement.predicate.get("previous_certificate") or {}
        if row is None:
            report.problem(f"certificate {item.label} is not in the database's certificate log (deleted?)")
        elif row.statement_sha256 != item.envelope.statement.sha256:
            report.problem(f"certificate {item.label} differs from the one the database recorded under that number")
        before = log.get(item.sequence - 1)
        if item.sequence > 1 and before is None:
            report.problem(f"gap in the certificate chain: certificate no. {item.sequence - 1} is missing from the "
                           "database's certificate log")
        elif before is not None and previous.get("sha256") != before.statement_sha256:
            report.problem(f"certificate {item.label} does not link to certificate no. {before.sequence} in the "
                           "database's certificate log")
    numbers = sorted(log)
    for number in range(1, (numbers[-1] if numbers else 0) + 1):
        if number not in log:
            report.problem(f"gap in the certificate chain: certificate no. {number} is missing from the database's "
                           "certificate log")


def _check_run_records(found: list[Found], store: CertificateStore, report: Report) -> None:
    """Every run a certificate lists must still be in the database, unchanged, and the run chain whole."""
    listed: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for item in sorted(found, key=lambda item: item.sequence):
        for run in _listed_runs(item, report):
            listed.setdefault(run["uid"], (run, []))[1].append(str(item.sequence))
    in_database = store.runs_by_uid(list(listed))
    reported: set[int] = set()
    for uid, (run, certificates) in listed.items():
        stored = in_database.get(uid)
        where = f"listed in certificate no. {', '.join(certificates)}"
        if stored is None:
            started = as_datetime(run["started_at"]).strftime("%Y-%m-%d %H:%M UTC")
            report.problem(f"run record #{run['chain_sequence']} (job {run['job']}, started {started}, uid {uid}), "
                           f"{where}, was deleted from the database")
            reported.add(int(run["chain_sequence"] or 0))
        elif record_hash(stored) != stored.chain_hash or stored.chain_hash != run["record_hash"]:
            report.problem(f"run record #{stored.chain_sequence} ({describe(stored)}), {where}, was altered in the "
                           "database after it was sealed")
            reported.add(stored.chain_sequence or 0)
    head = max((_run_chain(item)[0] for item in found), default=0)
    for problem in chain_problems(store.sealed_runs(up_to=head)):
        if problem.sequence not in reported:
            report.problem(problem.message)
    _check_chain_heads(found, store, report)
    if not any("run record" in problem for problem in report.problems):
        report.checked.append(f"run records: {len(listed)} listed, all unchanged in the database; run chain whole "
                              f"up to record #{head}")


def _run_chain(item: Found) -> tuple[int, str]:
    """The run chain's last link when the certificate was issued: (sequence, hash)."""
    link = item.envelope.statement.predicate.get("run_chain") or {}
    return int(link.get("sequence", 0)), str(link.get("hash", ""))


def _check_chain_heads(found: list[Found], store: CertificateStore, report: Report) -> None:
    """The run chain's last link when each certificate was issued must still be there: a deleted tail shows."""
    heads = dict(_run_chain(item) for item in found)
    stored = store.chain_hashes([sequence for sequence in heads if sequence])
    for sequence, expected in sorted(heads.items()):
        if sequence and stored.get(sequence) is None:
            report.problem(f"run record #{sequence} (the run chain's last link when a certificate was issued) is "
                           "missing from the database (deleted?)")
        elif sequence and stored[sequence] != expected:
            report.problem(f"run record #{sequence} no longer has the hash the certificate recorded for it")


def _listed_runs(item: Found, report: Report) -> list[dict[str, Any]]:
    evidence_name = next((subject.name for subject in item.envelope.statement.subjects
                          if subject.name.startswith("evidence-")), None)
    if evidence_name is None or not (item.path.parent / evidence_name).is_file():
        return []
    try:
        evidence = json.loads((item.path.parent / evidence_name).read_text(encoding="utf-8"))
        return [{**run, "job": job["name"]} for job in evidence["jobs"] for run in job["runs"]]
    except (ValueError, KeyError, TypeError) as error:
        report.problem(f"{evidence_name} cannot be read ({error})")
        return []


def _range(first: int, last: int) -> str:
    return f"no. {first}" if first == last else f"no. {first} to {last}"
