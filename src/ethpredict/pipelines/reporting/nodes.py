"""Node of the reporting pipeline: the interactive run report and metrics."""

from __future__ import annotations

import pandas as pd

from ethpredict.params import ReportParams
from ethpredict.reporting import build_report, code_version, flat_metrics
from ethpredict.secrets import redact_tree


def collect_metrics(
    data_manifest: dict, model_metrics: dict, backtest_metrics: dict
) -> tuple[dict, dict]:
    """``metrics.json`` (every scalar metric under a stable dotted key) and the
    numeric ones in the form kedro-mlflow logs (``{name: {"value": x,
    "step": 0}}``). A sweep's objectives are keys of the first."""
    metrics = flat_metrics(data_manifest, model_metrics, backtest_metrics)
    tracked = {
        k: {"value": float(v), "step": 0}
        for k, v in metrics.items()
        if isinstance(v, int | float) and v is not None
    }
    return metrics, tracked


def build_run_report(
    data_manifest: dict,
    model_metrics: dict,
    backtest_metrics: dict,
    book: pd.DataFrame,
    fills: pd.DataFrame,
    book_baseline: pd.DataFrame,
    fill_rule_sensitivity: pd.DataFrame,
    venue: dict,
    parameters: dict,
    report: ReportParams,
) -> str:
    """``report.html``: self-contained and interactive. ``venue`` is the
    resolved venue (the report shows the one recorded in ``backtest_metrics``;
    taking it as an input orders the venue line before the report)."""
    params = redact_tree(
        {
            k: v.model_dump(mode="json") if hasattr(v, "model_dump") else v
            for k, v in parameters.items()
        }
    )
    return build_report(
        data_manifest,
        model_metrics,
        backtest_metrics,
        book,
        fills,
        book_baseline,
        params,
        report.max_points,
        code_version(),
        fill_rule_sensitivity,
    )
