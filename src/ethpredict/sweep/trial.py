"""One trial: the trial part of the pipeline run in memory on one set of
dotted values, and its result told to the study."""

from __future__ import annotations

import difflib
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from kedro.pipeline import Pipeline
from optuna.trial import TrialState

from ethpredict.errors import ETHPredictError
from ethpredict.params import Parameters
from ethpredict.sweep.plan import METRICS, SweepError, param_entries, with_values

#: metrics.json keys a trial keeps in its user attributes (the report's columns)
KEPT = (
    "backtest.",
    "baseline.total_pnl",
    "signal_added.total_pnl",
    "signal.primary.log_loss",
    "signal.primary.roc_auc",
)


@dataclass
class TrialRunner:
    """Runs the trial part for one set of dotted values."""

    base: Parameters
    trial: Pipeline
    fixed_data: dict[str, Any]
    objectives: dict[str, str]
    _nodes: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self._nodes = list(self.trial.nodes)  # topological order

    def run(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(metrics, outputs)`` of one trial. Raises what a node raises."""
        params = with_values(self.base, values)
        data = {**self.fixed_data, **param_entries(params)}
        for node in self._nodes:
            data.update(node.run({name: data[name] for name in node.inputs}))
        return data[METRICS], data

    def objective_values(self, metrics: dict) -> list[float]:
        """The objectives' values in ``metrics``.

        Raises:
            SweepError: an objective is no metrics.json key (the sweep stops).
            ValueError: an objective is undefined for this trial (it fails).
        """
        missing = [k for k in self.objectives if k not in metrics]
        if missing:
            hints = {
                k: difflib.get_close_matches(k, list(metrics), n=3) for k in missing
            }
            raise SweepError(
                "sweep.objectives: "
                + "; ".join(
                    f"{k} is not a metrics.json key (close: {', '.join(h) or '—'})"
                    for k, h in hints.items()
                )
            )
        out = []
        for key in self.objectives:
            value = metrics[key]
            if value is None or not np.isfinite(float(value)):
                raise ValueError(
                    f"objective {key} is undefined ({value}) for this trial"
                )
            out.append(float(value))
        return out


def run_trial(
    runner: TrialRunner, study: optuna.Study, trial: optuna.Trial
) -> tuple[bool | None, str]:
    """Run one asked trial and tell the study; ``(complete, error)``, with
    ``complete`` None when another worker finished the same trial first."""
    try:
        metrics, outputs = runner.run(trial.params)
        values = runner.objective_values(metrics)
    except SweepError:
        study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
        raise
    except Exception as exc:
        message = (
            str(exc)
            if isinstance(exc, ETHPredictError)
            else f"{type(exc).__name__}: {exc}"
        )
        attrs = {"error": message[:2000]}
        if not isinstance(exc, ETHPredictError | ValueError):
            attrs["traceback"] = traceback.format_exc()[-4000:]
        if not tell(study, trial, attrs, state=TrialState.FAIL):
            return None, ""
        return False, message
    daily = outputs.get("backtest_metrics", {}).get("daily", {})
    result: dict[str, Any] = {"metrics": kept_metrics(metrics)}
    if daily.get("with_signal") is not None:
        result["daily"] = {"first": daily["date"][:1], "pnl": daily["with_signal"]}
    if not tell(study, trial, {"result": result}, values):  # one write
        return None, ""
    return True, ""


def tell(
    study: optuna.Study,
    trial: optuna.Trial,
    attrs: dict,
    values: list[float] | None = None,
    state: TrialState | None = None,
) -> bool:
    """Set ``attrs`` on the trial and tell the study; False when the trial
    had been finished already: two workers can pop the same enqueued trial
    from SQLite at one moment — seen once in a full test run, when the grid's
    points were enqueued — and the first to finish it records it."""
    try:
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    study.tell(trial, values, state=state, skip_if_finished=True)
    return True


def kept_metrics(metrics: dict) -> dict:
    """The ``KEPT`` metrics that are numbers, booleans or None."""
    return {
        k: v
        for k, v in metrics.items()
        if k.startswith(KEPT) and (isinstance(v, int | float | bool) or v is None)
    }
