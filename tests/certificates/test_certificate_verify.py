"""`restoreproof verify`: valid on fresh output; after each kind of tampering, invalid with the right reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.certificates.conftest import World, flip_byte, main, sqlite
from tests.conftest import cli

pytestmark = pytest.mark.e2e


def verify(world: World, *arguments: str) -> tuple[int, str]:
    code, output = main(world.config, "verify", *arguments)
    assert "Traceback" not in output, output
    return code, output


def test_fresh_output_is_valid_through_the_installed_command(world: World) -> None:
    result = cli(world.config, "verify", str(world.outputs["fr"]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("valid")


def test_fresh_output_is_valid_with_database_and_without(world: World) -> None:
    code, output = verify(world, str(world.outputs["fr"]))
    assert code == 0, output
    assert output.strip().endswith("valid")
    assert "run records: 7 listed, all unchanged in the database" in output
    # An auditor with the files and the pinned key only (no configuration at hand).
    code, output = verify(world, str(world.outputs["en"] / f"certificate-{world.month}.pdf"),
                          "--public-key", str(world.public_key), "--no-database")
    assert code == 0, output


def test_changed_byte_in_the_pdf(world: World, tmp_path: Path) -> None:
    copy = world.copy(tmp_path)
    flip_byte(copy.outputs["fr"] / f"certificate-{world.month}.pdf")
    code, output = verify(copy, str(copy.outputs["fr"]))
    assert code == 1
    assert f"INVALID: certificate-{world.month}.pdf was changed after it was signed" in output


def test_changed_byte_in_the_evidence_json(world: World, tmp_path: Path) -> None:
    copy = world.copy(tmp_path)
    evidence = copy.outputs["en"] / f"evidence-{world.month}.json"
    evidence.write_text(evidence.read_text().replace('"failed": 1', '"failed": 0', 1))
    code, output = verify(copy, str(copy.outputs["en"]))
    assert code == 1
    assert f"INVALID: evidence-{world.month}.json was changed after it was signed" in output


def test_wrong_key(world: World, tmp_path: Path) -> None:
    from orchestrator.certificates.keys import create_key, public_key_path

    other = tmp_path / "other.key"
    create_key(other)
    code, output = verify(world, str(world.outputs["fr"]), "--public-key", str(public_key_path(other)))
    assert code == 1
    assert "the signature does not match the public key" in output


def test_run_row_altered_in_the_database(world: World, tmp_path: Path) -> None:
    copy = world.copy(tmp_path)
    failed = world.db_runs[2]
    sqlite(copy.state / "restoreproof.db",
           f"UPDATE runs SET status = 'passed' WHERE job = 'db' AND snapshot_id = '{failed.snapshot_id}'")
    code, output = verify(copy, str(copy.outputs["fr"]))
    assert code == 1
    assert "was altered in the database after it was sealed" in output
    assert "job db" in output


def test_run_row_altered_and_resealed_still_shows(world: World, tmp_path: Path) -> None:
    """An attacker who also recomputes the row's own hash breaks the next link and the certificate's copy."""
    from orchestrator.certificates.chain import record_hash
    from orchestrator.db.models import Run

    copy = world.copy(tmp_path)
    database = copy.database()
    with database.session() as session:
        run = session.query(Run).filter(Run.job == "db", Run.status == "failed").one()
        run.status, run.reason = "passed", None
        run.chain_hash = record_hash(run)
    code, output = verify(copy, str(copy.outputs["fr"]))
    assert code == 1
    assert "was altered in the database after it was sealed" in output
    assert "does not link to the record before it" in output


def test_run_row_deleted_from_the_database(world: World, tmp_path: Path) -> None:
    copy = world.copy(tmp_path)
    failed = world.db_runs[2]
    sqlite(copy.state / "restoreproof.db", f"DELETE FROM runs WHERE job = 'db' AND snapshot_id = '{failed.snapshot_id}'")
    code, output = verify(copy, str(copy.outputs["en"]))
    assert code == 1
    assert "was deleted from the database" in output


def test_last_run_of_the_chain_deleted(world: World, tmp_path: Path) -> None:
    copy = world.copy(tmp_path)
    sqlite(copy.state / "restoreproof.db", "DELETE FROM runs WHERE chain_sequence = (SELECT MAX(chain_sequence) FROM runs)")
    code, output = verify(copy, str(copy.outputs["en"]))
    assert code == 1
    assert "was deleted from the database" in output


def test_gap_in_the_certificate_chain(world: World, tmp_path: Path) -> None:
    copy = world.copy(tmp_path)
    archive = tmp_path / "archive"
    for name in ("fr", "en", "mail"):
        shutil.copytree(copy.outputs[name], archive / name)
    code, output = verify(copy, str(archive))
    assert code == 0, output
    assert "certificate chain: 3 certificates (no. 1 to 3) linked without a gap" in output
    shutil.rmtree(archive / "en")
    code, output = verify(copy, str(archive))
    assert code == 1
    assert "gap in the certificate chain: certificate no. 2 is missing between no. 1" in output


def test_certificate_substituted_for_another(world: World, tmp_path: Path) -> None:
    """Certificate no. 2 replaced by a copy of another valid certificate: a duplicate number and a gap."""
    copy = world.copy(tmp_path)
    archive = tmp_path / "archive"
    for name in ("fr", "mail"):
        shutil.copytree(copy.outputs[name], archive / name)
    shutil.copytree(copy.outputs["en"], archive / "en")
    envelope = archive / "en" / f"certificate-{world.month}.dsse.json"
    mail_envelope = copy.outputs["mail"] / f"certificate-{world.month}.dsse.json"
    envelope.write_bytes(mail_envelope.read_bytes())
    for name in (f"certificate-{world.month}.pdf", f"certificate-{world.month}.html", f"evidence-{world.month}.json"):
        (archive / "en" / name).write_bytes((copy.outputs["mail"] / name).read_bytes())
    code, output = verify(copy, str(archive))
    assert code == 1
    assert "two certificates claim number 3" in output
    assert "certificate no. 2 is missing" in output


def test_certificate_removed_from_the_database_log(world: World, tmp_path: Path) -> None:
    copy = world.copy(tmp_path)
    sqlite(copy.state / "restoreproof.db", "DELETE FROM certificates WHERE sequence = 1")
    code, output = verify(copy, str(copy.outputs["en"]))
    assert code == 1
    assert "certificate no. 1 is missing from the database's certificate log" in output


def test_statement_replaced_in_the_envelope(world: World, tmp_path: Path) -> None:
    copy = world.copy(tmp_path)
    envelope = copy.outputs["fr"] / f"certificate-{world.month}.dsse.json"
    data = json.loads(envelope.read_text())
    import base64

    statement = base64.b64decode(data["payload"]).replace(b'"sequence": 1', b'"sequence": 9')
    data["payload"] = base64.b64encode(statement).decode()
    envelope.write_text(json.dumps(data, indent=2))
    code, output = verify(copy, str(copy.outputs["fr"]))
    assert code == 1
    assert "the signature does not match the public key" in output


def test_no_envelope_is_a_usage_error(world: World, tmp_path: Path) -> None:
    code, output = verify(world, str(tmp_path))
    assert code == 2
    assert "no certificate signature envelope" in output


def test_issuing_a_month_again_keeps_the_earlier_certificate_in_the_chain(world: World, tmp_path: Path) -> None:
    copy = world.copy(tmp_path)
    folder = copy.outputs["mail"]
    code, output = main(copy.config, "certificate", "--month", world.month, "--lang", "fr", "--job", "mail",
                        "--out", str(folder))
    assert code == 0, output
    assert (folder / "superseded" / f"certificate-{world.month}-no3" / f"certificate-{world.month}.pdf").is_file()
    for name in ("fr", "en"):
        shutil.copytree(copy.outputs[name], folder / name)
    code, output = verify(copy, str(folder))
    assert code == 0, output
    assert "certificate chain: 4 certificates (no. 1 to 4) linked without a gap" in output
