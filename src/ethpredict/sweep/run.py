"""A whole sweep: split the pipeline, open the study, run the workers, then
write the report and best configuration and log to MLflow."""

from __future__ import annotations

import time
from pathlib import Path

import click
import optuna
from kedro.pipeline import Pipeline

from ethpredict.io.atomic import atomic_path
from ethpredict.params import Parameters
from ethpredict.secrets import redact
from ethpredict.sweep.plan import (
    BASELINE_OUTPUTS,
    SweepError,
    fixed_data,
    split_pipeline,
    with_values,
)
from ethpredict.sweep.report import build_sweep_report
from ethpredict.sweep.results import (
    best_config,
    best_trial,
    completed,
    literal,
    overfitting,
)
from ethpredict.sweep.study import (
    StudyRef,
    default_storage,
    fingerprint,
    is_rdb,
    open_storage,
    open_study,
)
from ethpredict.sweep.tracking import log_to_mlflow
from ethpredict.sweep.trial import TrialRunner
from ethpredict.sweep.workers import run_workers


def echo(message: str) -> None:
    """A line of the sweep's progress, on stderr."""
    click.echo(message, err=True)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def run_sweep(
    params: Parameters,
    pipeline: Pipeline,
    catalog,
    pipeline_name: str | None,
    project_path: Path,
) -> Parameters:
    """Run (or resume) the study, write its report and best configuration,
    log it to MLflow and return the best trial's parameters.

    Args:
        params: the run's validated parameters (``sweep.storage`` resolved).
        pipeline: the selected pipeline; it must write ``metrics``.
        catalog: the run's catalog (the fixed part's inputs load from it).
        pipeline_name: the one pipeline selected, or None (the default).
        project_path: the project (``data/`` is under it).
    """
    t0 = time.perf_counter()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sp = params.sweep
    keys = list(sp.space)
    absent = frozenset() if sp.baseline_in_trials() else BASELINE_OUTPUTS
    fixed, trial = split_pipeline(pipeline, keys, absent)
    name_ = pipeline_name or "__default__"
    print_ = fingerprint(params, name_, trial)
    url = sp.storage or default_storage(project_path)
    if not is_rdb(url):  # a journal file: relative to the project
        url = str(project_path / url)
    ref = StudyRef(url, sp.study_name or f"{name_}-{print_[:10]}", sp)
    without = " (not the book without the signal: sweep.trial_baseline)"
    echo(
        f"Sweep: {len(keys)} parameters, each trial runs {len(trial.nodes)} node(s): "
        f"{', '.join(n.name for n in trial.nodes)}"
        + (without if absent & trial.inputs() else "")
    )
    data = fixed_data(fixed, trial, catalog, params, absent)
    runner = TrialRunner(params, trial, data, dict(sp.objectives))
    attrs = {
        "objectives": dict(sp.objectives),
        "pipeline": name_,
        "sampler": sp.sampler,
        "space": {k: d.model_dump(exclude_none=True) for k, d in sp.space.items()},
    }
    storage = open_storage(url)
    study = open_study(storage, ref, print_, attrs)
    before = len(completed(study))
    echo(
        f"Sweep: study '{ref.name}' in {redact(url)}: {before} complete trial(s); "
        f"running to {sp.n_trials} with {sp.n_jobs} worker(s) ({sp.sampler})"
    )
    if isinstance(storage, optuna.storages.RDBStorage):
        storage.engine.dispose()  # forked workers open their own connections
    t1 = time.perf_counter()
    result = run_workers(runner, ref)
    t2 = time.perf_counter()
    study = ref.load()
    done = completed(study)
    if not done:
        raise SweepError(
            f"study '{ref.name}' has no complete trial: see the failed "
            "trials' errors in optuna-dashboard or sweep_report.html"
        )
    best = best_trial(study)
    stats = overfitting(study, best)
    report = project_path / "data" / "08_reporting" / "sweep_report.html"
    best_path = project_path / "data" / "08_reporting" / "sweep_best.yml"
    info = {
        "study_name": ref.name,
        "storage": redact(url),
        "pipeline": name_,
        "sampler": sp.sampler,
        "best_config": best_path.relative_to(project_path),
    }
    _write(best_path, best_config(pipeline_name, best.params))
    _write(report, build_sweep_report(study, best, stats, sp.report_rows, info))
    _echo_results(result, t2 - t1, len(done), best, stats, sp.objectives)
    echo(
        f"Sweep report: {report}\nBest configuration: {best_path} "
        f"(kedro run --config {info['best_config']})"
    )
    t3 = time.perf_counter()
    log_to_mlflow(study, best, stats, sp, [report, best_path], info)
    t4 = time.perf_counter()
    echo(
        f"Sweep: done in {t4 - t0:.1f} s (set-up {t1 - t0:.1f} s, trials "
        f"{t2 - t1:.1f} s, results {t3 - t2:.1f} s, MLflow {t4 - t3:.1f} s); "
        "now the best trial as an ordinary run"
    )
    return with_values(params, best.params)


def _echo_results(
    result: dict, seconds: float, n_done: int, best, stats: dict, objectives: dict
) -> None:
    """The trials run here and their rate, the best trial, DSR and PBO."""
    rate = result["complete"] / seconds if seconds > 0 else float("nan")
    echo(
        f"Sweep: {result['complete']} trial(s) here in {seconds:.1f} s ({rate:.1f}/s), "
        f"{result['failed']} failed; study has {n_done} complete"
    )
    values = ", ".join(f"{k}={literal(v)}" for k, v in best.params.items())
    scores = ", ".join(
        f"{k} {v:.6g}" for k, v in zip(objectives, best.values, strict=True)
    )
    echo(f"Sweep: best trial {best.number}: {scores} with {values}")
    if stats.get("available"):
        echo(
            f"Sweep: deflated Sharpe ratio {stats['dsr']:.3f}, probability of backtest "
            f"overfitting {stats['pbo']:.3f} ({n_done} trials)"
        )
