"""Target kind `files`: plain files and folders, checked against the snapshot and the job's expectations."""

from __future__ import annotations

from collections.abc import Iterator

from orchestrator.checks import CheckContext, CheckOutcome, all_checks, skipped, timed
from orchestrator.config.schema import Target


class FilesTarget:
    kind = "files"
    default_image = "restoreproof/files:2"
    sandbox_user = "65534:65534"

    def verify(self, target: Target, context: CheckContext) -> Iterator[CheckOutcome]:
        registry = all_checks()
        for config in target.checks:
            spec = registry[config.type]
            if spec.needs_restored_data and context.restore_failure is not None:
                yield skipped(config.type, context.restore_failure)
                continue
            yield timed(config.type, lambda: spec.run(config, context))
