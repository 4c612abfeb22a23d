"""The package type-checks (mypy with disallow_untyped_defs, as configured in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def test_package_type_checks() -> None:
    if shutil.which("mypy") is None and subprocess.run([sys.executable, "-m", "mypy", "--version"],
                                                       capture_output=True).returncode != 0:
        pytest.fail("mypy is a test dependency: pip install -e '.[test]'")
    result = subprocess.run([sys.executable, "-m", "mypy"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stdout + result.stderr
