"""Settings for monthly restore-test certificates (`certificates:` in restoreproof.yml) and the controls a
job's tests evidence (`controls:` in a job file)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from orchestrator.config.types import Duration, EmailAddress, Strict

Language = Literal["fr", "en"]


def check_control(value: str) -> str:
    """Given a control identifier such as 'ANSSI-37' or 'ISO27001:A.8.13', return it stripped; raise
    ValueError if it is empty or spans lines."""
    value = value.strip()
    if not value or "\n" in value or len(value) > 80:
        raise ValueError("a control is a short identifier such as ANSSI-37, ISO27001-A.8.13 or NIST-CP-9")
    return value


Control = Annotated[str, AfterValidator(check_control)]
Controls = list[Control]


class CertificateSettings(Strict):
    """Where certificates are written, how they are signed, and who receives them each month."""

    signing_key: Path = Field(Path("keys/certificate-signing.key"),
                              description="Ed25519 private key (PEM); relative paths are under the state directory")
    output_dir: Path = Field(Path("certificates"),
                             description="Where certificates are written; relative paths are under the state directory")
    language: Language = Field("en", description="Default language of the certificate: fr or en")
    recipients: list[EmailAddress] = Field(default_factory=list,
                                        description="Who receives the monthly certificate (e.g. the insurer or broker)")
    automatic: bool = Field(True, description="Whether the daemon issues and mails last month's certificate")
    deliver_after: Duration = Field(timedelta(hours=2),
                                    description="How long after the month ends the daemon waits, so late runs finish")
