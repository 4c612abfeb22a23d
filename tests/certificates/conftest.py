"""A month of runs for certificate tests: one job run by the real pipeline (real restic, real Docker), others
recorded through the Database API with realistic values, a signing key made by the real CLI, and the
certificate issued in French and English by the real CLI."""

from __future__ import annotations

import contextlib
import io
import json
import random
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.conftest import certificate, smtp_password_file, smtp_server  # noqa: F401 - real SMTP fixtures
from tests.certificates.month_runs import PASSING_CHECKS, RunSpec, failed, record
from tests.conftest import cli, job_yaml, write_tree

ORGANISATION = "Acme Logistique & Fils SAS"
# What the repository probes (orchestrator/probes/) record for an S3 repository with Object Lock.
IMMUTABILITY_CHECK = ("immutability", "passed", "S3 Object Lock enabled: COMPLIANCE, 30 days on 5 of 5 sampled objects")
IMMUTABILITY_DATA = {"immutability": {"expected": "object-lock", "backend": "s3", "method": "s3-object-lock",
                                      "verdict": "protected", "measured": True, "protection": "object-lock",
                                      "summary": "Object Lock COMPLIANCE 30 days", "declared": None}}
DB_LOCATION = {"repository_host": "s3.eu-west-3.amazonaws.com", "repository_region": "eu-west-3",
               "repository_offsite": True,
               "repository_facts": {"offsite": {"measured": True, "basis": "the host is not this machine",
                                                "addresses": ["52.95.155.1"], "mount": None},
                                    "declared": {"offsite": True, "site": "AWS Paris", "provider": "AWS",
                                                 "country": "FR", "offline": None}}}
DB_FAILURE_INDEX = 2  # the db job's third run fails, the fourth passes again


@dataclass
class World:
    """A config directory, its database and the certificates issued for the current month."""

    config: Path
    state: Path
    month: str
    web_snapshot: str
    web_repository_id: str
    web_passed: bool
    db_runs: list[RunSpec]
    outputs: dict[str, Path]
    public_key: Path

    def database(self) -> Any:
        return open_database(self.state)

    def copy(self, destination: Path) -> "World":
        """Return an independent copy (config, state, database, certificates) to tamper with."""
        state = destination / "state"
        shutil.copytree(self.state, state)
        config = destination / "config"
        shutil.copytree(self.config, config)
        settings = config / "restoreproof.yml"
        settings.write_text(settings.read_text().replace(str(self.state), str(state)))
        outputs = {}
        for language, path in self.outputs.items():
            outputs[language] = destination / path.name
            shutil.copytree(path, outputs[language])
        return World(config, state, self.month, self.web_snapshot, self.web_repository_id, self.web_passed,
                     self.db_runs, outputs,
                     Path(str(self.public_key).replace(str(self.state), str(state))))


def open_database(state: Path) -> Any:
    from orchestrator.db import Database

    database = Database(f"sqlite:///{state / 'restoreproof.db'}")
    database.migrate()
    return database


def settings_yaml(state: Path, extra: str = "") -> str:
    return (f"state_dir: {state}\norganisation: \"{ORGANISATION}\"\n"
            f"certificates:\n  language: fr\n{extra}")


def month_times(now: datetime, count: int) -> list[datetime]:
    """Given now, return `count` moments spread over the current month so far."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    span = (now - start) * 0.9
    return [start + span * (index + 1) / (count + 1) for index in range(count)]


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, docker_client: Any, make_module_repository: Any) -> World:
    """The real pipeline runs `web`; `db` has six recorded runs, one failed; `mail` has none."""
    root = tmp_path_factory.mktemp("certificates")
    repository = make_module_repository(root)
    state, config = root / "state", root / "config"
    (config / "jobs").mkdir(parents=True)
    (config / "restoreproof.yml").write_text(settings_yaml(state))
    (config / "jobs" / "web.yml").write_text(
        job_yaml(repository, extra="rto: 1h\nrpo: 1d\ndescription: Public web site\n"
                                   "controls: [ANSSI-37, ISO 27001 A.8.13, NIST SP 800-53 CP-9]\n"
                                   "protection:\n  offline: weekly copy on tape, kept in the Lyon office safe\n"))
    (config / "jobs" / "db.yml").write_text(
        "repository:\n  url: /srv/restic/db\n  password_file: /etc/restoreproof/db.password\n"
        "rto: 30m\nrpo: 1d\ncontrols: [ANSSI-37, CP-9]\n")
    (config / "jobs" / "mail.yml").write_text(
        "repository:\n  url: /srv/restic/mail\n  password_file: /etc/restoreproof/mail.password\ncontrols: [ANSSI-37]\n")
    run = cli(config, "run", "web", "--json")
    # A real run that fails is still a real run: the certificate must then show it, so either result is used.
    assert run.returncode in (0, 1) and run.stdout.strip(), run.stderr
    web = json.loads(run.stdout)
    database = open_database(state)
    now = datetime.now(timezone.utc)
    db_runs = [RunSpec("db", moment, restore_seconds=300.0 + 60 * index, rto_seconds=1800.0, host="db-01",
                       repository_location="s3:https://s3.eu-west-3.amazonaws.com/acme-backups/db",
                       checks=PASSING_CHECKS + (IMMUTABILITY_CHECK,), check_data=IMMUTABILITY_DATA, extra=DB_LOCATION)
               for index, moment in enumerate(month_times(now, 6))]
    failed(db_runs[DB_FAILURE_INDEX])
    for spec in db_runs:
        record(database, spec)
    keys = cli(config, "keys", "init")
    assert keys.returncode == 0, keys.stderr
    month = f"{now:%Y-%m}"
    outputs = {}
    # Certificates no. 1 (fr), 2 (en) and 3 (en, only the job without runs: one page).
    for name, arguments in (("fr", ["--lang", "fr"]), ("en", ["--lang", "en"]), ("mail", ["--lang", "en", "--job", "mail"])):
        out = root / f"out-{name}"
        code, output = main(config, "certificate", "--month", month, *arguments, "--out", str(out))
        assert code == 0, output
        outputs[name] = out
    return World(config, state, month, web["snapshot"]["id"], web["repository"]["id"], web["status"] == "passed",
                 db_runs, outputs, state / "keys" / "certificate-signing.key.pub.pem")


@pytest.fixture(scope="session")
def make_module_repository(restic_binary: str) -> Callable[[Path], Any]:
    """A real restic repository with one snapshot, made once for the module's world."""
    from tests.conftest import SAMPLE_FILES, Repository

    def make(root: Path) -> Repository:
        source = root / "repo-source"
        write_tree(source, SAMPLE_FILES)
        password_file = root / "repo.password"
        password_file.write_text("certificate-test-password\n")
        repository = Repository(str(root / "repo"), password_file, "certificate-test-password", source,
                                root / "restic-cache")
        repository.restic("init")
        repository.backup("--tag", "test")
        return repository

    return make


def main(config: Path, *arguments: str) -> tuple[int, str]:
    """Run the real command line in this process (no interpreter start-up per call); return exit code and output."""
    from orchestrator.cli import main as restoreproof

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = restoreproof(["--config", str(config), *arguments])
    return code, out.getvalue() + err.getvalue()


def pdf_text(path: Path) -> str:
    """Given a PDF, return its text with runs of whitespace collapsed (pypdf)."""
    from pypdf import PdfReader

    text = " ".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    return " ".join(text.split())


def flip_byte(path: Path, offset_from_end: int = 200) -> None:
    content = bytearray(path.read_bytes())
    content[len(content) - offset_from_end] ^= 0x01
    path.write_bytes(bytes(content))


def sqlite(path: Path, statement: str) -> None:
    """Change the database behind restoreproof's back, as an attacker with file access would."""
    import sqlite3

    connection = sqlite3.connect(path)
    with connection:
        connection.execute(statement)
    connection.close()


def chooser() -> random.Random:
    return random.Random(20261127)


def run_shell(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True, text=True,
                          timeout=60)
