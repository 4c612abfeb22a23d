"""`restoreproof demo`: make a demo repository and job under the state directory, run it, show it."""

from __future__ import annotations

import argparse
import sys

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
        print(f"\nTry next:  restoreproof --config {demo_dir} history")
        print(f"           restoreproof --config {demo_dir} snapshots demo")
        print(f"           cat {demo_dir}/jobs/demo.yml")
    return worst_exit_code(runs)
