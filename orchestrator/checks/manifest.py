"""A sha256sum-format manifest inside the snapshot, verified inside the sandbox against the restored files."""

from __future__ import annotations

import posixpath
import shlex

from orchestrator.checks import FAILED, PASSED, CheckContext, CheckOutcome
from orchestrator.config.schema import ManifestCheck

NAME = "manifest"
SHOWN_FAILURES = 10


def check(config: ManifestCheck, context: CheckContext) -> CheckOutcome:
    assert context.sandbox is not None
    manifest = context.data_mount.rstrip("/") + "/" + config.path.lstrip("/")
    folder, file_name = posixpath.split(manifest)
    script = f"cd {shlex.quote(folder)} && sha256sum -c {shlex.quote(file_name)}"
    result = context.sandbox.execute(["sh", "-c", script], context.timeout_seconds)
    verified, failures = parse_sha256sum_output(result.output)
    data = {"verified": verified, "failed": len(failures), "exit_code": result.exit_code}
    if result.exit_code == 0 and verified and not failures:
        return CheckOutcome(NAME, PASSED, f"{verified} file(s) match the checksums in {config.path}", data)
    if not verified and not failures:
        return CheckOutcome(NAME, FAILED, f"manifest {config.path} missing, unreadable or empty: "
                                          f"{result.output.strip()[:300]}", data)
    shown = ", ".join(failures[:SHOWN_FAILURES])
    return CheckOutcome(NAME, FAILED, f"{len(failures)} of {verified + len(failures)} file(s) do not match "
                                      f"{config.path}: {shown}", data)


def parse_sha256sum_output(output: str) -> tuple[int, list[str]]:
    """Given `sha256sum -c` output, return the count of OK files and the names that failed."""
    verified, failures = 0, []
    for line in output.splitlines():
        name, separator, verdict = line.rpartition(": ")
        if not separator:
            continue
        if verdict.strip() == "OK":
            verified += 1
        elif verdict.strip().startswith("FAILED"):
            failures.append(name)
    return verified, failures
