"""load_config on real config folders: typed jobs on success, every error located as file:line:col."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from orchestrator.config import ConfigInvalid, load_config
from orchestrator.config.schema import ManifestCheck, TreeCheck
from orchestrator.config.types import parse_duration, parse_size
from orchestrator.config.source import Location

MINIMAL_JOB = """\
repository:
  url: /srv/restic
  password_file: /etc/restoreproof/web.pass
"""


def write_config(directory: Path, files: dict[str, str]) -> Path:
    """Given file names relative to the config folder and their YAML, write them and return the folder."""
    (directory / "jobs").mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return directory


def error_lines(directory: Path) -> list[str]:
    with pytest.raises(ConfigInvalid) as raised:
        load_config(directory)
    return [str(error) for error in raised.value.errors]


def test_minimal_job_loads_with_defaults(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, {"jobs/web.yml": MINIMAL_JOB}))

    job = config.job("web")
    assert job.repository.url == "/srv/restic"
    assert job.target.checks == [TreeCheck(type="tree")]
    assert job.timeouts.run == timedelta(hours=2)
    assert config.job_files == {"web": "jobs/web.yml"}


def test_unknown_job_name_lists_the_known_ones(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, {"jobs/web.yml": MINIMAL_JOB}))

    with pytest.raises(KeyError, match=r"no job named 'mail' \(known jobs: web\)"):
        config.job("mail")


def test_manifest_check_without_path_is_located(tmp_path: Path) -> None:
    job = MINIMAL_JOB + "target:\n  checks:\n    - type: tree\n    - type: manifest\n"

    lines = error_lines(write_config(tmp_path, {"jobs/web.yml": job}))

    assert lines == ["jobs/web.yml:7:7: job 'web': target.checks[1].path: field required"]


def test_manifest_check_with_path_loads(tmp_path: Path) -> None:
    job = MINIMAL_JOB + "target:\n  checks:\n    - type: manifest\n      path: /srv/SHA256SUMS\n"

    config = load_config(write_config(tmp_path, {"jobs/web.yml": job}))

    assert config.job("web").target.checks == [ManifestCheck(type="manifest", path="/srv/SHA256SUMS")]


def test_unknown_key_is_rejected_where_it_is(tmp_path: Path) -> None:
    lines = error_lines(write_config(tmp_path, {"jobs/web.yml": MINIMAL_JOB + "colour: blue\n"}))

    assert lines == ["jobs/web.yml:4:1: job 'web': colour: extra inputs are not permitted"]


def test_unknown_check_type_lists_the_valid_ones(tmp_path: Path) -> None:
    job = MINIMAL_JOB + "target:\n  checks:\n    - type: bogus\n"

    lines = error_lines(write_config(tmp_path, {"jobs/web.yml": job}))

    assert lines == [
        "jobs/web.yml:6:7: job 'web': target.checks[0]: input tag 'bogus' found using 'type' does not match any "
        "of the expected tags: 'tree', 'expect', 'manifest', 'canary', 'restic-check', 'immutability', 'rpo', "
        "'retention', 'restic-check-rotation', 'source-compare'"
    ]


def test_inline_password_is_an_unknown_key(tmp_path: Path) -> None:
    job = "repository:\n  url: /srv/restic\n  password: hunter2\n  password_file: web.pass\n"

    lines = error_lines(write_config(tmp_path, {"jobs/web.yml": job}))

    assert lines == ["jobs/web.yml:3:3: job 'web': repository.password: extra inputs are not permitted"]


def test_repository_without_password_source_is_located(tmp_path: Path) -> None:
    lines = error_lines(write_config(tmp_path, {"jobs/web.yml": "repository:\n  url: /srv/restic\n"}))

    assert lines == [
        "jobs/web.yml:1:1: job 'web': repository: give exactly one of password_file or password_command "
        "(never an inline password)"
    ]


def test_errors_from_every_file_are_reported_at_once(tmp_path: Path) -> None:
    files = {
        "restoreproof.yml": "sandbox:\n  memory: lots\n",
        "jobs/db.yml": MINIMAL_JOB + "timeouts:\n  run: 15x\n",
        "jobs/web.yml": MINIMAL_JOB + "colour: blue\n",
    }

    lines = error_lines(write_config(tmp_path, files))

    assert lines == [
        "restoreproof.yml:2:3: sandbox.memory: 'lots' is not a size; use e.g. 500MB or 10GiB",
        "jobs/db.yml:5:3: job 'db': timeouts.run: '15x' is not a duration; use e.g. 30s, 15m, 2h, 1d",
        "jobs/web.yml:4:1: job 'web': colour: extra inputs are not permitted",
    ]


def test_invalid_yaml_is_located(tmp_path: Path) -> None:
    job = "repository:\n  url: [unclosed\n  password_file: web.pass\n"

    with pytest.raises(ConfigInvalid) as raised:
        load_config(write_config(tmp_path, {"jobs/web.yml": job}))

    [error] = raised.value.errors
    assert error.location == Location("jobs/web.yml", 3, 16)
    assert error.message.startswith("invalid YAML: ")


def test_duplicate_yaml_key_is_located(tmp_path: Path) -> None:
    lines = error_lines(write_config(tmp_path, {"jobs/web.yml": MINIMAL_JOB + "repository: {}\n"}))

    assert lines == ["jobs/web.yml:4:1: job 'web': repository: duplicate key 'repository'"]


def test_environment_variable_is_interpolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTOREPROOF_TEST_ROOT", "/srv/backups")
    job = "repository:\n  url: ${RESTOREPROOF_TEST_ROOT}/web\n  password_file: /web.pass\n"

    config = load_config(write_config(tmp_path, {"jobs/web.yml": job}))

    assert config.job("web").repository.url == "/srv/backups/web"


def test_unset_environment_variable_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESTOREPROOF_TEST_UNSET", raising=False)
    job = "repository:\n  url: ${RESTOREPROOF_TEST_UNSET}/web\n  password_file: /web.pass\n"

    lines = error_lines(write_config(tmp_path, {"jobs/web.yml": job}))

    assert lines == ["jobs/web.yml:2:8: job 'web': repository.url: environment variable RESTOREPROOF_TEST_UNSET is not set"]


def test_relative_password_file_is_resolved_against_the_config_folder(tmp_path: Path) -> None:
    job = "repository:\n  url: /srv/restic\n  password_file: secrets/web.pass\n"

    config = load_config(write_config(tmp_path, {"jobs/web.yml": job}))

    assert config.job("web").repository.password_file == tmp_path / "secrets" / "web.pass"


def test_absolute_password_file_is_kept(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, {"jobs/web.yml": MINIMAL_JOB}))

    assert config.job("web").repository.password_file == Path("/etc/restoreproof/web.pass")


def test_duplicate_job_names_are_reported(tmp_path: Path) -> None:
    job = "name: web\n" + MINIMAL_JOB
    files = {"jobs/a.yml": job, "jobs/b.yml": job}

    lines = error_lines(write_config(tmp_path, files))

    assert lines == ["jobs/b.yml:1:1: job 'web': duplicate job name, also in jobs/a.yml"]


def test_durations_and_sizes_load_from_yaml(tmp_path: Path) -> None:
    job = MINIMAL_JOB + "rto: 15m\nrpo: 2h\nrestore:\n  quota: 500MB\n"
    files = {"restoreproof.yml": "restore_quota: 10GiB\n", "jobs/web.yml": job}

    config = load_config(write_config(tmp_path, files))

    job_loaded = config.job("web")
    assert (job_loaded.rto, job_loaded.rpo) == (timedelta(minutes=15), timedelta(hours=2))
    assert job_loaded.restore.quota == 500_000_000
    assert config.settings.restore_quota == 10 * 1024**3


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("2h", 7200), (90, 90), ("90", 90), ("30s", 30), ("1d", 86400), ("1w", 604800), ("1.5h", 5400)],
)
def test_duration_parses(text: object, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["15x", "fast", "", "m15", True])
def test_bad_duration_is_refused(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [("10GiB", 10 * 1024**3), ("500MB", 500_000_000), ("2T", 2 * 1000**4), ("64MiB", 64 * 1024**2),
     ("1 KiB", 1024), (1048576, 1048576), ("100", 100), ("100B", 100)],
)
def test_size_parses(text: object, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "10XB", "10i", "GiB", True])
def test_bad_size_is_refused(text: object) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_unknown_target_kind_and_runner_are_located(tmp_path: Path) -> None:
    job = ("repository:\n  url: /srv/restic\n  password_file: /web.pass\nrunner: kubernetes\n"
           "target:\n  kind: oracle\n")

    lines = error_lines(write_config(tmp_path, {"jobs/web.yml": job}))

    assert lines == [
        "jobs/web.yml:6:3: job 'web': target.kind: unknown target kind 'oracle' (valid: files)",
        "jobs/web.yml:4:1: job 'web': runner: unknown runner 'kubernetes' (valid: docker)",
    ]


def test_example_jobs_shipped_in_jobs_folder_are_valid() -> None:
    from orchestrator.resources import resource_dir

    config = load_config(resource_dir("jobs").parent)

    assert {"web", "fileserver"} <= set(config.jobs)
