"""Optuna sweeps over the parameter tree, run by :class:`~ethpredict.hooks.SweepHook`.

A sweep is the selected pipeline split in two (:mod:`.plan`):

* the **fixed part** — nodes that no swept parameter reaches — runs (or its
  outputs load) once;
* the **trial part** — nodes downstream of a swept parameter that the
  objectives need (up to ``metrics``; the HTML report is left to the final
  run) — runs once per trial, in this process, node by node, on values held
  in memory (:mod:`.trial`). A trial's parameters are validated like a run's.

The study (:mod:`.study`) is run by workers (:mod:`.workers`; the grid
sampler that visits each point once is :mod:`.grid`); then :mod:`.results`
ranks the trials and measures overfitting, :mod:`.report` writes
``sweep_report.html`` and :mod:`.tracking` logs to MLflow. :mod:`.run` is the
whole sweep. Modules import only those below them (an import-linter
``layers`` contract in ``pyproject.toml``).
"""

from ethpredict.sweep.grid import ExactGridSampler, grid_points, grid_size
from ethpredict.sweep.plan import (
    BASELINE_OUTPUTS,
    METRICS,
    SweepError,
    fixed_data,
    param_entries,
    reached_entries,
    set_param_entries,
    split_pipeline,
    with_values,
)
from ethpredict.sweep.report import build_sweep_report
from ethpredict.sweep.results import best_config, best_trial, overfitting, ranked
from ethpredict.sweep.run import run_sweep
from ethpredict.sweep.study import (
    StudyRef,
    fingerprint,
    open_storage,
    open_study,
    storage_from_credentials,
)
from ethpredict.sweep.trial import TrialRunner, run_trial

__all__ = [
    "BASELINE_OUTPUTS",
    "METRICS",
    "ExactGridSampler",
    "StudyRef",
    "SweepError",
    "TrialRunner",
    "best_config",
    "best_trial",
    "build_sweep_report",
    "fingerprint",
    "fixed_data",
    "grid_points",
    "grid_size",
    "open_storage",
    "open_study",
    "overfitting",
    "param_entries",
    "ranked",
    "reached_entries",
    "run_sweep",
    "run_trial",
    "set_param_entries",
    "split_pipeline",
    "storage_from_credentials",
    "with_values",
]
