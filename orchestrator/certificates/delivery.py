"""The daemon's monthly task: once a month has ended (plus `certificates.deliver_after`), issue its
certificate and mail it, PDF attached with the files needed to verify it, through the alerts outbox."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from orchestrator.certificates.issue import FileNames, issue_certificate, output_directory, signing_key_path
from orchestrator.certificates.period import Month
from orchestrator.certificates.render import messages, render_email
from orchestrator.certificates.formatting import Formatter
from orchestrator.config import Config
from orchestrator.db import Database
from orchestrator.db.certificates_store import CertificateStore

log = logging.getLogger(__name__)
AUTOMATIC = "automatic"
EMAIL_KIND = "certificate"


def monthly_certificate_task(config: Config, database: Database, now: datetime) -> None:
    """Daemon task: given the time, issue last month's certificate if it is due and was not issued
    automatically yet, then queue the e-mail (once per month: the outbox drops a repeated dedup key)."""
    settings = config.settings.certificates
    month = Month.containing(now).previous()
    if not settings.automatic or now < month.end + settings.deliver_after:
        return
    existing = CertificateStore(database).certificate_for(str(month), AUTOMATIC)
    if existing is None:
        if not signing_key_path(config).exists():
            log.warning("the certificate for %s was not issued: no signing key (run `restoreproof keys init`)", month)
            return
        issued = issue_certificate(config, database, month, language=settings.language, job_names=None,
                                   directory=output_directory(config), now=now, trigger=AUTOMATIC)
        directory, language, fingerprint = issued.directory, issued.language, issued.fingerprint
    else:
        directory, language, fingerprint = Path(existing.directory), existing.language, existing.key_fingerprint
    if settings.recipients:
        mail_certificate(config, database, month, directory, language, fingerprint, now)


def mail_certificate(config: Config, database: Database, month: Month, directory: Path, language: str,
                     fingerprint: str, now: datetime) -> None:
    """Queue the certificate's e-mail to `certificates.recipients`, with the PDF, the signature envelope,
    the evidence JSON and the HTML attached (all four are needed to verify the signature)."""
    from orchestrator.alerts import enqueue_email  # the alerts outbox is optional for issuing certificates

    names = FileNames.for_month(month)
    evidence = json.loads((directory / names.evidence).read_text(encoding="utf-8"))
    values = _email_values(config, month, language, fingerprint, evidence)
    enqueue_email(config, database, kind=EMAIL_KIND, job=None, recipients=list(config.settings.certificates.recipients),
                  subject=values["subject"], body_text=render_email("email-body.txt", values, language),
                  body_html=render_email("email-body.html", values, language),
                  dedup_key=f"certificate:{month}",
                  attachments=[directory / name for name in (names.pdf, names.envelope, names.evidence, names.html)],
                  now=now)


def _email_values(config: Config, month: Month, language: str, fingerprint: str,
                  evidence: dict[str, Any]) -> dict[str, Any]:
    month_label = Formatter(language).month(month.start.date())
    organisation = config.settings.organisation
    return {"organisation": organisation, "month_label": month_label, "language": language,
            "fingerprint": fingerprint, "summary": evidence["summary"],
            "subject": messages(language)("email_subject", organisation=organisation, month=month_label)}
