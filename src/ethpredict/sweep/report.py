"""``sweep_report.html``: ranked trials, optimisation history, parameter
importances, parallel coordinates, the Pareto front and how much of the
winner survives the number of trials (deflated Sharpe ratio, PBO)."""

from __future__ import annotations

import html
import json
import warnings

import numpy as np
import optuna
import pandas as pd
import plotly.graph_objects as go
from optuna.importance import PedAnovaImportanceEvaluator

from ethpredict.reporting import CSS, _fig_html
from ethpredict.sweep.results import trial_metrics

#: metrics summarised across trials (besides the objectives), and
#: columns of the trials table
ACROSS = (
    "backtest.total_pnl",
    "backtest.sharpe",
    "signal_added.total_pnl",
    "signal.primary.log_loss",
    "signal.primary.roc_auc",
)
#: columns of the trials table besides ``ACROSS``
COLUMNS = ("backtest.total_pnl", "backtest.max_drawdown", "backtest.fills", *ACROSS)


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, objectives, parameters, key metrics, error."""
    names = list(study.user_attrs.get("objectives", {})) or [
        f"objective {i}" for i in range(len(study.directions))
    ]
    rows = []
    for t in study.get_trials(deepcopy=False):
        row = {"trial": t.number, "state": t.state.name.lower()}
        for i, name in enumerate(names):
            row[name] = t.values[i] if t.values else None
        row.update(t.params)
        for k in dict.fromkeys(COLUMNS):
            if k not in row:
                row[k] = trial_metrics(t).get(k)
        row["seconds"] = (
            (t.datetime_complete - t.datetime_start).total_seconds()
            if t.datetime_complete and t.datetime_start
            else None
        )
        row["error"] = t.user_attrs.get("error") or t.user_attrs.get("skipped")
        rows.append(row)
    return pd.DataFrame(rows)


def _safe(fn, *args, **kwargs):
    """An Optuna plot, or None when it cannot be drawn (too few trials…)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except (ValueError, RuntimeError, ZeroDivisionError):
        return None


def _logit_figure(stats: dict) -> go.Figure:
    fig = go.Figure(go.Histogram(x=stats["logits"], nbinsx=40, marker_color="#4c78a8"))
    fig.add_vline(x=0, line_dash="dash", line_color="#c0392b")
    fig.update_layout(
        title="Out-of-sample logit rank of the in-sample best (CSCV); left of 0 = overfit",
        xaxis_title="logit of relative rank",
        yaxis_title="splits",
        height=320,
    )
    return fig


def _across_trials(complete: pd.DataFrame, objectives: list[str]) -> str:
    """Mean ± std over the complete trials of the objectives and ``ACROSS``."""
    keys = [k for k in dict.fromkeys([*objectives, *ACROSS]) if k in complete]
    rows = {}
    for k in keys:
        v = pd.to_numeric(complete[k], errors="coerce").dropna()
        if len(v):
            sd = v.std(ddof=1) if len(v) > 1 else float("nan")
            rows[k] = {
                "trials": len(v),
                "mean": v.mean(),
                "std": sd,
                "mean ± std": f"{v.mean():,.5g} ± {sd:,.3g}",
            }
    if not rows:
        return "<p>No metric recorded.</p>"
    return pd.DataFrame(rows).T.to_html(
        classes="t", float_format=lambda v: f"{v:,.5g}", na_rep="—", border=0
    )


def plotting_view(study: optuna.Study) -> optuna.Study:
    """The study's trials in memory without their user attributes (which
    hold each trial's daily PnL): Optuna's plots copy every trial, several
    times per plot (4 s for 1000 trials with the attributes, 0.3 s without)."""
    done = optuna.trial.TrialState.COMPLETE
    view = optuna.create_study(directions=study.directions)
    view.add_trials(  # every trial, so that the numbers stay the study's
        optuna.trial.create_trial(
            state=done if t.state == done else optuna.trial.TrialState.FAIL,
            params=t.params,
            distributions=t.distributions,
            values=t.values if t.state == done else None,
        )
        for t in study.get_trials(deepcopy=False)
    )
    view.set_user_attr("objectives", study.user_attrs.get("objectives", {}))
    return view


def _figures_html(study: optuna.Study, n_complete: int, stats: dict) -> str:
    """The optimisation history, importances, parallel coordinates, the
    Pareto front (several objectives) and the CSCV logits (plotly once)."""
    names = list(study.user_attrs.get("objectives", {}))
    first = names[0]

    def target(t):
        return t.values[0]

    plots = plotting_view(study)
    vis = optuna.visualization
    on_first = {"target": target, "target_name": first}
    importances = (
        _safe(
            vis.plot_param_importances,
            plots,
            evaluator=PedAnovaImportanceEvaluator(),
            **on_first,
        )
        if n_complete >= 2
        else None
    )
    figs: list[tuple[str, go.Figure | None]] = [
        (
            "Optimisation history",
            _safe(vis.plot_optimization_history, plots, **on_first),
        ),
        ("Parameter importances (PED-ANOVA)", importances),
        (
            "Parallel coordinates",
            _safe(vis.plot_parallel_coordinate, plots, **on_first),
        ),
    ]
    if len(study.directions) > 1:
        pareto = _safe(vis.plot_pareto_front, plots, target_names=names)
        figs.append(("Pareto front", pareto))
    if stats.get("available"):
        figs.append(("Probability of backtest overfitting", _logit_figure(stats)))
    parts, plotly_in = [], False
    for title, fig in figs:
        if fig is None:
            parts.append(
                f"<h2>{html.escape(title)}</h2><p>Not enough complete trials.</p>"
            )
            continue
        fig.update_layout(height=max(fig.layout.height or 0, 420))
        parts.append(f"<h2>{html.escape(title)}</h2>{_fig_html(fig, not plotly_in)}")
        plotly_in = True
    return "".join(parts)


def _overfit_html(best: optuna.trial.FrozenTrial, stats: dict) -> str:
    """*Is the winner real?*: the deflated Sharpe ratio and PBO, with what
    they were computed from."""
    if not stats.get("available"):
        return f"<p>Not available: {html.escape(stats.get('reason', ''))}.</p>"

    def num(v: float, fmt: str, why: str) -> str:
        return format(v, fmt) if np.isfinite(v) else f"undefined ({why})"

    dsr = num(stats["dsr"], ".4f", "fewer than 2 days")
    pbo = num(stats["pbo"], ".3f", "fewer than 4 days of PnL")
    return f"""
<table class="kv">
<tr><td>deflated Sharpe ratio of trial {best.number}</td><td><b>{dsr}</b>
 (probability that its true Sharpe ratio exceeds what {stats["n_trials"]} trials of zero
 skill would reach)</td></tr>
<tr><td>its daily Sharpe ratio</td><td>{stats["sharpe"]:.5f} per day
 ({stats["sharpe"] * np.sqrt(365):.3f} annualised), over {stats["days"]} days</td></tr>
<tr><td>expected maximum daily Sharpe of {stats["n_trials"]} zero-skill trials</td>
 <td>{stats["sharpe_0"]:.5f}</td></tr>
<tr><td>variance of the trials' daily Sharpe ratios</td><td>{stats["var_trial_sharpe"]:.3e}
 (sample variance, ddof = 1, over the complete trials)</td></tr>
<tr><td>skewness, kurtosis (raw) of its daily PnL</td><td>{stats["skew"]:.3f},
 {stats["kurtosis"]:.3f}</td></tr>
<tr><td>probability of backtest overfitting</td><td><b>{pbo}</b>
 (CSCV: {stats["pbo_blocks"]} blocks of days, {stats["pbo_splits"]:,} splits)</td></tr>
</table>"""


def _summary_html(
    study: optuna.Study, frame: pd.DataFrame, best: optuna.trial.FrozenTrial, info: dict
) -> str:
    """The key-value table at the top: study, storage, counts, best trial."""
    names = list(study.user_attrs.get("objectives", {}))
    counts = frame["state"].value_counts().to_dict()
    objectives = zip(names, best.values, strict=True)
    summary = {
        "study": info["study_name"],
        "storage": info["storage"],
        "pipeline": info["pipeline"],
        "sampler": info["sampler"],
        "objectives": json.dumps(study.user_attrs.get("objectives")),
        "trials": ", ".join(f"{v} {k}" for k, v in sorted(counts.items())),
        "best trial": f"{best.number}: "
        + ", ".join(f"{k} = {v:.6g}" for k, v in objectives),
        "reproduce": f"kedro run --config {info['best_config']}",
        "dashboard": f"optuna-dashboard {info['storage']}",
    }
    return "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in summary.items()
    )


def build_sweep_report(
    study: optuna.Study,
    best: optuna.trial.FrozenTrial,
    stats: dict,
    rows: int,
    info: dict,
) -> str:
    """The whole sweep report as one HTML string.

    Args:
        study: the study, with the user attributes ``open_study`` set.
        best: its best trial.
        stats: :func:`~ethpredict.sweep.results.overfitting` of ``best``.
        rows: ranked trials shown (``sweep.report_rows``).
        info: ``study_name``, ``storage`` (redacted), ``pipeline``,
            ``sampler`` and ``best_config`` (the path ``--config`` takes).
    """
    names = list(study.user_attrs.get("objectives", {}))
    frame = trials_frame(study)
    complete = frame[frame["state"] == "complete"]
    maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
    top = complete.sort_values(names[0], ascending=not maximize, kind="stable")
    top = top.head(rows)
    failed = frame[frame["state"] == "fail"]
    errors = failed[["trial", "error"]].head(50)
    table = top.drop(columns=["state", "error"]).to_html(
        classes="t",
        index=False,
        float_format=lambda v: f"{v:,.5g}",
        na_rep="—",
        border=0,
    )
    spread = _across_trials(complete, names)
    space = html.escape(json.dumps(study.user_attrs.get("space"), indent=2))
    body = f"""
<h1>ETHPredict sweep report</h1>
<table class="kv">{_summary_html(study, frame, best, info)}</table>
<h2>Is the winner real?</h2>{_overfit_html(best, stats)}
<h2>Across the {len(complete)} complete trials</h2>
<p>Mean ± standard deviation (ddof = 1) over trials — over seeds when the space is
a seed (a grid over <code>model.seed</code>, as qlib's benchmark tables report).</p>{spread}
<h2>Best {len(top)} of {len(complete)} complete trials by {html.escape(names[0])}</h2>{table}
{_figures_html(study, len(complete), stats)}
<h2>Failed trials ({len(failed)})</h2>
{errors.to_html(classes="t", index=False, border=0) if len(errors) else "<p>None.</p>"}
<h2>Search space</h2><pre>{space}</pre>
"""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>ETHPredict sweep</title><style>{CSS}</style></head><body>{body}</body></html>"
    )
