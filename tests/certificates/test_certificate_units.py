"""Pure logic of certificates: months, formatting per language, control names, CSS escaping, the messages
file, and the run hash chain on SQLite and PostgreSQL (sealing from several threads at once)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from orchestrator.certificates.chain import GENESIS, chain_problems
from orchestrator.certificates.controls import canonical_id, control_title
from orchestrator.certificates.formatting import Formatter
from orchestrator.certificates.period import Month
from orchestrator.certificates.render import css_string, template_dir
from orchestrator.db import Database
from orchestrator.db.certificates_store import CertificateStore
from tests.certificates.month_runs import RunSpec, failed, record
from tests.conftest import fresh_postgres_database


def test_month_bounds_and_neighbours() -> None:
    assert Month.parse("2024-02").days == 29
    assert Month.parse("2026-12").next() == Month(2027, 1)
    assert Month.parse("2026-01").previous() == Month(2025, 12)
    assert Month.parse("2026-11").end == datetime(2026, 12, 1, tzinfo=timezone.utc)
    for bad in ("2026-13", "2026-1", "november"):
        with pytest.raises(ValueError):
            Month.parse(bad)


def test_formatting_follows_the_language() -> None:
    french, english = Formatter("fr"), Formatter("en")
    assert french.duration(12.34) == "12,3 s" and english.duration(12.34) == "12.3 s"
    assert french.duration(3725) == "1 h 02 min" and french.duration(3600) == "1 h"
    assert french.duration(200000) == "2 j 07 h" and english.duration(200000) == "2 d 07 h"
    assert french.size(219_550_000) == "209,4 Mio" and english.size(219_550_000) == "209.4 MiB"
    assert french.number(1234567) == "1\u202f234\u202f567" and english.number(1234567) == "1,234,567"
    assert french.month(datetime(2026, 11, 1).date()) == "novembre 2026"
    assert english.day_time("2026-11-03T02:05:00Z") == "Tue 3 Nov 02:05"


def test_control_aliases_and_titles() -> None:
    assert canonical_id("ISO 27001 A.8.13") == "ISO27001-A.8.13"
    assert canonical_id("NIST SP 800-53 CP-9") == canonical_id("cp-9") == "NIST-CP-9"
    assert canonical_id("anssi hygiene 37") == "ANSSI-37"
    assert canonical_id("internal-backup-7") == "internal-backup-7"
    assert "sauvegarde" in control_title("ANSSI-37", "fr") and control_title("internal-backup-7", "en") == ""


def test_css_string_cannot_close_the_style_element() -> None:
    escaped = css_string('Acme </style><script>"x"</script>')
    assert "<" not in escaped and '"x"' not in escaped and escaped.startswith('"') and escaped.endswith('"')


def test_every_message_exists_in_both_languages() -> None:
    table = yaml.safe_load((template_dir() / "messages.yml").read_text())
    incomplete = [key for key, entry in table.items() if set(entry) != {"fr", "en"}]
    assert incomplete == []


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database: SQLite in tmp_path, or a new database on the PostgreSQL server (dropped after)."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'restoreproof.db'}")
        database.migrate()
        yield database
        return
    with fresh_postgres_database("rp_certificates") as url:
        database = Database(url)
        try:
            database.migrate()
            yield database
        finally:
            database.engine.dispose()


def test_chain_holds_after_a_database_round_trip_and_shows_edits(database: Database) -> None:
    start = datetime(2026, 10, 1, 2, 0, 0, 123456, tzinfo=timezone.utc)
    for index in range(6):
        spec = RunSpec("db", start + timedelta(days=index), restore_seconds=301.25 + index)
        record(database, failed(spec) if index == 3 else spec)
    store = CertificateStore(database)
    assert len(store.seal_pending()) == 6
    assert store.seal_pending() == []
    assert chain_problems(store.sealed_runs()) == []
    head = store.chain_head()
    assert head.sequence == 6 and head.hash != GENESIS
    database.update_run(_id_at(store, 3), restore_seconds=30.0)
    [altered] = chain_problems(store.sealed_runs())
    assert "run record #3" in altered.message and "altered" in altered.message


def test_chain_shows_a_deleted_record(database: Database) -> None:
    from sqlalchemy import delete

    from orchestrator.db.models import Run

    for index in range(4):
        record(database, RunSpec("web", datetime(2026, 10, 1 + index, tzinfo=timezone.utc)))
    store = CertificateStore(database)
    store.seal_pending()
    with database.session() as session:
        session.execute(delete(Run).where(Run.chain_sequence == 2))
    problems = [problem.message for problem in chain_problems(store.sealed_runs())]
    assert problems == ["run record #2 is missing from the run chain (deleted from the database?)"]


def test_sealing_from_several_threads_keeps_one_unbroken_chain(database: Database) -> None:
    errors: list[BaseException] = []

    def worker(job: str) -> None:
        try:
            for index in range(8):
                record(database, RunSpec(job, datetime(2026, 10, 1, index, tzinfo=timezone.utc)))
                CertificateStore(database).seal_pending()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(f"job{number}",)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = CertificateStore(database)
    assert chain_problems(store.sealed_runs()) == []
    assert store.chain_head().sequence == 32


def _id_at(store: CertificateStore, sequence: int) -> int:
    return next(run.id for run in store.sealed_runs() if run.chain_sequence == sequence)
