"""Scratch projects and stand-in upstream outputs for tests and benchmarks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np


def project_root(path: str | Path) -> Path:
    """The nearest folder at or above ``path`` that holds a
    ``pyproject.toml`` (for a test module: the project it tests)."""
    here = Path(path).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    raise FileNotFoundError(f"no pyproject.toml at or above {here}")


def real_data_dir(project: Path) -> Path:
    """Where the real market data of ``project`` lives: ``../shared/data/real``
    beside it (it may be absent)."""
    return project.parent / "shared" / "data" / "real"


def scratch_project(root: Path, project: Path) -> Path:
    """A project folder at ``root`` with ``project``'s configuration and
    nothing run yet (the package itself is installed; Kedro only needs
    ``src/`` to exist). ``conf/local`` starts empty."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(project / "pyproject.toml", root)
    shutil.copytree(
        project / "conf", root / "conf", ignore=shutil.ignore_patterns("local")
    )
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()
    return root


def kedro_command(*args: str, **env: str) -> tuple[list[str], dict[str, str]]:
    """The real ``kedro`` command's argv and environment (telemetry off,
    warnings quiet, plus ``env``)."""
    exe = Path(sys.executable).with_name("kedro")
    quiet = {"KEDRO_DISABLE_TELEMETRY": "1", "PYTHONWARNINGS": "ignore"}
    return [str(exe), *args], {**os.environ, **quiet, **env}


def kedro(
    project: Path, *args: str, timeout: int = 600, **env: str
) -> subprocess.CompletedProcess:
    """Run the real ``kedro`` command in ``project``, telemetry off.

    Args:
        project: The project folder (the working directory).
        *args: The command's arguments, e.g. ``"run", "--pipeline=x"``.
        timeout: Seconds before the run is killed.
        **env: Environment variables set for the run (as in :func:`kedro_command`).

    Returns:
        The finished process, its output captured as text; not checked.
    """
    argv, environ = kedro_command(*args, **env)
    return subprocess.run(
        argv,
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def model_metrics() -> dict:
    """``model_metrics`` as the modeling pipeline writes it, for random
    three-class probabilities (every model the report shows)."""
    from ethpredict.modeling.evaluate import (
        calibration_points,
        classifier_metrics,
        roc_points,
    )

    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    p = rng.dirichlet(np.ones(3), 300)
    up = y == 2
    entry = {
        "overall": classifier_metrics(y, p, 3),
        "per_fold": [{"fold": 0, **classifier_metrics(y, p, 3)}],
        "roc_up": roc_points(up, p[:, 2]),
        "calibration_up": calibration_points(up, p[:, 2]),
    }
    raw = rng.dirichlet(np.ones(3) / 2, 300)  # over-confident, before calibration
    calibrated = {
        **entry,
        "uncalibrated": classifier_metrics(y, raw, 3),
        "calibration_up_uncalibrated": calibration_points(up, raw[:, 2]),
    }
    models = {m: calibrated for m in ("primary", "logistic", "gbt", "ensemble")}
    return {
        "model_kind": "primary",
        "models": {**models, "prior": entry},
        "meta": {"n": 0},
        "calibration": {
            "method": "bias_temperature",
            "holdout_frac": 0.2,
            "prior_log_loss": entry["overall"]["log_loss"],
            "log_loss": {
                m: {
                    "before": v["uncalibrated"]["log_loss"],
                    "after": v["overall"]["log_loss"],
                }
                for m, v in models.items()
            },
        },
        "bet_size": {
            "source": "primary",
            "share_meta": 0.0,
            "auc_margin": 0.02,
            "per_fold": [{"fold": 0, "source": "primary", "meta_auc_train": None}],
        },
    }
