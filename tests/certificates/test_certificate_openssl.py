"""An auditor checks a certificate without restoreproof: the exact commands of docs/certificates.md, run with the
real openssl, base64 and sha256sum."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.certificates.conftest import World, flip_byte, run_shell
from tests.conftest import require

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs" / "certificates.md"
MARKER = "<!-- openssl-verification:"


def documented_commands(month: str, key: Path) -> str:
    """The shell block that follows the marker in the docs, with the month and the key filled in."""
    text = DOCS.read_text()
    block = text[text.index(MARKER):].split("```sh\n", 1)[1].split("```", 1)[0]
    block = re.sub(r"^month=.*$", f"month={month}", block, count=1, flags=re.MULTILINE)
    return re.sub(r"^key=.*$", f"key={key}", block, count=1, flags=re.MULTILINE)


@pytest.fixture
def auditor_copy(world: World, tmp_path: Path) -> Path:
    require(shutil.which("openssl") is not None, "the openssl command")
    folder = tmp_path / "received"
    shutil.copytree(world.outputs["fr"], folder)
    return folder


def test_documented_openssl_commands_verify_the_certificate(world: World, auditor_copy: Path) -> None:
    result = run_shell(documented_commands(world.month, world.public_key), auditor_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Signature Verified Successfully" in result.stdout
    for name in (f"certificate-{world.month}.pdf", f"certificate-{world.month}.html", f"evidence-{world.month}.json"):
        assert f"{name}: OK" in result.stdout
    fingerprint = result.stdout.split()[0]
    assert fingerprint in (auditor_copy / f"evidence-{world.month}.json").read_text()


def test_openssl_rejects_a_wrong_key(world: World, auditor_copy: Path, tmp_path: Path) -> None:
    from orchestrator.certificates.keys import create_key, public_key_path

    create_key(tmp_path / "other.key")
    result = run_shell(documented_commands(world.month, public_key_path(tmp_path / "other.key")), auditor_copy)
    assert result.returncode != 0
    assert "Signature Verification Failure" in result.stdout + result.stderr


def test_sha256sum_rejects_a_changed_pdf(world: World, auditor_copy: Path) -> None:
    flip_byte(auditor_copy / f"certificate-{world.month}.pdf")
    result = run_shell(documented_commands(world.month, world.public_key), auditor_copy)
    assert result.returncode != 0
    assert "Signature Verified Successfully" in result.stdout, "the statement itself is intact"
    assert f"certificate-{world.month}.pdf: FAILED" in result.stdout
