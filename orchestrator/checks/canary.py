"""A canary file must restore byte-exact: the check that catches data encrypted at the source.

Only digests are compared, and neither the expected content nor its digest is recorded or shown.
"""

from __future__ import annotations

import hashlib
import hmac

from orchestrator.checks import FAILED, PASSED, CheckContext, CheckOutcome
from orchestrator.config.schema import CanaryCheck

NAME = "canary"


def check(config: CanaryCheck, context: CheckContext) -> CheckOutcome:
    assert context.sandbox is not None
    expected = hashlib.sha256(_expected_content(config)).hexdigest()
    path = context.data_mount.rstrip("/") + "/" + config.path.lstrip("/")
    result = context.sandbox.execute(["sha256sum", path], context.timeout_seconds)
    if result.exit_code != 0:
        return CheckOutcome(NAME, FAILED, f"canary {config.path} missing or unreadable in the restored data")
    restored = result.output.split(" ", 1)[0].strip()
    if hmac.compare_digest(restored, expected):
        return CheckOutcome(NAME, PASSED, f"canary {config.path} restored byte-exact")
    return CheckOutcome(NAME, FAILED, f"canary {config.path} restored with different content "
                                      "(altered or encrypted before the backup?)")


def _expected_content(config: CanaryCheck) -> bytes:
    if config.content_file is not None:
        return config.content_file.read_bytes()
    assert config.content is not None
    return config.content.encode("utf-8")
