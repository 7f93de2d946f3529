"""A sweep in MLflow: the active (kedro-mlflow) run is the study's parent run."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import FrozenTrial

from ethpredict.params import SweepParams
from ethpredict.sweep.results import completed, ranked, trial_metrics

BATCH = 1000  # metrics per MLflow call (its limit)


def log_to_mlflow(
    study: optuna.Study,
    best: FrozenTrial,
    stats: dict,
    sp: SweepParams,
    files: list[Path],
    info: dict,
) -> None:
    """Log the sweep to the active MLflow run; nothing when none is active.

    Sweep metrics, every trial's objectives as a metric history (step = trial
    number, one batched call per 1,000), and the ``sp.mlflow_trials`` best
    trials as nested runs.

    Args:
        study: the study.
        best: its best trial.
        stats: :func:`~ethpredict.sweep.results.overfitting` of ``best``.
        sp: the sweep (its objectives and ``mlflow_trials``).
        files: artefacts logged under ``sweep/`` (the report, the best config).
        info: ``study_name`` and ``storage`` (redacted) for the run's tags.
    """
    import mlflow  # lazy: MLflow takes seconds to import
    from mlflow.entities import Metric, Param

    parent = mlflow.active_run()
    if parent is None:
        return
    client = mlflow.MlflowClient()
    rid = parent.info.run_id
    now = int(time.time() * 1000)
    done = completed(study)
    metrics = [
        Metric("sweep.complete_trials", len(done), now, 0),
        Metric("sweep.best_trial", best.number, now, 0),
    ]
    for key, value in zip(sp.objectives, best.values, strict=True):
        metrics.append(Metric(f"sweep.best.{key}", value, now, 0))
    if stats.get("available"):
        metrics += [
            Metric("sweep.deflated_sharpe", stats["dsr"], now, 0),
            Metric("sweep.pbo", stats["pbo"], now, 0),
        ]
    for t in done:
        for key, value in zip(sp.objectives, t.values, strict=True):
            metrics.append(Metric(f"trial.{key}", value, now, t.number))
    for i in range(0, len(metrics), BATCH):
        client.log_batch(rid, metrics=metrics[i : i + BATCH])
    client.set_tag(rid, "sweep.study", info["study_name"])
    client.set_tag(rid, "sweep.storage", info["storage"])
    for path in files:
        client.log_artifact(rid, str(path), artifact_path="sweep")
    for t in ranked(study)[: sp.mlflow_trials]:
        child = client.create_run(
            parent.info.experiment_id,
            run_name=f"{info['study_name']} trial {t.number}",
            tags={"mlflow.parentRunId": rid, "sweep.trial": str(t.number)},
        )
        cid = child.info.run_id
        params = [Param(k, str(v)) for k, v in t.params.items()]
        ms = [
            Metric(k, float(v), now, 0)
            for k, v in trial_metrics(t).items()
            if isinstance(v, int | float) and v is not None and np.isfinite(v)
        ]
        client.log_batch(cid, metrics=ms[:BATCH], params=params)
        client.set_terminated(cid)
