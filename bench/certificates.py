"""Benchmark: issue and verify one month's certificate for many jobs (default 200 jobs x 30 runs).

    python bench/certificates.py --jobs 200 --runs 30

Writes a config with N jobs into a temporary folder, records N x R realistic runs for October 2026 (about
3% failed) in one transaction, seals them into the run chain, then, each in a fresh child process so its
peak memory is its own: issues the certificate (evidence, HTML, PDF, signature) and verifies it
(signature, files, certificate chain, every run record against the database). Prints one JSON line per
phase: wall seconds (with the time spent in each step), peak RSS of that process and of the WeasyPrint
child that renders the PDF, and sizes.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MONTH = "2026-10"


def setup(folder: Path, jobs: int, runs: int) -> dict[str, Any]:
    from orchestrator.certificates.keys import create_key
    from orchestrator.db import Database
    from orchestrator.db.certificates_store import CertificateStore
    from tests.certificates.month_runs import daily_runs, record_in_bulk

    config, state = folder / "config", folder / "state"
    (config / "jobs").mkdir(parents=True)
    (config / "restoreproof.yml").write_text(f"state_dir: {state}\norganisation: Benchmark SA\n")
    chooser = random.Random(2026)
    days = [datetime(2026, 10, 1 + day % 31, tzinfo=timezone.utc) for day in range(runs)]
    specs = []
    for index in range(jobs):
        name = f"system-{index:03d}"
        (config / "jobs" / f"{name}.yml").write_text(
            f"repository:\n  url: /srv/restic/{name}\n  password_file: /etc/pw\nrto: 1h\nrpo: 1d\n"
            "controls: [ANSSI-37, ISO27001-A.8.13, NIST-CP-9]\n")
        failing = tuple(day for day in range(1, 32) if chooser.random() < 0.03)
        specs.extend(daily_runs(name, days, chooser, failing_days=failing))
    create_key(state / "keys" / "certificate-signing.key")
    database = Database(f"sqlite:///{state / 'restoreproof.db'}")
    database.migrate()
    started = time.perf_counter()
    record_in_bulk(database, specs)
    inserted = time.perf_counter()
    sealed = len(CertificateStore(database).seal_pending())
    return {"phase": "setup", "runs": len(specs), "insert_seconds": round(inserted - started, 2),
            "seal_seconds": round(time.perf_counter() - inserted, 2), "sealed": sealed}


def issue_phase(config_dir: Path) -> dict[str, Any]:
    import orchestrator.certificates.issue as issue
    from orchestrator.certificates.period import Month
    from orchestrator.config import load_config
    from orchestrator.db import Database

    timings: dict[str, float] = {}
    for name in ("build_evidence", "render_html", "write_pdf", "sign_envelope"):
        setattr(issue, name, _timed(getattr(issue, name), name, timings))
    config = load_config(config_dir)
    database = Database(config.database_url)
    started = time.perf_counter()
    issued = issue.issue_certificate(config, database, Month.parse(MONTH), language="fr", job_names=None,
                                     directory=config.state_dir / "certificates", now=datetime.now(timezone.utc))
    seconds = time.perf_counter() - started
    from pypdf import PdfReader

    pages = len(PdfReader(str(issued.path(issued.names.pdf))).pages)
    sizes = {name: issued.path(name).stat().st_size for name in issued.names.all()}
    return {"phase": "issue", "seconds": round(seconds, 2), **{f"{k}_seconds": round(v, 2) for k, v in timings.items()},
            "pdf_pages": pages, "bytes": sizes, "peak_rss_mib": _peak_rss_mib(),
            "pdf_child_peak_rss_mib": _peak_rss_mib(resource.RUSAGE_CHILDREN)}


def verify_phase(config_dir: Path) -> dict[str, Any]:
    from orchestrator.certificates.keys import load_public_key
    from orchestrator.certificates.verify import verify
    from orchestrator.config import load_config
    from orchestrator.db import Database
    from orchestrator.db.certificates_store import CertificateStore

    config = load_config(config_dir)
    key = load_public_key(config.state_dir / "keys" / "certificate-signing.key.pub.pem")
    started = time.perf_counter()
    report = verify(config.state_dir / "certificates", key, CertificateStore(Database(config.database_url)))
    return {"phase": "verify", "seconds": round(time.perf_counter() - started, 2), "valid": report.valid,
            "problems": report.problems[:3], "peak_rss_mib": _peak_rss_mib()}


def _timed(function: Callable[..., Any], name: str, timings: dict[str, float]) -> Callable[..., Any]:
    def timed(*arguments: Any, **keywords: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*arguments, **keywords)
        finally:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - started

    return timed


def _peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def child(phase: str, config_dir: Path) -> dict[str, Any]:
    result = subprocess.run([sys.executable, __file__, "--phase", phase, "--config", str(config_dir)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{result.stderr}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30, help="runs per job in the month (one a day)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    parser.add_argument("--phase", choices=("issue", "verify"), help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.phase:
        phases = {"issue": issue_phase, "verify": verify_phase}
        print(json.dumps(phases[arguments.phase](arguments.config)))
        return
    folder = Path(tempfile.mkdtemp(prefix="restoreproof-bench-certificates-"))
    print(json.dumps({"jobs": arguments.jobs, "runs_per_job": arguments.runs, "folder": str(folder)}), flush=True)
    print(json.dumps(setup(folder, arguments.jobs, arguments.runs)), flush=True)
    for phase in ("issue", "verify"):
        print(json.dumps(child(phase, folder / "config")), flush=True)
    if not arguments.keep:
        import shutil

        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
