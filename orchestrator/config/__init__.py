"""Load `restoreproof.yml` and `jobs/*.yml` from a config directory into validated, typed objects."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from orchestrator.config.schema import CanaryCheck, Job, Settings
from orchestrator.config.source import (
    ConfigError,
    ConfigInvalid,
    Document,
    KeyPath,
    Location,
    format_key_path,
    load_document,
)

SETTINGS_FILE = "restoreproof.yml"
JOBS_DIR = "jobs"

Model = TypeVar("Model", bound=BaseModel)

__all__ = ["Config", "ConfigError", "ConfigInvalid", "Job", "Settings", "config_dir_from", "load_config"]


@dataclass(frozen=True)
class Config:
    directory: Path
    settings: Settings
    jobs: dict[str, Job]
    job_files: dict[str, str]

    def job(self, name: str) -> Job:
        """Given a job name, return the Job; raise KeyError with the known names if it does not exist."""
        if name not in self.jobs:
            known = ", ".join(sorted(self.jobs)) or "none"
            raise KeyError(f"no job named '{name}' (known jobs: {known})")
        return self.jobs[name]

    @property
    def state_dir(self) -> Path:
        return self.settings.state_dir if self.settings.state_dir.is_absolute() else self.directory / self.settings.state_dir

    @property
    def database_url(self) -> str:
        return self.settings.database_url or f"sqlite:///{self.state_dir / 'restoreproof.db'}"


def config_dir_from(argument: str | None) -> Path:
    """Given the --config argument (or None), return the config directory: argument, $RESTOREPROOF_CONFIG or cwd."""
    return Path(argument or os.environ.get("RESTOREPROOF_CONFIG") or ".").resolve()


def load_config(directory: Path) -> Config:
    """Given a config directory, return the validated Config; raise ConfigInvalid listing every error found."""
    errors: list[ConfigError] = []
    settings = _load_settings(directory, errors)
    jobs: dict[str, Job] = {}
    job_files: dict[str, str] = {}
    for path in sorted((directory / JOBS_DIR).glob("*.y*ml")):
        display = f"{JOBS_DIR}/{path.name}"
        job = _load_job(directory, path, display, errors)
        if job is None:
            continue
        if job.name in jobs:
            errors.append(ConfigError(Location(display, 1, 1), f"duplicate job name, also in {job_files[job.name]}", job=job.name))
            continue
        jobs[job.name] = job
        job_files[job.name] = display
    if errors:
        raise ConfigInvalid(errors)
    assert settings is not None
    return Config(directory=directory, settings=settings, jobs=jobs, job_files=job_files)


def _load_settings(directory: Path, errors: list[ConfigError]) -> Settings | None:
    path = directory / SETTINGS_FILE
    if not path.exists():
        return Settings()
    document = _read(path, SETTINGS_FILE, errors)
    if document is None:
        return None
    return _validate(Settings, document, document.data, None, errors)


def _load_job(directory: Path, path: Path, display: str, errors: list[ConfigError]) -> Job | None:
    document = _read(path, display, errors, job=path.stem)
    if document is None:
        return None
    if not isinstance(document.data, dict):
        errors.append(ConfigError(Location(display, 1, 1), "a job file must be a mapping of keys to values"))
        return None
    data = {"name": path.stem, **document.data}
    job_name = str(data["name"])
    job = _validate(Job, document, data, job_name, errors)
    if job is None:
        return None
    plugin_errors = _plugin_errors(job, document)
    errors.extend(plugin_errors)
    return None if plugin_errors else _resolve_relative_paths(job, directory)


def _plugin_errors(job: Job, document: Document) -> list[ConfigError]:
    """Check the names that refer to registries: target kind, runner, and the checks the target supports."""
    from orchestrator.checks import all_checks
    from orchestrator.runners import runner_names
    from orchestrator.targets import target_kinds

    problems: list[tuple[KeyPath, str]] = []
    if job.target.kind not in target_kinds():
        problems.append((("target", "kind"), f"unknown target kind '{job.target.kind}' "
                                             f"(valid: {', '.join(target_kinds())})"))
    if job.runner not in runner_names():
        problems.append((("runner",), f"unknown runner '{job.runner}' (valid: {', '.join(runner_names())})"))
    known_checks = all_checks()
    for index, check in enumerate(job.target.checks):
        if check.type not in known_checks:
            problems.append((("target", "checks", index, "type"), f"no check of type '{check.type}'"))
    return [ConfigError(document.locate(key_path), message, job=job.name, key=format_key_path(key_path))
            for key_path, message in problems]


def _read(path: Path, display: str, errors: list[ConfigError], job: str | None = None) -> Document | None:
    try:
        return load_document(path, display)
    except ConfigInvalid as invalid:
        errors.extend(replace(error, job=error.job or job) for error in invalid.errors)
        return None


def _validate(model: type[Model], document: Document, data: Any, job: str | None, errors: list[ConfigError]) -> Model | None:
    try:
        return model.model_validate(data)
    except ValidationError as invalid:
        for error in invalid.errors():
            key_path = _data_key_path(data, error["loc"])
            message = error["msg"][0].lower() + error["msg"][1:]
            message = message.removeprefix("value error, ")
            errors.append(ConfigError(document.locate(key_path), message, job=job, key=format_key_path(key_path)))
        return None


def _data_key_path(data: Any, pydantic_location: tuple[Any, ...]) -> KeyPath:
    """Drop the discriminator tags pydantic inserts into locations, keeping only keys the YAML has."""
    key_path: list[str | int] = []
    current = data
    for part in pydantic_location:
        if isinstance(current, dict) and part not in current and current.get("type") == part:
            continue
        key_path.append(part)
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            current = current[part]
        else:
            current = None
    return tuple(key_path)


def _resolve_relative_paths(job: Job, directory: Path) -> Job:
    def resolve(path: Path | None) -> Path | None:
        return None if path is None or path.is_absolute() else directory / path

    repository = job.repository.model_copy(
        update={
            name: resolve(getattr(job.repository, name)) or getattr(job.repository, name)
            for name in ("url_file", "password_file", "env_file")
        }
    )
    checks = [
        check.model_copy(update={"content_file": resolve(check.content_file) or check.content_file})
        if isinstance(check, CanaryCheck) and check.content_file
        else check
        for check in job.target.checks
    ]
    target = job.target.model_copy(update={"checks": checks})
    return job.model_copy(update={"repository": repository, "target": target})
