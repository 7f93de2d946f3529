"""The report page: every section assembled into one HTML string."""

from __future__ import annotations

import html
import json

import pandas as pd

from ethpredict.reporting.figures import (
    MODEL_ORDER,
    book_figure,
    fig_html,
    inventory_and_markouts,
    quotes_figure,
    signal_figures,
)
from ethpredict.reporting.tables import (
    calibration_html,
    flagged_ranges,
    intervals_table,
    lp_table,
    orders_table,
    reference_line,
    research_answer,
    risk_table,
    sensitivity_table,
    table,
)

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0 auto;max-width:1200px;
padding:0 24px 60px;color:#222}
h1{margin-top:28px}h2{border-bottom:2px solid #eee;padding-bottom:4px;margin-top:40px}
.banner{padding:10px 14px;border-radius:6px;margin:12px 0;font-weight:600}
.synthetic{background:#fff4d6;border:1px solid #f0c36d}
.real{background:#e8f5e9;border:1px solid #a5d6a7}
table.t{border-collapse:collapse;font-size:13px;margin:8px 0}
table.t th,table.t td{padding:4px 10px;border-bottom:1px solid #eee;text-align:right}
table.t th:first-child,table.t td:first-child{text-align:left}
.answer{font-size:17px;font-weight:600;margin:8px 0 14px}
.kv td{padding:2px 12px 2px 0}pre{background:#f7f7f7;padding:12px;overflow:auto;font-size:12px}
"""


def build_report(
    manifest: dict,
    model_metrics: dict,
    backtest_metrics: dict,
    book: pd.DataFrame,
    fills: pd.DataFrame,
    book_baseline: pd.DataFrame,
    parameters: dict,
    buckets: int,
    code_version: str,
    sensitivity: pd.DataFrame | None = None,
) -> str:
    """The whole report as one HTML string (see the module docstring)."""
    start = pd.Timestamp(backtest_metrics["period"]["start"])
    book, base = book.loc[start:], book_baseline.loc[start:]
    fills = fills.loc[start:]
    synthetic = bool(manifest.get("synthetic"))
    banner = (
        f'<div class="banner synthetic">{html.escape(manifest.get("notice") or "SYNTHETIC DATA")}'
        "</div>"
        if synthetic
        else f'<div class="banner real">Real market data: {html.escape(manifest["source"])}</div>'
    )
    data_rows = {
        "source": manifest["source"],
        "synthetic": synthetic,
        "symbol": manifest["symbol"],
        "quote currency": manifest.get("quote") or "—",
        "interval": manifest["interval"],
        "period": f"{manifest['start']} → {manifest['end']}",
        "bars": f"{manifest['bars']:,}",
        "gaps filled": f"{manifest['gaps']} gaps, {manifest['filled_bars']:,} flat bars"
        + flagged_ranges(manifest.get("filled_ranges")),
        "halted (stale) bars": f"{manifest.get('stale_bars', 0):,}"
        + flagged_ranges(manifest.get("stale_ranges"))
        + " — nothing fills or is decided on them; the model sees them as missing",
        "files": ", ".join(f["file"] for f in manifest.get("files", [])[:5]),
    }
    venue = backtest_metrics.get("venue") or {}
    if venue:
        data_rows["venue"] = venue.get("description") or venue.get("name")
    if manifest.get("pool"):
        data_rows["pool"] = (
            f"{manifest['chain']} {manifest['pool']} ({manifest['fee_bps']:g} bp, "
            f"tick spacing {manifest['tick_spacing']}); {manifest.get('swaps', 0):,} swaps "
            f"of {manifest.get('pool_events', 0):,} events from {manifest.get('pool_form')}"
        )
    if manifest.get("reference"):
        data_rows["reference"] = reference_line(manifest["reference"])
    kv = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in data_rows.items()
    )
    overall = {
        m: model_metrics["models"][m]["overall"]
        for m in MODEL_ORDER
        if m in model_metrics["models"]
    }
    per_fold = {
        m: {
            f"fold {f['fold']}": f.get("log_loss")
            for f in model_metrics["models"][m]["per_fold"]
        }
        for m in overall
    }
    roc, cal = signal_figures(model_metrics)
    risk_frame = risk_table(backtest_metrics)
    max_inv = float(parameters.get("mm", {}).get("max_inventory", 5.0))
    order = float(parameters.get("mm", {}).get("order_size", 1.0))
    quote = manifest.get("quote") or "USDT"  # the data's quote currency
    figs = [
        quotes_figure(book, fills, buckets, quote),
        book_figure(book, base, order, buckets),
        inventory_and_markouts(backtest_metrics, max_inv, quote),
        roc,
        cal,
    ]
    parts = [fig_html(f, i == 0) for i, f in enumerate(figs)]
    period = backtest_metrics["period"]
    body = f"""
<h1>ETHPredict run report</h1>
<p class="answer">{html.escape(research_answer(backtest_metrics, synthetic))}</p>{banner}
<h2>Data</h2><table class="kv">{kv}</table>
<h2>Quotes</h2>{parts[0]}
<h2>Book</h2>{parts[1]}
<h2>Orders — how they ended and how they filled</h2>
{orders_table(backtest_metrics)}
{sensitivity_table(sensitivity)}
{lp_table(backtest_metrics)}
<h2>Risk — the same book with and without the signal</h2>
<p>Period {html.escape(period["start"])} → {html.escape(period["end"])}.
USD unless stated; VaR and CVaR are daily losses.</p>
{risk_frame.to_html(classes="t", float_format=lambda v: f"{v:,.4f}", na_rep="—", border=0)}
{intervals_table(backtest_metrics)}
{parts[2]}
<h2>Signal — out of sample, every model on the same walk-forward folds</h2>
{table(overall, ["n", "log_loss", "roc_auc", "accuracy", "f1_macro", "brier"])}
<p>Log-loss per fold:</p>{table(per_fold)}
{calibration_html(model_metrics)}
<p>Meta model: {html.escape(json.dumps(model_metrics.get("meta", {})))}</p>
{parts[3]}{parts[4]}
<h2>Parameters and code</h2>
<p>ethpredict {html.escape(code_version)}</p>
<pre>{html.escape(json.dumps(parameters, indent=2, default=str))}</pre>
"""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>ETHPredict report</title><style>{CSS}</style></head><body>{body}</body></html>"
    )
