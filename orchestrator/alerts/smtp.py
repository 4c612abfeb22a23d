"""The one module that talks SMTP: connect (plain, STARTTLS or implicit TLS), log in, hand over messages.

Every failure becomes a SendError with a plain message, the stage it happened at, and two flags: whether
it concerns the server as a whole (so the other queued messages would fail the same way) and whether it
is permanent (retrying the same message cannot help).
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from types import TracebackType

from orchestrator.config.alerts import SmtpSettings


class SendError(Exception):
    """An SMTP step failed. `stage`: connect, tls, auth, sender, recipients or data."""

    def __init__(self, stage: str, message: str, server_wide: bool, permanent: bool = False) -> None:
        super().__init__(message)
        self.stage = stage
        self.message = message
        self.server_wide = server_wide
        self.permanent = permanent


@dataclass(frozen=True)
class Accepted:
    """The server took the message: for these recipients, and refused those (address -> server reply)."""

    recipients: list[str]
    refused: dict[str, str]


def resolve(path: Path, directory: Path) -> Path:
    return path if path.is_absolute() else directory / path


def read_password(settings: SmtpSettings, directory: Path) -> str | None:
    """Given the SMTP settings, return the password from its file or variable; raise SendError if unreadable."""
    if settings.password_env is not None:
        value = os.environ.get(settings.password_env)
        if value is None:
            raise SendError("auth", f"the environment variable {settings.password_env} (smtp.password_env) is not set",
                            server_wide=True)
        return value
    if settings.password_file is not None:
        path = resolve(settings.password_file, directory)
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise SendError("auth", f"cannot read the SMTP password file {path}: {error.strerror}",
                            server_wide=True) from None
    return None


class Mailer:
    """An SMTP session opened on first use and reused for every message until closed."""

    def __init__(self, settings: SmtpSettings, directory: Path) -> None:
        self.settings = settings
        self.directory = directory
        self._connection: smtplib.SMTP | None = None

    @property
    def server(self) -> str:
        return f"{self.settings.host}:{self.settings.effective_port}"

    def __enter__(self) -> "Mailer":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def connect(self) -> None:
        """Open, secure and authenticate the session; raise SendError saying which step failed."""
        if self._connection is not None:
            return
        password = read_password(self.settings, self.directory)
        connection = self._open()
        try:
            self._secure(connection)
            if self.settings.username is not None and password is not None:
                self._login(connection, self.settings.username, password)
        except BaseException:
            _quietly_close(connection)
            raise
        self._connection = connection

    def send(self, message: EmailMessage, recipients: list[str]) -> Accepted:
        """Hand one message to the server; return who it was accepted for; raise SendError if it was not."""
        self.connect()
        assert self._connection is not None
        sender = parseaddr(self.settings.sender)[1]
        try:
            refused = self._connection.send_message(message, from_addr=sender, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as error:
            self._reset()
            replies = {address: _reply(code, text) for address, (code, text) in error.recipients.items()}
            raise SendError("recipients", "the server refused every recipient: " + _list(replies), server_wide=False,
                            permanent=all(code >= 500 for code, _ in error.recipients.values())) from None
        except smtplib.SMTPSenderRefused as error:
            self._reset()
            raise SendError("sender", f"the server refused the sender {sender}: {_reply(error.smtp_code, error.smtp_error)}",
                            server_wide=True, permanent=error.smtp_code >= 500) from None
        except smtplib.SMTPDataError as error:
            self._reset()
            raise SendError("data", f"the server refused the message: {_reply(error.smtp_code, error.smtp_error)}",
                            server_wide=False, permanent=error.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            raise SendError("data", f"the connection to {self.server} broke while sending: {_describe(error)}",
                            server_wide=True) from None
        replies = {address: _reply(code, text) for address, (code, text) in refused.items()}
        return Accepted([address for address in recipients if address not in replies], replies)

    def close(self) -> None:
        if self._connection is not None:
            _quietly_close(self._connection, polite=True)
            self._connection = None

    def _open(self) -> smtplib.SMTP:
        timeout = self.settings.timeout.total_seconds()
        try:
            if self.settings.security == "tls":
                return smtplib.SMTP_SSL(self.settings.host, self.settings.effective_port, timeout=timeout,
                                        context=self._tls_context())
            return smtplib.SMTP(self.settings.host, self.settings.effective_port, timeout=timeout)
        except ssl.SSLError as error:
            raise SendError("tls", f"TLS failure with {self.server}: {_tls_reason(error)}", server_wide=True) from None
        except (OSError, smtplib.SMTPException) as error:
            raise SendError("connect", f"cannot connect to {self.server}: {_describe(error)}", server_wide=True) from None

    def _secure(self, connection: smtplib.SMTP) -> None:
        if self.settings.security != "starttls":
            return
        try:
            connection.ehlo()
            if not connection.has_extn("starttls"):
                raise SendError("tls", f"{self.server} does not offer STARTTLS (set smtp.security to tls or none)",
                                server_wide=True)
            connection.starttls(context=self._tls_context())
            connection.ehlo()
        except ssl.SSLError as error:
            raise SendError("tls", f"TLS failure with {self.server}: {_tls_reason(error)}", server_wide=True) from None
        except (OSError, smtplib.SMTPException) as error:
            raise SendError("tls", f"STARTTLS with {self.server} failed: {_describe(error)}", server_wide=True) from None

    def _login(self, connection: smtplib.SMTP, username: str, password: str) -> None:
        # One mechanism only (the strongest both sides know): smtplib's login() tries the next one after a
        # refusal and reports that one's error instead, which hides "wrong password".
        try:
            connection.ehlo_or_helo_if_needed()
            offered = connection.esmtp_features.get("auth", "").upper().split()
            mechanism = next((name for name in ("CRAM-MD5", "PLAIN", "LOGIN") if name in offered), None)
            if mechanism is None:
                raise smtplib.SMTPNotSupportedError("no supported AUTH mechanism")
            connection.user, connection.password = username, password
            authenticate = getattr(connection, "auth_" + mechanism.lower().replace("-", "_"))
            connection.auth(mechanism, authenticate, initial_response_ok=True)
        except smtplib.SMTPAuthenticationError as error:
            raise SendError("auth", f"authentication failed for user '{username}' at {self.server}: "
                                    f"{_reply(error.smtp_code, error.smtp_error)}", server_wide=True) from None
        except smtplib.SMTPNotSupportedError:
            raise SendError("auth", f"{self.server} does not offer AUTH on this connection "
                                    "(most servers only allow it after STARTTLS or TLS)", server_wide=True) from None
        except (OSError, smtplib.SMTPException) as error:
            raise SendError("auth", f"logging in to {self.server} failed: {_describe(error)}", server_wide=True) from None

    def _tls_context(self) -> ssl.SSLContext:
        ca_file = resolve(self.settings.ca_file, self.directory) if self.settings.ca_file else None
        try:
            return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        except (OSError, ssl.SSLError) as error:
            raise SendError("tls", f"cannot load smtp.ca_file {ca_file}: {_describe(error)}", server_wide=True) from None

    def _reset(self) -> None:
        # After a refused transaction the session is still usable once reset; a broken one is dropped.
        try:
            assert self._connection is not None
            self._connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            _quietly_close(self._connection)
            self._connection = None


def _quietly_close(connection: smtplib.SMTP, polite: bool = False) -> None:
    try:
        if polite:
            connection.quit()
    except (smtplib.SMTPException, OSError):
        pass
    try:
        connection.close()
    except OSError:
        pass


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(message.split())}"


def _list(replies: dict[str, str]) -> str:
    return "; ".join(f"{address} ({reply})" for address, reply in replies.items())


def _tls_reason(error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return (f"the server's certificate was not accepted ({error.verify_message}); "
                "set smtp.ca_file to the authority that signed it")
    return error.reason or str(error)


def _describe(error: BaseException) -> str:
    if isinstance(error, socket.timeout):
        return "no answer in time"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror})"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply(error.smtp_code, error.smtp_error)
    return str(error) or type(error).__name__
