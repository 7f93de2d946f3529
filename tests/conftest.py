"""Shared fixtures: a small synthetic market, the real-data location.

The builders tests share live in ``ethpredict.testing``; the names below
marked *re-exported* keep the test files that still import them from here
working until they are converted (see ``test_imports.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ethpredict.testing.modeling import make_bars, upstream
from ethpredict.testing.project import (  # re-exported
    kedro,
    kedro_command,
    project_root,
    real_data_dir,
)
from ethpredict.testing.project import scratch_project as _scratch_project

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

PROJECT = project_root(__file__)
REAL = real_data_dir(PROJECT)

__all__ = ["PROJECT", "REAL", "kedro", "kedro_command", "scratch_project"]


@pytest.fixture(scope="session")
def small() -> dict:
    """Four days of the synthetic market through features and labels."""
    return upstream(make_bars())


@pytest.fixture
def real_data() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real market data folder {REAL} is absent")
    return REAL


def scratch_project(root: Path) -> Path:
    """Re-exported for the test files not yet converted: ``scratch_project``
    of ``ethpredict.testing.project`` with this project's configuration."""
    return _scratch_project(root, PROJECT)
