"""`restoreproof serve`: the scheduler daemon. Runs every job with a `schedule` until SIGTERM/SIGINT;
SIGHUP (or `restoreproof reload`) re-reads the config."""

from __future__ import annotations

import argparse
import sys

from orchestrator.commands import EXIT_COULD_NOT_RUN, load

HELP = "run every scheduled job until stopped; SIGHUP reloads the config"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metrics-host", help="address of /metrics and /healthz (default: daemon.metrics.host)")
    parser.add_argument("--metrics-port", type=int, help="port of /metrics and /healthz (default: daemon.metrics.port)")
    parser.add_argument("--log-format", choices=("text", "json"), help="default: daemon.log_format")


def run(arguments: argparse.Namespace) -> int:
    from orchestrator.scheduler.daemon import Daemon, DaemonConflict
    from orchestrator.scheduler.logs import configure_logging

    config = load(arguments)
    configure_logging(arguments.log_format or config.settings.daemon.log_format, arguments.verbose)
    try:
        daemon = Daemon(config, verbose=arguments.verbose, metrics_host=arguments.metrics_host,
                        metrics_port=arguments.metrics_port, log_format=arguments.log_format)
        return daemon.serve()
    except DaemonConflict as conflict:
        print(f"restoreproof: {conflict}", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    except OSError as error:
        print(f"restoreproof: cannot start the daemon: {error.strerror or error}", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
