"""`restoreproof keys init|show`: a private key only its owner can read, never printed; the public key and a
fingerprint anyone can recompute with openssl."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

from tests.certificates.conftest import settings_yaml
from tests.conftest import cli, require


def test_keys_init_writes_a_private_key_mode_0600_and_prints_only_the_public_half(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "restoreproof.yml").write_text(settings_yaml(tmp_path / "state"))
    result = cli(config, "keys", "init")
    assert result.returncode == 0, result.stderr
    private = tmp_path / "state" / "keys" / "certificate-signing.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert "PRIVATE" not in result.stdout + result.stderr
    private_body = "".join(private.read_text().splitlines()[1:-1])
    assert private_body not in result.stdout
    assert "-----BEGIN PUBLIC KEY-----" in result.stdout
    fingerprint = result.stdout.strip().split()[-1]
    require(shutil.which("openssl") is not None, "the openssl command")
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", f"{private}.pub.pem", "-outform", "DER"],
                         capture_output=True, check=True).stdout
    import hashlib

    assert hashlib.sha256(der).hexdigest() == fingerprint
    again = cli(config, "keys", "init")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert cli(config, "keys", "show").stdout.strip().split()[-1] == fingerprint


def test_certificate_without_a_key_says_how_to_make_one(tmp_path: Path) -> None:
    config = tmp_path / "config"
    (config / "jobs").mkdir(parents=True)
    (config / "restoreproof.yml").write_text(settings_yaml(tmp_path / "state"))
    result = cli(config, "certificate", "--month", "2026-10")
    assert result.returncode == 2
    assert "restoreproof keys init" in result.stderr and "Traceback" not in result.stderr
    assert cli(config, "certificate", "--month", "2026-13").returncode == 2
