"""Shared fixtures: small kline files in Binance layout, real-data location."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ethpredict.testing.project import scratch_project as _scratch_project

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

PROJECT = Path(__file__).resolve().parents[1]
REAL = PROJECT.parent / "shared" / "data" / "real"
T0_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC


def kline_rows(n: int = 50, step_ms: int = 60_000, t0_ms: int = T0_MS, seed: int = 0):
    """``n`` valid 12-column Binance kline rows as lists of strings."""
    rng = np.random.default_rng(seed)
    close = 3000 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    open_ = np.r_[3000.0, close[:-1]]
    rows = []
    for i in range(n):
        o, c = round(open_[i], 2), round(close[i], 2)
        h, lo = round(max(o, c) + 0.5, 2), round(min(o, c) - 0.5, 2)
        v = round(10 + i % 7, 4)
        t = t0_ms + i * step_ms
        rows.append([str(t), str(o), str(h), str(lo), str(c), str(v), str(t + step_ms - 1),
                     str(round(v * c, 4)), str(100 + i), str(round(v / 2, 4)),
                     str(round(v * c / 2, 4)), "0"])  # fmt: skip
    return rows


def write_csv(path: Path, rows, header: bool = False) -> Path:
    from ethpredict.io.binance import KLINE_COLUMNS

    lines = ([",".join(KLINE_COLUMNS)] if header else []) + [",".join(r) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def small() -> dict:
    """Four days of the synthetic market through features and labels."""
    from tests.modeling.conftest import make_bars, upstream

    return upstream(make_bars())


@pytest.fixture
def real_data() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real market data folder {REAL} is absent")
    return REAL


def scratch_project(root: Path) -> Path:
    """A project folder with this project's configuration and nothing run yet."""
    return _scratch_project(root, PROJECT)


def kedro_command(*args: str, **env: str) -> tuple[list[str], dict[str, str]]:
    """The real ``kedro`` command's argv and environment (telemetry off,
    warnings quiet, plus ``env``)."""
    exe = Path(sys.executable).with_name("kedro")
    return [str(exe), *args], {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1",
                               "PYTHONWARNINGS": "ignore", **env}  # fmt: skip


def kedro(project: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the real ``kedro`` command in ``project``, telemetry off."""
    argv, env = kedro_command(*args)
    return subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip
