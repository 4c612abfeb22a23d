"""Find the files shipped beside the package: restore target definitions, templates, example jobs."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Given 'restore_targets', 'templates' or 'jobs', return its folder (source checkout or installed wheel)."""
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_resources" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"restoreproof resource folder '{name}' is missing from this installation")
