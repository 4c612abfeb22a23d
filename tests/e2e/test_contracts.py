"""One contract, run against every runner and every restore target in the registries."""

from __future__ import annotations

import io
import tarfile
import time
import uuid
from pathlib import Path

import pytest

from orchestrator.checks import CheckContext
from orchestrator.config.schema import Repository, Target
from orchestrator.restic import Node, Restic
from orchestrator.runners import SandboxRequest, get_runner, runner_names
from orchestrator.selection import RestoreItem, RestorePlan
from orchestrator.targets import all_targets, target_kinds
from tests.conftest import managed_leftovers

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("no_leftovers")]
FILES_IMAGE = all_targets()["files"].default_image


INSTALLATION: list[str] = [""]


@pytest.fixture(autouse=True)
def _installation(installation: Path) -> None:
    INSTALLATION[0] = str(installation)


def request(deadline: int = 120, image: str = FILES_IMAGE) -> SandboxRequest:
    return SandboxRequest(run_id=uuid.uuid4().hex[:16], job="contract", image=image, user="65534:65534",
                          deadline_seconds=deadline, memory_bytes=256 * 1024 * 1024, pids=64, cpus=0.5,
                          tmp_bytes=8 * 1024 * 1024, network=False, installation=INSTALLATION[0])


def tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in files.items():
            member = tarfile.TarInfo(name)
            member.size, member.mode, member.uid, member.gid = len(content), 0o640, 65534, 65534
            archive.addfile(member, io.BytesIO(content))
    return buffer.getvalue()


@pytest.fixture(params=runner_names(), name="runner")
def _runner(request, docker_client):  # type: ignore[no-untyped-def]
    runner = get_runner(request.param)
    runner.ensure_image(FILES_IMAGE, "files")  # type: ignore[attr-defined]
    return runner


def test_sandbox_loads_data_and_runs_commands_as_the_sandbox_user(runner):  # type: ignore[no-untyped-def]
    with runner.sandbox(request()) as sandbox:
        sandbox.load([tar_of({"srv/app/hello.txt": b"hello\n"})])
        assert sandbox.execute(["cat", "/restore/srv/app/hello.txt"], 10).output == "hello\n"
        assert sandbox.execute(["id", "-u"], 10).output.strip() == "65534"
        assert sandbox.execute(["sh", "-c", "touch /etc/x"], 10).exit_code != 0  # read-only root
        assert sandbox.execute(["sh", "-c", "echo x > /tmp/x && cat /tmp/x"], 10).output == "x\n"
        assert sandbox.facts.hardening["network"] == "none"


def test_a_broken_stream_is_refused(runner):  # type: ignore[no-untyped-def]
    with runner.sandbox(request()) as sandbox:
        with pytest.raises(RuntimeError, match="tar in the sandbox exited"):
            sandbox.load([tar_of({"a.txt": b"a" * 5000})[:1536]])


def test_sandbox_is_removed_when_the_caller_fails(runner, docker_client):  # type: ignore[no-untyped-def]
    with pytest.raises(ZeroDivisionError):
        with runner.sandbox(request()):
            assert managed_leftovers(docker_client, INSTALLATION[0]) != []
            1 / 0
    assert managed_leftovers(docker_client, INSTALLATION[0]) == []


def test_sandbox_ends_itself_at_its_deadline(runner, docker_client):  # type: ignore[no-untyped-def]
    # The orchestrator does nothing here: the sandbox's own main process expires.
    with runner.sandbox(request(deadline=2)):
        time.sleep(4)
        label = {"label": f"io.restoreproof.installation={INSTALLATION[0]}"}
        containers = docker_client.containers.list(all=True, filters=label)
        assert [container.status for container in containers] == ["exited"]


def test_docker_sandbox_hardening_is_what_docker_inspect_shows(docker_client):  # type: ignore[no-untyped-def]
    runner = get_runner("docker")
    runner.ensure_image(FILES_IMAGE, "files")  # type: ignore[attr-defined]
    with runner.sandbox(request()):
        (container,) = docker_client.containers.list(filters={"label": f"io.restoreproof.installation={INSTALLATION[0]}"})
        host = container.attrs["HostConfig"]
        assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
        assert host["ReadonlyRootfs"] is True
        assert host["NetworkMode"] == "none"
        assert host["SecurityOpt"] == ["no-new-privileges"]
        assert host["PidsLimit"] == 64 and host["Memory"] == 256 * 1024 * 1024
        assert host["Privileged"] is False
        assert container.attrs["Config"]["User"] == "65534:65534"
        mounts = [mount.get("Source", "") for mount in container.attrs["Mounts"]]
        assert not any("docker.sock" in source for source in mounts)
        assert [mount["Type"] for mount in container.attrs["Mounts"]] == ["volume"]


@pytest.mark.parametrize("kind", target_kinds())
def test_every_target_checks_restored_data_and_skips_when_the_restore_failed(kind, docker_client, tmp_path):  # type: ignore[no-untyped-def]
    target = all_targets()[kind]
    runner = get_runner("docker")
    runner.ensure_image(target.default_image, kind)  # type: ignore[attr-defined]
    nodes = (Node("/srv", "dir", 0, 0o755), Node("/srv/a.txt", "file", 2, 0o644))
    plan = RestorePlan((RestoreItem("/", None),), nodes, "whole snapshot")
    restic = Restic(Repository(url=str(tmp_path / "unused"), password_file=tmp_path / "pw"), tmp_path, 10)
    job_target = Target.model_validate({"kind": kind, "checks": [
        {"type": "tree"}, {"type": "expect", "paths": [{"path": "srv/a.txt"}]}]})
    with runner.sandbox(request(image=target.default_image)) as sandbox:
        sandbox.load([tar_of({"srv/a.txt": b"a\n"})])
        context = CheckContext(sandbox, plan, restic, "/restore", 30)
        assert [(o.name, o.status) for o in target.verify(job_target, context)] == [
            ("tree", "passed"), ("expect", "passed")]
        failed = CheckContext(sandbox, plan, restic, "/restore", 30, restore_failure="corrupted data")
        assert {o.status for o in target.verify(job_target, failed)} == {"skipped"}
