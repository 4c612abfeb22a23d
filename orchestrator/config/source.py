"""Read YAML while remembering where every value came from, so errors can name `file:line:col`."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class ConfigError:
    """One problem in the configuration, located as precisely as the YAML allows."""

    location: Location
    message: str
    job: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        parts = [str(self.location)]
        if self.job is not None:
            parts.append(f"job '{self.job}'")
        if self.key:
            parts.append(self.key)
        parts.append(self.message)
        return ": ".join(parts)


class ConfigInvalid(Exception):
    """Raised with every error found, so the user fixes them all in one pass."""

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


@dataclass
class Document:
    """A parsed YAML file: plain Python data plus the position of each key path."""

    path: Path
    display_name: str
    data: Any
    positions: dict[KeyPath, Location] = field(default_factory=dict)

    def locate(self, key_path: KeyPath) -> Location:
        """Given a key path, return the position of the deepest part of it the file contains."""
        for length in range(len(key_path), -1, -1):
            location = self.positions.get(tuple(key_path[:length]))
            if location is not None:
                return location
        return Location(self.display_name, 1, 1)


def format_key_path(key_path: KeyPath) -> str:
    """Given ('target', 'checks', 1, 'path'), return 'target.checks[1].path'."""
    text = ""
    for part in key_path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def load_document(path: Path, display_name: str) -> Document:
    """Given a YAML file, return its Document; raise ConfigInvalid on syntax errors or unset ${VAR}."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigInvalid([ConfigError(Location(display_name, 1, 1), f"cannot read: {error.strerror}")])
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigInvalid([ConfigError(Location(display_name, line, column), f"invalid YAML: {error.problem}")])
    document = Document(path=path, display_name=display_name, data=None)
    errors: list[ConfigError] = []
    document.data = _convert(root, (), document, errors) if root is not None else {}
    if errors:
        raise ConfigInvalid(errors)
    return document


def _convert(node: yaml.Node, key_path: KeyPath, document: Document, errors: list[ConfigError]) -> Any:
    document.positions[key_path] = Location(document.display_name, node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in result:
                errors.append(ConfigError(_mark(key_node, document), f"duplicate key '{key}'", key=format_key_path(key_path + (key,))))
            result[key] = _convert(value_node, key_path + (key,), document, errors)
            document.positions[key_path + (key,)] = _mark(key_node, document)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, key_path + (index,), document, errors) for index, item in enumerate(node.value)]
    value = _construct_scalar(node)
    if isinstance(value, str):
        return _interpolate(value, key_path, document, errors)
    return value


def _mark(node: yaml.Node, document: Document) -> Location:
    return Location(document.display_name, node.start_mark.line + 1, node.start_mark.column + 1)


def _construct_scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _interpolate(value: str, key_path: KeyPath, document: Document, errors: list[ConfigError]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            errors.append(
                ConfigError(document.locate(key_path), f"environment variable {name} is not set", key=format_key_path(key_path))
            )
            return ""
        return os.environ[name]

    return _ENV_REFERENCE.sub(replace, value)
