"""`restoreproof demo`: make a demo repository and job under the state directory, run it, show it."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from orchestrator.commands import load, worst_exit_code
from orchestrator.commands.run import run_jobs
from orchestrator.config import load_config
from orchestrator.demo import prepare_demo
from orchestrator.report import run_to_dict

HELP = "make a demo repository and job, run it, show the result"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def run(arguments: argparse.Namespace) -> int:
    demo_dir = prepare_demo(load(arguments).state_dir)
    print(f"restoreproof: demo repository and job written to {demo_dir}", file=sys.stderr)
    runs = run_jobs(load_config(demo_dir), ["demo"], quiet=arguments.json)
    if arguments.json:
        import json

        print(json.dumps(run_to_dict(runs[0]), indent=2))
    else:
        program = _program()
        print(f"\nTry next:  {program} --config {demo_dir} history")
        print(f"           {program} --config {demo_dir} snapshots demo")
        print(f"           cat {demo_dir}/jobs/demo.yml")
    return worst_exit_code(runs)


def _program() -> str:
    """The command as the user can type it: the full path when it is not on PATH (e.g. in .venv/bin)."""
    invoked = Path(sys.argv[0])
    if invoked.name == "restoreproof" and shutil.which("restoreproof") != str(invoked.resolve()):
        return str(invoked)
    return "restoreproof"
