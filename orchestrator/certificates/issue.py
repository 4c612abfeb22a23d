"""Issue one month's certificate: seal pending runs, gather the evidence, render HTML and PDF, sign the
hashes of all three files, and record the certificate in the certificate chain."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from orchestrator import __version__
from orchestrator.certificates.canonical import iso_utc
from orchestrator.certificates.evidence import Issue, build_evidence
from orchestrator.certificates.keys import load_signing_key
from orchestrator.certificates.period import Month
from orchestrator.certificates.render import PdfFailed, render_html, write_pdf
from orchestrator.certificates.signing import EnvelopeInvalid, read_envelope, sign_envelope, statement_bytes, subject_for
from orchestrator.config import Config
from orchestrator.db import Database
from orchestrator.db.certificates_store import CertificateStore
from orchestrator.db.models_certificates import Certificate

SUPERSEDED = "superseded"


class CertificateError(Exception):
    """The certificate could not be issued; the message says why."""


@dataclass(frozen=True)
class FileNames:
    pdf: str
    html: str
    evidence: str
    envelope: str

    @classmethod
    def for_month(cls, month: Month) -> "FileNames":
        return cls(f"certificate-{month}.pdf", f"certificate-{month}.html", f"evidence-{month}.json",
                   f"certificate-{month}.dsse.json")

    def all(self) -> list[str]:
        return [self.pdf, self.html, self.evidence, self.envelope]


@dataclass(frozen=True)
class IssuedCertificate:
    sequence: int
    month: Month
    language: str
    directory: Path
    names: FileNames
    statement_sha256: str
    fingerprint: str
    summary: dict[str, Any]

    def path(self, name: str) -> Path:
        return self.directory / name


def signing_key_path(config: Config) -> Path:
    path = config.settings.certificates.signing_key
    return path if path.is_absolute() else config.state_dir / path


def output_directory(config: Config) -> Path:
    path = config.settings.certificates.output_dir
    return path if path.is_absolute() else config.state_dir / path


def issue_certificate(config: Config, database: Database, month: Month, *, language: str,
                      job_names: list[str] | None, directory: Path, now: datetime,
                      trigger: str = "manual") -> IssuedCertificate:
    """Given the config, database, month, language, optional jobs and output folder, write the certificate's
    PDF, HTML, evidence JSON and signature envelope; return what was issued. Raise KeyProblem without a
    signing key, CertificateError if the PDF cannot be rendered or another certificate took the same chain
    position meanwhile."""
    key = load_signing_key(signing_key_path(config))
    store = CertificateStore(database)
    store.seal_pending()
    previous = store.last_certificate()
    issue = Issue(config.settings.organisation, month, language, now, (previous.sequence if previous else 0) + 1,
                  previous.statement_sha256 if previous else None, previous.sequence if previous else None,
                  store.chain_head(), key.public, trigger)
    evidence = build_evidence(config, store, issue, job_names)
    names = FileNames.for_month(month)
    directory.mkdir(parents=True, exist_ok=True)
    _set_aside(directory, names)
    html = render_html(evidence, {"evidence": names.evidence, "envelope": names.envelope})
    (directory / names.html).write_text(html, encoding="utf-8")
    try:
        write_pdf(directory / names.html, directory / names.pdf)
    except PdfFailed as failed:
        raise CertificateError(str(failed)) from None
    (directory / names.evidence).write_text(json.dumps(evidence, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    subjects = [subject_for(directory / name) for name in (names.pdf, names.html, names.evidence)]
    payload = statement_bytes(subjects, _predicate(issue, evidence))
    (directory / names.envelope).write_bytes(sign_envelope(payload, key))
    issued = IssuedCertificate(issue.sequence, month, language, directory, names,
                               read_envelope((directory / names.envelope).read_bytes()).statement.sha256,
                               key.public.fingerprint, evidence["summary"])
    _record(store, issue, issued, subjects)
    return issued


def _predicate(issue: Issue, evidence: dict[str, Any]) -> dict[str, Any]:
    summary = evidence["summary"]
    return {
        "organisation": issue.organisation,
        "month": str(issue.month),
        "period": {"start": iso_utc(issue.month.start), "end": iso_utc(issue.month.end)},
        "language": issue.language,
        "issued_at": iso_utc(issue.issued_at),
        "trigger": issue.trigger,
        "sequence": issue.sequence,
        "previous_certificate": ({"sequence": issue.previous_sequence, "sha256": issue.previous_sha256}
                                 if issue.previous_sha256 else None),
        "run_chain": {"sequence": issue.run_chain.sequence, "hash": issue.run_chain.hash},
        "signing_key_fingerprint": issue.key.fingerprint,
        "summary": {name: summary[name] for name in ("systems", "systems_without_runs", "runs", "passed", "failed",
                                                     "errors", "aborted")},
        "generator": f"restoreproof {__version__}",
    }


def _record(store: CertificateStore, issue: Issue, issued: IssuedCertificate, subjects: list[Any]) -> None:
    pdf, html, evidence = (subject.sha256 for subject in subjects)
    try:
        store.add_certificate(Certificate(
            sequence=issue.sequence, month=str(issue.month), language=issue.language,
            organisation=issue.organisation, trigger=issue.trigger, issued_at=issue.issued_at,
            key_fingerprint=issued.fingerprint, statement_sha256=issued.statement_sha256,
            previous_sha256=issue.previous_sha256, pdf_sha256=pdf, html_sha256=html, evidence_sha256=evidence,
            run_chain_sequence=issue.run_chain.sequence, run_chain_hash=issue.run_chain.hash,
            directory=str(issued.directory)))
    except IntegrityError:
        raise CertificateError(f"another certificate took number {issue.sequence} while this one was being "
                               "issued; issue it again") from None


def _set_aside(directory: Path, names: FileNames) -> None:
    """Move an earlier certificate of the same month into superseded/, so the chain keeps every certificate."""
    envelope = directory / names.envelope
    if not envelope.exists():
        return
    try:
        label = f"no{read_envelope(envelope.read_bytes()).statement.predicate.get('sequence')}"
    except EnvelopeInvalid:
        label = "unreadable"
    target = directory / SUPERSEDED / f"{names.envelope.removesuffix('.dsse.json')}-{label}"
    if target.exists():
        raise CertificateError(f"{target} already exists; move it away before issuing this month again")
    target.mkdir(parents=True)
    for name in names.all():
        if (directory / name).exists():
            shutil.move(str(directory / name), str(target / name))
