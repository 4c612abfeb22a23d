"""`restoreproof demo`: a real repository with sample data and a job that exercises every check."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from orchestrator.config.schema import Repository
from orchestrator.restic import Restic

INDEX_PAGE = """<!doctype html>
<html><head><title>restoreproof demo</title></head>
<body><h1>restoreproof demo site</h1>
<p>If you can read this through the boot check, the web root restored and a web server served it.</p>
</body></html>
"""


def prepare_demo(state_dir: Path) -> Path:
    """Given the state directory, create (once) a demo repository and job under it; return the demo config dir."""
    demo = state_dir.resolve() / "demo"
    source = demo / "source"
    password_file = demo / "repository.password"
    canary_file = demo / "canary.expected"
    demo.mkdir(parents=True, exist_ok=True)
    if not (demo / "repository" / "config").exists():
        _write_secret(password_file, secrets.token_urlsafe(24))
        _write_secret(canary_file, f"restoreproof canary {secrets.token_hex(16)}\n")
        _write_source(source, canary_file.read_text())
        restic = Restic(Repository(url=str(demo / "repository"), password_file=password_file),
                        demo / "restic-cache", timeout=120)
        restic.init()
        restic.backup(source, tags=["demo"])
    _write_config(demo, state_dir.resolve(), source)
    return demo


def _write_secret(path: Path, content: str) -> None:
    path.write_text(content)
    path.chmod(0o600)


def _write_source(source: Path, canary: str) -> None:
    (source / "www").mkdir(parents=True, exist_ok=True)
    (source / "data").mkdir(exist_ok=True)
    (source / "www" / "index.html").write_text(INDEX_PAGE)
    for month in range(1, 13):
        rows = "".join(f"2026-{month:02d}-{day:02d},{(month * 31 + day) * 17 % 1000}\n" for day in range(1, 29))
        (source / "data" / f"sales-2026-{month:02d}.csv").write_text("date,amount\n" + rows)
    (source / "data" / "blob.bin").write_bytes(hashlib.sha256(b"demo").digest() * 32768)
    (source / "canary.txt").write_text(canary)
    (source / "www" / "latest").symlink_to("index.html")
    sums = [f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(source)}\n"
            for path in sorted(source.rglob("*")) if path.is_file() and not path.is_symlink()]
    (source / "SHA256SUMS").write_text("".join(sums))


def _write_config(demo: Path, state_dir: Path, source: Path) -> None:
    (demo / "restoreproof.yml").write_text(f"organisation: restoreproof demo\nstate_dir: {state_dir}\n")
    (demo / "jobs").mkdir(exist_ok=True)
    (demo / "jobs" / "demo.yml").write_text(f"""\
# A complete job: every kind of check, and a boot check that serves the restored web root.
description: Demo web site and sales data
repository:
  url: {demo / 'repository'}
  password_file: repository.password
snapshot:
  pick: latest
  tags: [demo]
target:
  kind: files
  checks:
    - type: tree                      # every file of the snapshot restored, same type and size
    - type: expect
      paths:
        - path: www/index.html
          min_size: 100
        - path: data/sales-*.csv
          min_count: 12
    - type: manifest                  # sha256sum -c inside the sandbox
      path: {source}/SHA256SUMS
    - type: canary                    # byte-exact; the content never appears in any record
      path: {source}/canary.txt
      content_file: canary.expected
    - type: restic-check
      read_data_subset: 100%
  boot:
    command: [httpd, -f, -p, "8080", -h, /restore{source}/www]
    data_mount: /restore
    http:
      port: 8080
      path: /index.html
      contains: restoreproof demo site
    timeout: 20s
rto: 15m
rpo: 7d
""")
