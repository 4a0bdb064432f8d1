"""`ruff check cockpit` is part of the suite, so the next person gets the same checks
(the rule set and its few ignores live in pyproject.toml, [tool.ruff])."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed (pip install -e '.[test]')")
def test_ruff_finds_nothing_in_cockpit() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "cockpit"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"ruff check cockpit found:\n{result.stdout}{result.stderr}"


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed (pip install -e '.[test]')")
def test_mypy_strict_finds_nothing_in_cockpit() -> None:
    """`mypy --strict` over cockpit/ (pyproject.toml [tool.mypy]): a view that reaches for an
    attribute the app does not have, or a step that reads another kind's field, fails here
    rather than on an operator's screen."""
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--no-error-summary"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"mypy found:\n{result.stdout}{result.stderr}"
