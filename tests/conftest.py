"""Shared fixtures: a small synthetic market, the real-data location.

The builders tests share live in ``ethpredict.testing`` (``test_imports.py``
keeps test modules from importing each other)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ethpredict.testing.modeling import make_bars, upstream
from ethpredict.testing.project import project_root, real_data_dir

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

REAL = real_data_dir(project_root(__file__))


@pytest.fixture(scope="session")
def small() -> dict:
    """Four days of the synthetic market through features and labels."""
    return upstream(make_bars())


@pytest.fixture
def real_data() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real market data folder {REAL} is absent")
    return REAL
