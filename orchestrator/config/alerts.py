"""Settings for alert e-mails: the SMTP server (`smtp:`), who hears about what (`alerts:`), and per-job
recipients (`alerts:` in a job file). Passwords are only ever referenced (a file or an environment
variable), never written inline."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from orchestrator.config.types import Duration, EmailAddress, Strict

DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}




class SmtpSettings(Strict):
    """The mail server alert e-mails are handed to."""

    host: str = Field(min_length=1)
    port: int | None = Field(None, ge=1, le=65535, description="Default: 25, 587 (starttls) or 465 (tls)")
    security: Literal["none", "starttls", "tls"] = Field(
        "starttls", description="none: plain text; starttls: upgrade after connecting; tls: TLS from the start")
    username: str | None = None
    password: str | None = Field(None, description="Never allowed: use password_file or password_env")
    password_file: Path | None = Field(None, description="File holding the SMTP password (relative to the config folder)")
    password_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                                     description="Name of the environment variable holding the SMTP password")
    sender: EmailAddress = Field(description="The From address, e.g. 'restoreproof <backup@example.com>'")
    ca_file: Path | None = Field(None, description="PEM file of the certificate authorities to trust (default: the system's)")
    timeout: Duration = Field(timedelta(seconds=20), description="How long to wait for the server at each step")

    @field_validator("password")
    @classmethod
    def _never_inline(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("an inline password is not allowed: use password_file or password_env")
        return value

    @model_validator(mode="after")
    def _credentials_complete(self) -> "SmtpSettings":
        if self.password_file is not None and self.password_env is not None:
            raise ValueError("give password_file or password_env, not both")
        has_password = self.password_file is not None or self.password_env is not None
        if has_password != (self.username is not None):
            raise ValueError("username and one of password_file or password_env go together")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]


class AlertSettings(Strict):
    """Who hears about what, in which language, and how often."""

    recipients: list[EmailAddress] = Field(default_factory=list, description="Who receives every job's notices")
    language: Literal["en", "fr"] = "en"
    reminder_every: Duration = Field(timedelta(days=1),
                                     description="While a job keeps failing, at most one reminder per period")
    retry_first: Duration = Field(timedelta(seconds=30), description="Wait before the first retry of an unsent e-mail")
    retry_max: Duration = Field(timedelta(hours=1), description="Longest wait between two retries")
    give_up_after: Duration = Field(timedelta(days=7), description="An e-mail not accepted by then is marked failed")
    log_tail_lines: int = Field(20, ge=0, le=500, description="Lines of the run's log copied into a failure e-mail")


class JobAlerts(Strict):
    """Per-job alert settings."""

    recipients: list[EmailAddress] = Field(default_factory=list, description="Who receives this job's notices")
    include_global_recipients: bool = Field(True, description="Also send to alerts.recipients of restoreproof.yml")
    enabled: bool = Field(True, description="false: no e-mail at all about this job")
