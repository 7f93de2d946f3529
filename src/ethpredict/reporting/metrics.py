"""The run's flat metrics (``metrics.json``) and the code version."""

from __future__ import annotations

import math
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

#: the package's folder (the git checkout's, in a development install)
PACKAGE = Path(__file__).resolve().parents[1]


def is_scalar(v: Any) -> bool:
    return isinstance(v, bool | int | float) and not (
        isinstance(v, float) and math.isnan(v)
    )


def flat_metrics(manifest: dict, model_metrics: dict, backtest_metrics: dict) -> dict:
    """Every scalar metric under a stable dotted key (``signal.gbt.log_loss``,
    ``backtest.sharpe``, ``baseline.total_pnl``, ``signal_added.total_pnl``…)."""
    out: dict[str, Any] = {}
    for k in ("bars", "filled_bars", "gaps", "trades", "interval_s", "synthetic"):
        out[f"data.{k}"] = manifest.get(k)
    for model, entry in model_metrics.get("models", {}).items():
        for k, v in entry["overall"].items():
            if is_scalar(v) or v is None:
                out[f"signal.{model}.{k}"] = v
        if "uncalibrated" in entry:
            out[f"signal.{model}.log_loss_uncalibrated"] = entry["uncalibrated"].get(
                "log_loss"
            )
    if "bet_size" in model_metrics:
        out["signal.bet_source"] = model_metrics["bet_size"].get("source")
    for k, v in model_metrics.get("meta", {}).items():
        out[f"signal.meta.{k}"] = v
    for prefix, part in (
        ("backtest", "with_signal"),
        ("baseline", "without_signal"),
        ("signal_added", "signal_added"),
    ):
        section = backtest_metrics.get(part) or {}  # None: a trial without baseline
        for k, v in section.items():
            if is_scalar(v) or v is None:
                out[f"{prefix}.{k}"] = v
        for k, v in section.get("lp", {}).items():
            out[f"{prefix}.lp.{k}"] = v  # an LP book: fees − LVR − gas ± inventory
    ci = backtest_metrics.get("intervals") or {}
    for prefix in ("backtest", "signal_added"):
        for k, band in (ci.get(prefix) or {}).items():  # [lo, hi] or None
            out[f"{prefix}.{k}_lo"], out[f"{prefix}.{k}_hi"] = band or (None, None)
    for name, row in backtest_metrics.get("lp_baselines", {}).items():
        key = "".join(c if c.isalnum() else "_" for c in name).strip("_")
        for k in ("total_pnl", "fees_earned", "lvr", "gas"):
            out[f"lp_baseline.{key}.{k}"] = row.get(k)
    return out


def code_version() -> str:
    """Package version, plus the git commit when run from a checkout."""
    import subprocess

    try:
        release = version("ethpredict")
    except PackageNotFoundError:  # run from a source tree that is not installed
        release = "unknown"
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=PACKAGE,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=PACKAGE,
            timeout=5,
            check=True,
        ).stdout.strip()
        return f"{release} (git {sha}{', with local changes' if dirty else ''})"
    except (OSError, subprocess.SubprocessError):
        return release
