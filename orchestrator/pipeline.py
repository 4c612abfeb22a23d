"""One restore test as a short list of steps: pick a snapshot, plan, restore into a sandbox, check, boot, record.

Every step records what it learned as soon as it learns it, so a crash later loses nothing.
A check that cannot run because an earlier step failed is recorded `skipped`, never `passed`.
"""

from __future__ import annotations

import logging
import random
import shutil
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol, TypeVar

from orchestrator import __version__
from orchestrator.checks import ERROR, FAILED, PASSED, SKIPPED, CheckContext, CheckOutcome, boot, skipped
from orchestrator.config import Config, Job
from orchestrator.control import RunControl, RunStopped
from orchestrator.db import Database
from orchestrator.hooks import finished_hooks
from orchestrator.redact import Redactor
from orchestrator.restic import FailureKind, Restic, ResticError, Snapshot
from orchestrator.runners import Runner, RunnerUnavailable, Sandbox, SandboxRequest, get_runner
from orchestrator.owner import current_owner
from orchestrator.probes.location import repository_location_fields
from orchestrator.selection import RestorePlan, choose_snapshot, plan_restore
from orchestrator.tarstream import QuotaExceeded, StreamStats, StreamTruncated, TarRewriter
from orchestrator.targets import RestoreTarget, get_target

log = logging.getLogger(__name__)
Result = TypeVar("Result")



class Reporter(Protocol):
    def phase(self, name: str, detail: str = "") -> None: ...

    def progress(self, stats: StreamStats, expected_bytes: int) -> None: ...

    def check(self, outcome: CheckOutcome) -> None: ...


class SilentReporter:
    def phase(self, name: str, detail: str = "") -> None:
        log.info("%s %s", name, detail)

    def progress(self, stats: StreamStats, expected_bytes: int) -> None:
        pass

    def check(self, outcome: CheckOutcome) -> None:
        log.info("check %s: %s %s", outcome.name, outcome.status, outcome.detail)


class RunFailed(Exception):
    """The test ran and the backup did not prove restorable."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RunError(Exception):
    """The test could not run: nothing was learned about the backup."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class RunState:
    """What one run has learned so far; mirrored into the database as it grows."""

    run_id: int
    uid: str
    job: Job
    started: float
    outcomes: list[CheckOutcome] = field(default_factory=list)
    restore_failure: str | None = None
    failure_reason: str | None = None
    control: RunControl = field(default_factory=RunControl)


@dataclass
class Pipeline:
    config: Config
    database: Database
    reporter: Reporter = field(default_factory=SilentReporter)
    chooser: random.Random = field(default_factory=random.SystemRandom)

    def run(self, job: Job, control: RunControl | None = None) -> int:
        """Given a job, run one restore test and return its run id; the run's row holds the result.

        The run is stopped at `timeouts.run` (recorded `failed`, reason `timeout`); `control` lets another
        thread abort it (recorded `aborted`)."""
        uid = uuid.uuid4().hex[:16]
        run_id = self.database.start_run(
            uid, job.name, current_owner(),
            rto_seconds=job.rto.total_seconds() if job.rto else None,
            rpo_seconds=job.rpo.total_seconds() if job.rpo else None,
        )
        state = RunState(run_id, uid, job, time.monotonic(), control=control or RunControl())
        state.control.arm(job.timeouts.run.total_seconds())
        redactor = Redactor()
        try:
            self._steps(state, redactor)
            state.control.disarm()
            status, reason, message = self._verdict(state)
        except RunStopped:
            status, reason, message = state.control.verdict()
        except RunFailed as failure:
            status, reason, message = FAILED, failure.reason, str(failure)
        except RunError as error:
            status, reason, message = ERROR, error.reason, str(error)
        except (KeyboardInterrupt, SystemExit):
            state.control.disarm()
            self._finish(state, "aborted", "interrupted", "the test was interrupted before it finished")
            raise
        except Exception as error:  # noqa: BLE001 - recorded as an error, never as a pass
            log.debug("internal error in run %s", uid, exc_info=True)
            status, reason, message = ERROR, "internal-error", redactor.redact(f"internal error: {error}")
        state.control.disarm()
        if state.control.stopped:  # the stop killed what the steps waited on: it explains their error
            status, reason, message = state.control.verdict()
        self._finish(state, status, reason, message)
        return run_id

    def _steps(self, state: RunState, redactor: Redactor) -> None:
        job = state.job
        target = _target(job)
        # A fresh cache per run: a cache kept between runs would keep serving tree data the repository
        # has lost, and the test would pass where a real restore elsewhere fails.
        restic = Restic(job.repository, run_cache_dir(self.config.state_dir, state.uid),
                        job.timeouts.restic.total_seconds(), redactor, control=state.control)
        runner = _runner(job)
        versions = self._versions(restic, runner)
        self.database.update_run(state.run_id, versions=versions)
        self.database.update_run(state.run_id, **repository_location_fields(restic, job.protection))
        snapshot = self._snapshot(state, restic)
        plan = self._plan(state, restic, snapshot)
        request = self._sandbox_request(state, job, target, restic, runner)
        with state.control.on_stop(lambda: runner.stop(state.uid)), runner.sandbox(request) as sandbox:
            self.database.update_run(state.run_id, sandbox=_sandbox_facts(sandbox))
            self._restore(state, restic, snapshot, plan, sandbox, request)
            state.control.check()
            context = CheckContext(sandbox, plan, restic, request.data_mount,
                                   job.timeouts.restic.total_seconds(), state.restore_failure, snapshot=snapshot,
                                   job=job, database=self.database, run_id=state.run_id)
            self._checks(state, target, context)
            state.control.check()
            self._boot(state, sandbox, request, redactor)

    def _versions(self, restic: Restic, runner: Runner) -> dict[str, str]:
        self.reporter.phase("prepare", "checking restic and the sandbox engine")
        try:
            engine = runner.engine_version()
        except RunnerUnavailable as unavailable:
            raise RunError("runner-unavailable", str(unavailable)) from None
        return {"restoreproof": __version__, "restic": _restic_call(restic.version), "engine": engine}

    def _snapshot(self, state: RunState, restic: Restic) -> Snapshot:
        selection = state.job.snapshot
        snapshots = _restic_call(lambda: restic.snapshots(selection.host, selection.tags, selection.paths))
        snapshot = _restic_call(lambda: choose_snapshot(snapshots, selection, self.chooser))
        seen_at = datetime.now(timezone.utc)
        # Ages are not clamped: a negative one means the client's clock is ahead, which is evidence too.
        self.database.update_run(
            state.run_id, snapshot_id=snapshot.id, snapshot_time=snapshot.time, snapshot_seen_at=seen_at,
            snapshot_host=snapshot.hostname, snapshot_paths=list(snapshot.paths), snapshot_tags=list(snapshot.tags),
            snapshot_age_seconds=(seen_at - snapshot.time).total_seconds(),
            newest_snapshot_age_seconds=(seen_at - snapshots[-1].time).total_seconds(),
            repository_id=_restic_call(restic.repository_id), repository_backend=restic.backend,
            repository_location=restic.display_location,
        )
        self.reporter.phase("snapshot", f"{snapshot.short_id} from {snapshot.time:%Y-%m-%d %H:%M} UTC "
                                        f"on {snapshot.hostname} ({', '.join(snapshot.paths)})")
        return snapshot

    def _plan(self, state: RunState, restic: Restic, snapshot: Snapshot) -> RestorePlan:
        listing = _restic_call(lambda: restic.ls(snapshot.id))
        plan = _restic_call(lambda: plan_restore(listing, state.job.restore, self.chooser))
        if plan.expected_files == 0:
            raise RunFailed("nothing-to-verify", f"{plan.description} holds no files: nothing can be proven "
                                                 "(was the source mounted when the backup ran?)")
        quota = state.job.restore.quota or self.config.settings.restore_quota
        expected = plan.expected_bytes
        if plan.description == "whole snapshot":
            expected = _restic_call(lambda: restic.restore_size(snapshot.id)).bytes
        self.database.update_run(state.run_id, expected_bytes=expected)
        if expected > quota:
            raise RunFailed("quota-exceeded", f"the restore would need {_size(expected)}, more than the quota of "
                                              f"{_size(quota)}; nothing was restored (raise restore.quota or "
                                              "test a sample)")
        self.reporter.phase("plan", f"{plan.description}: {plan.expected_files} files, {_size(expected)}")
        return plan

    def _sandbox_request(self, state: RunState, job: Job, target: RestoreTarget, restic: Restic,
                         runner: Runner) -> SandboxRequest:
        limits = self.config.settings.sandbox
        image = job.target.image or target.default_image
        self.reporter.phase("image", image)
        try:
            runner.ensure_image(image, target.kind)
        except RunnerUnavailable as unavailable:
            raise RunError("image-unavailable", str(unavailable)) from None
        deadline = max(60, int(job.timeouts.run.total_seconds() - (time.monotonic() - state.started)))
        return SandboxRequest(
            run_id=state.uid, job=job.name, image=image, user=target.sandbox_user, deadline_seconds=deadline,
            memory_bytes=limits.memory, pids=limits.pids, cpus=limits.cpus, tmp_bytes=limits.tmp_size,
            network=False, installation=str(self.config.state_dir),
        )

    def _restore(self, state: RunState, restic: Restic, snapshot: Snapshot, plan: RestorePlan,
                 sandbox: Sandbox, request: SandboxRequest) -> None:
        self.reporter.phase("restore", plan.description)
        uid, gid = (int(part) for part in request.user.split(":"))
        quota = state.job.restore.quota or self.config.settings.restore_quota
        rewriter = TarRewriter(uid, gid, quota, lambda stats: self.reporter.progress(stats, plan.expected_bytes))
        started = time.monotonic()
        stream = CapturedStream(_restore_stream(restic, snapshot, plan, rewriter))
        load_error: Exception | None = None
        try:
            sandbox.load(stream)
        except Exception as error:  # noqa: BLE001 - the stream's own failure, if any, is the real cause
            load_error = error
        finally:
            stream.close()
        self._classify_restore_failure(state, stream.error or load_error)
        stats = rewriter.stats
        self.database.update_run(state.run_id, restore_seconds=time.monotonic() - started,
                                 bytes_restored=stats.bytes, files_restored=stats.files)
        detail = f"{stats.files} files, {_size(stats.bytes)} in {time.monotonic() - started:.1f}s"
        if state.restore_failure:
            detail = f"FAILED after {detail}: {state.restore_failure}"
        self.reporter.phase("restored", detail)

    def _classify_restore_failure(self, state: RunState, error: BaseException | None) -> None:
        if error is None:
            return
        if isinstance(error, ResticError):
            # A restore that does not finish in time did not prove restorable; elsewhere a slow backend
            # only means the test could not run.
            if not error.is_backup_fault and error.kind != FailureKind.TIMEOUT:
                raise RunError(error.kind.value, error.message)
            state.restore_failure, state.failure_reason = error.message, error.kind.value
        elif isinstance(error, QuotaExceeded):
            state.restore_failure, state.failure_reason = str(error), "quota-exceeded"
        elif isinstance(error, (StreamTruncated, tarfile.TarError)):
            state.restore_failure = f"the restored stream is damaged: {error}"
            state.failure_reason = FailureKind.CORRUPTED.value
        else:
            raise RunError("sandbox", f"the sandbox did not accept the restored data: {error}")

    def _checks(self, state: RunState, target: RestoreTarget, context: CheckContext) -> None:
        started = time.monotonic()
        for outcome in target.verify(state.job.target, context):
            self._record_check(state, outcome)
        self.database.update_run(state.run_id, checks_seconds=time.monotonic() - started)

    def _boot(self, state: RunState, sandbox: Sandbox, request: SandboxRequest, redactor: Redactor) -> None:
        config = state.job.target.boot
        if config is None:
            return
        if state.restore_failure is not None or any(o.status != PASSED for o in state.outcomes):
            self._record_check(state, skipped(boot.NAME, "an earlier step failed"))
            return
        self.reporter.phase("boot", " ".join(config.command))
        started = time.monotonic()
        outcome, log_tail = boot.check(config, sandbox, request.image, request.user, redactor)
        self._record_check(state, outcome)
        self.database.update_run(state.run_id, boot_seconds=time.monotonic() - started,
                                 log_tail=log_tail if outcome.status != PASSED else None)

    def _record_check(self, state: RunState, outcome: CheckOutcome) -> None:
        self.database.add_check(state.run_id, len(state.outcomes), outcome.name, outcome.status, outcome.detail,
                                outcome.data, round(outcome.seconds, 3))
        state.outcomes.append(outcome)
        self.reporter.check(outcome)

    def _verdict(self, state: RunState) -> tuple[str, str | None, str]:
        if state.restore_failure is not None:
            return FAILED, state.failure_reason, f"restore failed: {state.restore_failure}"
        bad = [outcome for outcome in state.outcomes if outcome.status != PASSED]
        if not state.outcomes:
            return FAILED, "no-checks", "no check ran, so nothing was proven"
        if bad:
            names = ", ".join(f"{outcome.name} ({outcome.status})" for outcome in bad)
            if all(outcome.status in (ERROR, SKIPPED) for outcome in bad):
                return ERROR, "check-error", f"checks could not run: {names}"
            return FAILED, "check-failed", f"checks not passed: {names}"
        return PASSED, None, f"restored and verified: {len(state.outcomes)} check(s) passed"

    def _finish(self, state: RunState, status: str, reason: str | None, message: str | None) -> None:
        shutil.rmtree(run_cache_dir(self.config.state_dir, state.uid), ignore_errors=True)
        self.database.finish_run(state.run_id, status, reason, message,
                                 total_seconds=time.monotonic() - state.started)
        run = self.database.get_run(state.run_id)
        for hook in finished_hooks():
            try:
                hook(self.config, self.database, run)
            except Exception as error:  # noqa: BLE001 - a hook must never change or lose the run's result
                log.error("after run %s of job %s, %s failed: %s", run.id, run.job,
                          getattr(hook, "__name__", hook), error)
                log.debug("hook failure", exc_info=True)


def run_cache_dir(state_dir: Path, uid: str) -> Path:
    """Given the state directory and a run's uid, return the restic cache folder of that run alone."""
    return state_dir / "cache" / f"run-{uid}"


def remove_stale_run_caches(state_dir: Path, running_uids: set[str]) -> list[Path]:
    """Remove the cache folders of runs that are not running (left by a killed process); return them."""
    removed = []
    for folder in sorted((state_dir / "cache").glob("run-*")):
        if folder.name.removeprefix("run-") not in running_uids:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


class CapturedStream:
    """Iterates a restore stream for the sandbox; a failure ends the stream and is kept for the caller,
    so the engine sees a short upload and we still know why it was short."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.error: Exception | None = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks
        except Exception as error:  # noqa: BLE001 - handed to the pipeline, which classifies it
            self.error = error

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


def _restore_stream(restic: Restic, snapshot: Snapshot, plan: RestorePlan, rewriter: TarRewriter) -> Iterator[bytes]:
    for item in plan.items:
        if item.node is None:
            with restic.dump(snapshot.id, item.path, archive=True) as stream:
                yield from rewriter.from_tar(stream)
        else:
            with restic.dump(snapshot.id, item.path, archive=False) as stream:
                yield from rewriter.from_file(item.path, item.node.size, item.node.mode, stream)
    yield from rewriter.end()


def _restic_call(action: Callable[[], Result]) -> Result:
    """Run a restic step; a failure about the backup fails the run, any other means it could not run."""
    try:
        return action()
    except ResticError as error:
        if error.is_backup_fault:
            raise RunFailed(error.kind.value, error.message) from None
        raise RunError(error.kind.value, error.message) from None


def _target(job: Job) -> RestoreTarget:
    try:
        return get_target(job.target.kind)
    except KeyError as unknown:
        raise RunError("config", str(unknown.args[0])) from None


def _runner(job: Job) -> Runner:
    try:
        return get_runner(job.runner)
    except KeyError as unknown:
        raise RunError("config", str(unknown.args[0])) from None


def _sandbox_facts(sandbox: Sandbox) -> dict[str, object]:
    facts = sandbox.facts
    return {"engine": facts.engine_version, "image": facts.image, "image_digest": facts.image_digest,
            "hardening": facts.hardening}


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"
