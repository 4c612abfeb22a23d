"""Deployment files: the compose file passes `docker-compose config` and runs `serve`; the image copies
files that exist; the systemd unit starts `serve`, reloads with SIGHUP and lets the daemon stop itself."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_is_valid_and_runs_the_daemon() -> None:
    compose = shutil.which("docker-compose")
    require(compose is not None, "docker-compose (Debian package docker-compose)")
    assert compose is not None
    result = subprocess.run([compose, "-f", str(ROOT / "docker-compose.yml"), "config"], capture_output=True,
                            text=True, timeout=60, cwd=ROOT)

    assert result.returncode == 0, result.stderr
    service = yaml.safe_load(result.stdout)["services"]["restoreproof"]
    assert service["command"][0] == "serve"
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert any(str(port.get("host_ip", "")) == "127.0.0.1" if isinstance(port, dict) else port.startswith("127.0.0.1:")
               for port in service["ports"])


def test_dockerfile_copies_only_what_exists_and_starts_serve() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()

    for source in re.findall(r"^COPY (\S+(?: \S+)*) \S+$", dockerfile, re.MULTILINE):
        for name in source.split():
            assert (ROOT / name).exists(), name
    assert 'ENTRYPOINT ["restoreproof"]' in dockerfile and 'CMD ["serve"' in dockerfile


def test_systemd_unit_serves_reloads_and_stops_gracefully() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy" / "restoreproof.service")

    service = unit["Service"]
    assert service["ExecStart"].endswith("restoreproof serve")
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert (service["KillMode"], service["KillSignal"]) == ("mixed", "SIGTERM")
    assert unit["Install"]["WantedBy"] == "multi-user.target"
