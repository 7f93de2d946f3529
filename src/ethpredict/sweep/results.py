"""A study's results: its complete trials ranked, the best one, and how much
of the best survives the number of trials tried (deflated Sharpe, PBO)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from ethpredict.core.overfitting import deflated_sharpe, pbo_cscv, sharpe


def completed(study: optuna.Study) -> list[FrozenTrial]:
    """The study's complete trials."""
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def _sign(study: optuna.Study) -> int:
    """+1 when the first objective is maximised, -1 when minimised."""
    return 1 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else -1


def best_trial(study: optuna.Study) -> FrozenTrial:
    """The best trial; with several objectives, the Pareto-front trial best
    on the first objective."""
    if len(study.directions) == 1:
        return study.best_trial
    sign = _sign(study)
    return max(study.best_trials, key=lambda t: sign * t.values[0])


def ranked(study: optuna.Study) -> list[FrozenTrial]:
    """Complete trials, best first on the first objective (ties: by number)."""
    sign = _sign(study)
    return sorted(completed(study), key=lambda t: (-sign * t.values[0], t.number))


def daily_pnl(t: FrozenTrial) -> list | None:
    """The trial's with-signal PnL per UTC day, if it recorded it."""
    return t.user_attrs.get("result", {}).get("daily", {}).get("pnl")


def trial_metrics(t: FrozenTrial) -> dict:
    """The metrics.json keys a trial kept (``user_attrs["result"]``)."""
    return t.user_attrs.get("result", {}).get("metrics", {})


def overfitting(study: optuna.Study, chosen: FrozenTrial) -> dict:
    """Deflated Sharpe ratio of the chosen trial and PBO over the trials'
    daily PnL (trials without daily PnL are left out).

    Sharpe ratios are per day, not annualised (see
    :mod:`ethpredict.core.overfitting`). Returns ``{"available": False,
    "reason": ...}`` when the trials cannot be compared.
    """
    rows = [
        (t.number, np.asarray(daily_pnl(t), dtype=np.float64))
        for t in completed(study)
        if daily_pnl(t) is not None
    ]
    if not rows or daily_pnl(chosen) is None:
        return {"available": False, "reason": "no trial recorded daily PnL"}
    lengths = {len(r) for _, r in rows}
    if len(lengths) != 1:
        return {"available": False, "reason": "trials cover different days"}
    matrix = np.column_stack([r for _, r in rows])
    srs = np.array([sharpe(matrix[:, j]) for j in range(matrix.shape[1])])
    dsr = deflated_sharpe(np.asarray(daily_pnl(chosen)), srs)
    blocks = min(16, 2 * (matrix.shape[0] // 4))  # 16 blocks, fewer on short samples
    if blocks >= 2:
        pbo = pbo_cscv(matrix, n_blocks=blocks)
    else:
        pbo = {"pbo": math.nan, "splits": 0, "n_blocks": 0, "logits": np.empty(0)}
    return {
        "available": True,
        **dsr,
        "pbo": pbo["pbo"],
        "pbo_splits": pbo["splits"],
        "pbo_blocks": pbo["n_blocks"],
        "logits": pbo["logits"].tolist(),
        "trial_sharpes": srs.tolist(),
    }


def literal(value: Any) -> str:
    """A value as ``--params`` reads it back exactly (``repr`` for floats)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def best_config(pipeline_name: str | None, values: dict[str, Any]) -> str:
    """YAML for ``kedro run --config FILE``: the pipeline and the best
    trial's values (``repr`` floats round-trip exactly)."""
    items = ",".join(f"{k}={literal(v)}" for k, v in sorted(values.items()))
    lines = [
        "# The best trial of a sweep. Reproduce it with:",
        "#   kedro run --config <this file>",
        "run:",
    ]
    if pipeline_name:
        lines.append(f"  pipeline: {pipeline_name}")
    lines.append(f"  params: {json.dumps(items)}")
    return "\n".join(lines) + "\n"
