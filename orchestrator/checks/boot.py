"""The generic boot check: start a command on the restored data and wait until it answers."""

from __future__ import annotations

from orchestrator.checks import ERROR, FAILED, PASSED, CheckOutcome
from orchestrator.config.schema import BootCheck
from orchestrator.redact import Redactor
from orchestrator.runners import BootRequest, BootResult, Sandbox, http_problem

NAME = "boot"
__all__ = ["NAME", "check", "http_problem"]


def check(config: BootCheck, sandbox: Sandbox, image: str, user: str, redactor: Redactor) -> tuple[CheckOutcome, str]:
    """Given the job's boot section, boot it next to the sandbox; return the outcome and the redacted log tail."""
    request = BootRequest(
        image=config.image or image,
        command=config.command,
        user=config.user or user,
        data_mount=config.data_mount,
        timeout_seconds=config.timeout.total_seconds(),
        tcp_port=config.tcp_port,
        http_port=config.http.port if config.http else None,
        http_path=config.http.path if config.http else "/",
        http_status=config.http.status if config.http else 200,
        http_contains=config.http.contains if config.http else None,
    )
    try:
        result = sandbox.boot(request)
    except Exception as error:  # noqa: BLE001 - the engine failed us: an error outcome, never a pass
        return CheckOutcome(NAME, ERROR, f"{request.image}: the boot check could not run: {error}"), ""
    log_tail = redactor.redact(result.log_tail)
    data = {"image": request.image, "image_digest": result.image_digest, "ready_seconds": round(result.seconds, 3)}
    if not result.ready:
        return CheckOutcome(NAME, FAILED, f"{request.image}: {result.message}", data), log_tail
    if config.http is not None:
        problem = http_problem(result.probe_output, config.http.status, config.http.contains)
        if problem:
            return CheckOutcome(NAME, FAILED, f"{request.image}: {problem}", data), log_tail
    return CheckOutcome(NAME, PASSED, f"{request.image}: {_ready_message(config, result)}", data), log_tail


def _ready_message(config: BootCheck, result: BootResult) -> str:
    if config.http is not None:
        return f"HTTP {config.http.status} on port {config.http.port}{config.http.path} after {result.seconds:.1f}s"
    if config.tcp_port is not None:
        return f"port {config.tcp_port} open after {result.seconds:.1f}s"
    return f"{result.message} after {result.seconds:.1f}s"
