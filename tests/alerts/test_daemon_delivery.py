"""A real `restoreproof serve` process delivers e-mails that an earlier process queued while the mail
server was down: the outbox survives a restart and each e-mail arrives once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from orchestrator.alerts import enqueue_email
from tests.conftest import cli, free_port

pytestmark = pytest.mark.e2e



def test_a_fresh_daemon_delivers_what_an_earlier_process_left_pending(alert_world, smtp_server, smtp_password_file,
                                                                      tmp_path):
    world = alert_world(smtp_server.settings(smtp_password_file))
    enqueue_email(world.config(), world.database(), kind="failure", job="web", recipients=["ops@example.com"],
                  subject="restore test FAILED: web", body_text="text", body_html="<p>html</p>", dedup_key="k")
    smtp_server.stop()
    assert cli(world.directory, "alerts", "send").returncode == 3  # an earlier process: server down
    smtp_server.start()
    log_path = tmp_path / "daemon.log"
    with log_path.open("w") as log_file:
        daemon = subprocess.Popen([sys.executable, "-m", "orchestrator", "--config", str(world.directory), "serve",
                                   "--metrics-port", str(free_port())], stdout=log_file, stderr=log_file,
                                  env=dict(os.environ))
    try:
        deadline = time.monotonic() + 75  # the outbox task runs every 30 s
        while not smtp_server.received and time.monotonic() < deadline:
            assert daemon.poll() is None, log_path.read_text()
            time.sleep(0.5)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    assert len(smtp_server.received) == 1, log_path.read_text()
    [notice] = json.loads(cli(world.directory, "alerts", "--json").stdout)
    assert (notice["status"], notice["attempts"]) == ("sent", 2)
