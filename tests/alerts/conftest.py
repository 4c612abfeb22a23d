"""A real SMTP server for alert tests: aiosmtpd on 127.0.0.1 with STARTTLS (self-signed certificate made
with openssl) and AUTH, which can be stopped and started again on the same port."""

from __future__ import annotations

import importlib.util
import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, fresh_postgres_database, require

SMTP_USER = "alerts"
SMTP_PASSWORD = "smtp-secret-93ab1f"


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    require(shutil.which("openssl") is not None, "the openssl command")
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return Certificate(cert, key)


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content())  # type: ignore[attr-defined]

    def html(self) -> str:
        body = self.message.get_body(("html",))
        assert body is not None
        return str(body.get_content())  # type: ignore[attr-defined]


@dataclass
class SmtpServer:
    """aiosmtpd with STARTTLS required and AUTH required; `implicit_tls` serves TLS from the first byte."""

    certificate: Certificate
    implicit_tls: bool = False
    refuse: set[str] = field(default_factory=set)
    port: int = 0
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    _controller: Any = None

    def __post_init__(self) -> None:
        if not self.port:
            self.port = free_port()

    def start(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
            ok = (data.login.decode(), data.password.decode()) == (SMTP_USER, SMTP_PASSWORD)
            if ok:
                self.logins.append(data.login.decode())
            return AuthResult(success=ok, handled=False)

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.certificate.cert), str(self.certificate.key))
        options: dict[str, Any] = {"authenticator": authenticate, "auth_required": True}
        if self.implicit_tls:
            # aiosmtpd only counts STARTTLS as TLS for AUTH; this connection is TLS from its first byte.
            options["auth_require_tls"] = False
            controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, ssl_context=context,
                                    server_hostname="localhost", **options)
        else:
            controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, tls_context=context,
                                    require_starttls=True, **options)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings(self, password_file: Path | None = None, ca_file: Path | None = None, security: str = "starttls",
                 recipients: tuple[str, ...] = ("ops@example.com",), extra: str = "") -> str:
        """Return restoreproof.yml lines for this server (password from password_file, CA = its certificate)."""
        lines = [f"smtp:\n  host: 127.0.0.1\n  port: {self.port}\n  security: {security}\n",
                 "  sender: restoreproof <backup@example.com>\n", "  timeout: 5s\n",
                 f"  ca_file: {ca_file or self.certificate.cert}\n"]
        if password_file is not None:
            lines.append(f"  username: {SMTP_USER}\n  password_file: {password_file}\n")
        lines.append("alerts:\n  recipients: [" + ", ".join(recipients) + "]\n" + extra)
        return "".join(lines)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.server.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 queued"



@pytest.fixture
def smtp_server(certificate: Certificate) -> Iterator[SmtpServer]:
    require(importlib.util.find_spec("aiosmtpd") is not None, "aiosmtpd (pip install -e '.[test]')")
    server = SmtpServer(certificate)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_smtp_server(certificate: Certificate) -> Iterator[Callable[..., SmtpServer]]:
    servers: list[SmtpServer] = []

    def make(**options: Any) -> SmtpServer:
        server = SmtpServer(certificate, **options)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_password_file(tmp_path: Path) -> Path:
    path = tmp_path / "smtp.password"
    path.write_text(SMTP_PASSWORD + "\n")
    return path


FAKE_JOB = "repository:\n  url: /srv/restic/{name}\n  password_file: {password_file}\n{extra}"


@dataclass
class AlertWorld:
    """A config directory and its database, for driving the alert code in-process with a controlled clock."""

    directory: Path
    password_file: Path

    def config(self) -> Any:
        from orchestrator.config import load_config

        return load_config(self.directory)

    def database(self) -> Any:
        from orchestrator.db import Database

        database = Database(self.config().database_url)
        database.migrate()
        return database


@pytest.fixture
def alert_world(config_dir: Callable[..., Path], tmp_path: Path) -> Callable[..., AlertWorld]:
    """Return a factory: given restoreproof.yml lines (and job extras), a config with jobs `web` and `db`."""
    repository_password = tmp_path / "repository.password"
    repository_password.write_text("repository-secret-51c2\n")

    def make(settings: str, web_extra: str = "", db_extra: str = "") -> AlertWorld:
        jobs = {name: FAKE_JOB.format(name=name, password_file=repository_password, extra=extra)
                for name, extra in (("web", web_extra), ("db", db_extra))}
        return AlertWorld(config_dir(jobs, settings), repository_password)

    return make


def record_run(database: Any, job: str, status: str, finished_at: Any, checks: tuple[tuple[str, str, str], ...] = (),
               reason: str | None = None, message: str = "", **fields: Any) -> Any:
    """Write a finished run as the pipeline would, finished at a chosen time; return it as read back."""
    import uuid

    run_id = database.start_run(uuid.uuid4().hex[:16], job, "test-host:1:1", **fields)
    for position, (name, check_status, detail) in enumerate(checks):
        database.add_check(run_id, position, name, check_status, detail)
    database.finish_run(run_id, status, reason, message)
    database.update_run(run_id, started_at=finished_at, finished_at=finished_at)
    return database.get_run(run_id)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_setting(request: pytest.FixtureRequest) -> Iterator[str]:
    """A restoreproof.yml line choosing the database: SQLite (the default), or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield ""
        return
    with fresh_postgres_database("rp_alerts") as url:
        yield f"database_url: {url}\n"
