"""The run report: one self-contained interactive HTML page and flat metrics.

Long series are decimated for display by keeping the minimum and the maximum
of each of ``report.max_points`` time buckets (in time order), so a spike is
never dropped; the report embeds plotly.js once and opens offline.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import ethpredict

MODEL_ORDER = ("primary", "logistic", "gbt", "ensemble", "prior")


def decimate(
    index: pd.Index, values: np.ndarray, buckets: int
) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of each of ``buckets`` equal-count buckets, in time order.

    A series no longer than ``2 · buckets`` is returned whole. NaN values are
    ignored within a bucket (a bucket of only NaN keeps one NaN, so gaps in a
    line stay visible).
    """
    y = np.asarray(values, dtype=float)
    n = y.size
    if n <= 2 * buckets:
        return np.asarray(index), y
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    starts = edges[:-1]  # every bucket has at least two points (n > 2 · buckets)
    bucket = np.repeat(np.arange(buckets), np.diff(edges))
    lo, hi = np.fmin.reduceat(y, starts), np.fmax.reduceat(y, starts)  # NaN ignored

    def first(hit: np.ndarray) -> np.ndarray:  # each bucket's first hit
        at = np.flatnonzero(hit)
        return at[np.unique(bucket[at], return_index=True)[1]]

    keep = np.unique(np.concatenate([
        first(y == lo[bucket]), first(y == hi[bucket]), starts[np.isnan(lo)],
    ]))  # fmt: skip
    # index the kept points only: converting a whole tz-aware DatetimeIndex to
    # an array builds one Timestamp object per bar (10 s for a year)
    return np.asarray(index[keep]), y[keep]


def _scalar(v: Any) -> bool:
    return isinstance(v, bool | int | float) and not (
        isinstance(v, float) and math.isnan(v)
    )


def risk_table(backtest_metrics: dict) -> pd.DataFrame:
    """The report's risk table: one row per scalar metric, the books with and
    without the signal and their difference. A text row (``stopped_at`` when
    the risk stop ended one book and not the other) has no difference.

    Args:
        backtest_metrics: ``evaluate_backtest``'s output (``with_signal`` and
            ``without_signal`` dicts of one book each).
    """
    with_signal = backtest_metrics["with_signal"]
    keys = [k for k, v in with_signal.items() if _scalar(v) or v is None]
    frame = pd.DataFrame(
        {
            "with signal": {k: with_signal[k] for k in keys},
            "without signal": {k: backtest_metrics["without_signal"][k] for k in keys},
        }
    )
    with_s, without = (
        pd.to_numeric(frame[c], errors="coerce")
        for c in ("with signal", "without signal")
    )
    frame["signal added"] = with_s - without
    return frame


def flat_metrics(manifest: dict, model_metrics: dict, backtest_metrics: dict) -> dict:
    """Every scalar metric under a stable dotted key (``signal.gbt.log_loss``,
    ``backtest.sharpe``, ``baseline.total_pnl``, ``signal_added.total_pnl``…)."""
    out: dict[str, Any] = {}
    for k in ("bars", "filled_bars", "gaps", "trades", "interval_s", "synthetic"):
        out[f"data.{k}"] = manifest.get(k)
    for model, entry in model_metrics.get("models", {}).items():
        for k, v in entry["overall"].items():
            if _scalar(v) or v is None:
                out[f"signal.{model}.{k}"] = v
        if "uncalibrated" in entry:
            out[f"signal.{model}.log_loss_uncalibrated"] = entry["uncalibrated"].get(
                "log_loss"
            )
    if "bet_size" in model_metrics:
        out["signal.bet_source"] = model_metrics["bet_size"].get("source")
    for k, v in model_metrics.get("meta", {}).items():
        out[f"signal.meta.{k}"] = v
    for prefix, part in (("backtest", "with_signal"), ("baseline", "without_signal"),
                         ("signal_added", "signal_added")):  # fmt: skip
        section = backtest_metrics.get(part) or {}  # None: a trial without baseline
        for k, v in section.items():
            if _scalar(v) or v is None:
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


def _table(
    rows: dict[str, dict], columns: list[str] | None = None, digits: int = 4
) -> str:
    frame = pd.DataFrame(rows).T
    if columns:
        frame = frame[[c for c in columns if c in frame]]
    return frame.to_html(
        classes="t", float_format=lambda v: f"{v:,.{digits}f}", na_rep="—", border=0
    )


def _fig_html(fig: go.Figure, first: bool) -> str:
    fig.update_layout(
        template="plotly_white", margin={"l": 50, "r": 20, "t": 40, "b": 40}
    )
    return fig.to_html(
        full_html=False, include_plotlyjs=first, config={"responsive": True}
    )


def signal_figures(model_metrics: dict) -> tuple[go.Figure, go.Figure]:
    """ROC and reliability curves of ``up`` for every model (report figures);
    the reliability curve of the model that feeds market making also before
    calibration (dashed)."""
    roc, cal = go.Figure(), go.Figure()
    kind = model_metrics.get("model_kind", "primary")
    for m in MODEL_ORDER:
        entry = model_metrics["models"].get(m)
        if not entry:
            continue
        roc.add_scatter(x=entry["roc_up"]["fpr"], y=entry["roc_up"]["tpr"], name=m)
        c = entry["calibration_up"]
        cal.add_scatter(x=c["predicted"], y=c["observed"], name=m, mode="lines+markers")
        before = entry.get("calibration_up_uncalibrated")
        if m == kind and before:
            cal.add_scatter(x=before["predicted"], y=before["observed"], mode="lines+markers",
                            name=f"{m} before calibration", line={"dash": "dash"})  # fmt: skip
    for fig, title, xt, yt in ((roc, "ROC of 'up', out of sample", "false positive rate",
                                "true positive rate"),
                               (cal, "Reliability of p_up, out of sample, after calibration"
                                     " (dashed: before)", "predicted",
                                "observed frequency")):  # fmt: skip
        fig.add_scatter(
            x=[0, 1], y=[0, 1], name="chance", line={"dash": "dot", "color": "grey"}
        )
        fig.update_layout(title=title, xaxis_title=xt, yaxis_title=yt, height=380)
    return roc, cal


def _quotes_figure(
    book: pd.DataFrame, fills: pd.DataFrame, buckets: int, quote: str = "USDT"
) -> go.Figure:
    fig = go.Figure()
    for col, name, color in (("ask", "ask (live)", "#d62728"), ("bid", "bid (live)", "#2ca02c"),
                             ("mid", "close", "#1f77b4")):  # fmt: skip
        x, y = decimate(book.index, book[col].to_numpy(), buckets)
        fig.add_scattergl(x=x, y=y, name=name, line={"width": 1, "color": color})
    if len(fills):
        f = fills
        if len(f) > 4 * buckets:  # keep each bucket's extreme fill prices
            keep = decimate(pd.RangeIndex(len(f)), f["price"].to_numpy(), 2 * buckets)[
                0
            ]
            f = f.iloc[np.asarray(keep, dtype=np.int64)]
        for side, name, sym in ((1, "buy fills", "triangle-up"), (-1, "sell fills",
                                                                  "triangle-down")):  # fmt: skip
            s = f[f["side"] == side]
            fig.add_scattergl(x=s.index, y=s["price"], mode="markers", name=name,
                              marker={"symbol": sym, "size": 6})  # fmt: skip
    fig.update_layout(title="Price, live quotes and fills (drag to zoom)", height=480,
                      xaxis={"rangeslider": {"visible": True}},
                      yaxis_title=f"{quote} per ETH")  # fmt: skip
    return fig


def book_figure(book: pd.DataFrame, base: pd.DataFrame, mp_order: float, buckets: int):
    """Equity with its decomposition, drawdowns and inventory (report figure)."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=("Equity and its decomposition (USD)",
                                        "Drawdown (USD)", "Inventory (order sizes)"))  # fmt: skip
    parts = {"equity": book["equity"], "equity without signal": base["equity"],
             "spread capture": book["spread_pnl"], "inventory PnL": book["inventory_pnl"],
             "− fees": -book["fees"], "− gas": -book["gas"]}  # fmt: skip
    if "funding" in book and book["funding"].to_numpy().any():  # a perpetual
        parts["funding"] = book["funding"]
    for name, s in parts.items():
        x, y = decimate(book.index, s.to_numpy(), buckets)
        fig.add_scattergl(x=x, y=y, name=name, row=1, col=1,
                          line={"dash": "dot"} if "without" in name else None)  # fmt: skip
    for name, eq in (
        ("drawdown", book["equity"]),
        ("drawdown without signal", base["equity"]),
    ):
        x, y = decimate(book.index, (eq - eq.cummax()).to_numpy(), buckets)
        fig.add_scattergl(x=x, y=y, name=name, row=2, col=1)
    x, y = decimate(book.index, (book["position"] / mp_order).to_numpy(), buckets)
    fig.add_scattergl(x=x, y=y, name="inventory", row=3, col=1)
    fig.update_layout(height=820)
    return fig


def _inventory_and_markouts(bt: dict, max_inv: float, quote: str = "USDT") -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Inventory distribution",
                                                        "Mean markout after fills"))  # fmt: skip
    hist = bt["with_signal"]["inventory_hist"]
    centers = np.arange(-max_inv, max_inv + 0.5)[: len(hist)]
    fig.add_bar(x=centers, y=hist, name="bars at inventory", row=1, col=1)
    for part, name in (
        ("with_signal", "with signal"),
        ("without_signal", "without signal"),
    ):
        keys = sorted((int(k.split("_")[-1]), v) for k, v in bt[part].items()
                      if k.startswith("mean_markout_"))  # fmt: skip
        fig.add_scatter(x=[0] + [h for h, _ in keys], y=[0] + [v or 0 for _, v in keys],
                        name=name, mode="lines+markers", row=1, col=2)  # fmt: skip
    fig.update_xaxes(title_text="order sizes", row=1, col=1)
    fig.update_xaxes(title_text="bars after the fill", row=1, col=2)
    fig.update_yaxes(title_text=f"{quote} per ETH (+ = in our favour)", row=1, col=2)
    fig.update_layout(height=380)
    return fig


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


def _intervals_table(backtest_metrics: dict) -> str:
    ci = backtest_metrics.get("intervals")
    if not ci:
        return ""
    rows = {}
    for label, (part, key) in {
        "total PnL with the signal (USD)": ("backtest", "total_pnl"),
        "Sharpe ratio with the signal (annualised)": ("backtest", "sharpe"),
        "what the signal added (USD)": ("signal_added", "total_pnl"),
    }.items():
        band = (ci.get(part) or {}).get(key)
        value = (backtest_metrics.get("with_signal" if part == "backtest" else part)
                 or {}).get(key)  # fmt: skip
        rows[label] = {"estimate": value, "low": band[0] if band else None,
                       "high": band[1] if band else None}  # fmt: skip
    return (
        f"<p>{ci['level']:.0%} intervals: {html.escape(ci['method'])}, blocks of "
        f"{ci['block_days']} days, {ci['resamples']:,} resamples.</p>"
        + _table(rows, ["estimate", "low", "high"])
    )


def research_answer(backtest_metrics: dict, synthetic: bool) -> str:
    """The report's first line: does the learned signal make the market
    maker more money — what it added, with its block-bootstrap interval."""
    added = (backtest_metrics.get("signal_added") or {}).get("total_pnl")
    if added is None:
        return "The book without the signal was not run: no answer."
    ci = backtest_metrics.get("intervals") or {}
    band = (ci.get("signal_added") or {}).get("total_pnl")
    period = backtest_metrics["period"]
    days = (ci.get("days") or {}).get("signal_added")
    stop = backtest_metrics["with_signal"].get("stopped_at")
    where = (f"on {period['start'][:10]} → {period['end'][:10]} ({days} days"
             f"{', synthetic data' if synthetic else ''}"
             f"{f'; the risk stop ended trading on {stop[:10]}' if stop else ''})")  # fmt: skip
    if band is None:
        return (f"Does the learned signal make the market maker more money? It added "
                f"{added:+,.2f} USD {where}; too few days for an interval.")  # fmt: skip
    lo, hi = band
    verdict = (
        "yes: the whole interval is above 0" if lo > 0
        else "no: it cost money (the whole interval is below 0)" if hi < 0
        else "not shown: the interval includes 0"
    )  # fmt: skip
    return (
        f"Does the learned signal make the market maker more money? {verdict[0].upper()}"
        f"{verdict[1:]} — it added {added:+,.2f} USD {where}, "
        f"{ci['level']:.0%} block-bootstrap interval {lo:+,.2f} … {hi:+,.2f} USD "
        f"({ci['block_days']}-day blocks, {ci['resamples']:,} resamples)."
    )


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
        "source": manifest["source"], "synthetic": synthetic, "symbol": manifest["symbol"],
        "quote currency": manifest.get("quote") or "—",
        "interval": manifest["interval"], "period": f"{manifest['start']} → {manifest['end']}",
        "bars": f"{manifest['bars']:,}",
        "gaps filled": f"{manifest['gaps']} gaps, {manifest['filled_bars']:,} flat bars"
        + _ranges(manifest.get("filled_ranges")),
        "halted (stale) bars": f"{manifest.get('stale_bars', 0):,}"
        + _ranges(manifest.get("stale_ranges"))
        + " — nothing fills or is decided on them; the model sees them as missing",
        "files": ", ".join(f["file"] for f in manifest.get("files", [])[:5]),
    }  # fmt: skip
    venue = backtest_metrics.get("venue") or {}
    if venue:
        data_rows["venue"] = venue.get("description") or venue.get("name")
    if manifest.get("pool"):
        data_rows["pool"] = (
            f"{manifest['chain']} {manifest['pool']} ({manifest['fee_bps']:g} bp, "
            f"tick spacing {manifest['tick_spacing']}); {manifest.get('swaps', 0):,} swaps "
            f"of {manifest.get('pool_events', 0):,} events from {manifest.get('pool_form')}"
        )  # fmt: skip
    if manifest.get("reference"):
        data_rows["reference"] = reference_line(manifest["reference"])
    kv = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                 for k, v in data_rows.items())  # fmt: skip
    overall = {m: model_metrics["models"][m]["overall"] for m in MODEL_ORDER
               if m in model_metrics["models"]}  # fmt: skip
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
        _quotes_figure(book, fills, buckets, quote),
        book_figure(book, base, order, buckets),
        _inventory_and_markouts(backtest_metrics, max_inv, quote),
        roc,
        cal,
    ]
    parts = [_fig_html(f, i == 0) for i, f in enumerate(figs)]
    period = backtest_metrics["period"]
    body = f"""
<h1>ETHPredict run report</h1>
<p class="answer">{html.escape(research_answer(backtest_metrics, synthetic))}</p>{banner}
<h2>Data</h2><table class="kv">{kv}</table>
<h2>Quotes</h2>{parts[0]}
<h2>Book</h2>{parts[1]}
<h2>Orders — how they ended and how they filled</h2>
{_orders_table(backtest_metrics)}
{_sensitivity_table(sensitivity)}
{_lp_table(backtest_metrics)}
<h2>Risk — the same book with and without the signal</h2>
<p>Period {html.escape(period["start"])} → {html.escape(period["end"])}.
USD unless stated; VaR and CVaR are daily losses.</p>
{risk_frame.to_html(classes="t", float_format=lambda v: f"{v:,.4f}", na_rep="—", border=0)}
{_intervals_table(backtest_metrics)}
{parts[2]}
<h2>Signal — out of sample, every model on the same walk-forward folds</h2>
{_table(overall, ["n", "log_loss", "roc_auc", "accuracy", "f1_macro", "brier"])}
<p>Log-loss per fold:</p>{_table(per_fold)}
{_calibration_html(model_metrics)}
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


def _calibration_html(model_metrics: dict) -> str:
    """Log-loss before and after calibration beside the prior's, the
    reliability of ``p_up`` before and after (the model that feeds market
    making), and which bet size was used."""
    cal = model_metrics.get("calibration")
    if not cal:
        return ""
    prior = cal.get("prior_log_loss")
    rows = {m: {"before calibration": v["before"], "after calibration": v["after"],
                "prior": prior} for m, v in cal["log_loss"].items()}  # fmt: skip
    kind = model_metrics.get("model_kind", "primary")
    entry = model_metrics["models"].get(kind, {})
    after = entry.get("calibration_up", {})
    before = entry.get("calibration_up_uncalibrated", {})
    rel = {}
    for name, c in (("before", before), ("after", after)):
        for i, (p, o) in enumerate(zip(c.get("predicted", []), c.get("observed", []),
                                       strict=True)):  # fmt: skip
            rel.setdefault(f"bin {i + 1}", {})[f"{name}: predicted"] = p
            rel[f"bin {i + 1}"][f"{name}: observed"] = o
    bet = model_metrics.get("bet_size", {})
    folds = ", ".join(
        f"fold {f['fold']}: {f['source']}"
        + (
            ""
            if f.get("meta_auc_train") is None
            else f" (AUC {f['meta_auc_train']:.3f})"
        )
        for f in bet.get("per_fold", [])
    )
    return (
        f"<p>Calibration ({html.escape(str(cal['method']))}, fitted per fold on the "
        f"last {cal['holdout_frac']:.0%} of its training events): out-of-sample "
        f"log-loss</p>{_table(rows)}"
        + (f"<p>Reliability of p_up ({html.escape(kind)}), quantile bins:</p>"
           f"{_table(rel)}" if rel else "")
        + f"<p>Bet size: {html.escape(str(bet.get('source', '—')))} — meta model used "
        f"where its out-of-sample AUC over the training folds exceeds "
        f"{0.5 + bet.get('auc_margin', 0):.3f}; {html.escape(folds)}</p>"
    )  # fmt: skip


def reference_line(ref: dict) -> str:
    """The report's one line about the exchange reference (the manifest's
    ``reference`` entry): name, coverage, its age at the bars (bar open −
    when the price used became known), stale bars."""
    every = f", {ref['interval']} candles" if ref.get("interval") else ""
    age = ref["age_s"]
    return (
        f"{ref['name']} ({ref['source']}{every}): {100 * ref['coverage']:.1f} % of "
        f"bars; age at the bars median {age['median']:g} s, 95 % {age['p95']:g} s; "
        f"{ref['stale_bars']:,} stale bars" + _ranges(ref.get("stale_ranges"))
    )


def _ranges(ranges: list | None, shown: int = 3) -> str:
    """`` (a → b, …)`` for the first runs of flagged bars."""
    if not ranges:
        return ""
    text = ", ".join(f"{a} → {b}" for a, b in ranges[:shown])
    more = f" and {len(ranges) - shown} more" if len(ranges) > shown else ""
    return f" ({text}{more})"


def _orders_table(bt: dict) -> str:
    """The orders' fate and the fills' kinds, with and without the signal."""
    keys = [k for k in bt["with_signal"] if k.startswith(("orders", "fills_"))]
    keys += ["taker_fills", "stopped_at"]
    frame = pd.DataFrame(
        {
            "with signal": [bt["with_signal"].get(k) for k in keys],
            "without signal": [bt["without_signal"].get(k) for k in keys],
        },
        index=[k.replace("_", " ") for k in keys],
    )
    note = (
        "<p>An order ends filled (its whole size), replaced (a newer quote of its "
        "side went live), cancelled (its side stopped being quoted, or the risk "
        "stop), rejected (post-only and marketable when it went live) or is still "
        "open. Maker fills: touch (the bar traded through the limit), intensity, "
        "resting through (a resting order the market was already through at the "
        "open — the rest of an order the participation cap cut, or a reopening — "
        "filled at the least favourable price of the bar within its limit); "
        "taker fills: marketable on arrival (post_only false) and the risk stop.</p>"
    )
    return note + frame.to_html(classes="t", na_rep="—", border=0)


def _lp_table(bt: dict) -> str:
    """An LP book's PnL as fees − LVR − gas ± inventory, beside the passive
    baselines on the same blocks (a pool only)."""
    if "lp" not in bt.get("with_signal", {}):
        return ""
    cols = {
        "with signal": bt["with_signal"]["lp"],
        "without signal": bt["without_signal"]["lp"],
    }
    cols.update(bt.get("lp_baselines", {}))
    rows = ["fees_earned", "lvr", "gas", "inventory_pnl", "entry_basis", "total_pnl"]
    frame = pd.DataFrame(
        {name: [c.get(r) for r in rows] for name, c in cols.items()},
        index=[r.replace("_", " ") for r in rows],
    )
    marked = bt.get("venue", {}).get("marked_at", "pool")
    against = (
        "the exchange reference (data.reference), the last price known before each block"
        if marked == "reference"
        else "the pool's own price (no data.reference: LVR is then the spread against "
        "the pool, not against a better-informed market)"
    )
    return (
        "<h2>Liquidity provision — fees − LVR − gas ± inventory</h2><p>The range "
        f"positions are marked against {html.escape(against)}. LVR (Milionis et al.) "
        "is what the pool's trades against the book lost relative to trading at the "
        "mark; inventory is the ETH held times the mark's moves. Passive baselines "
        "on the same blocks with the same capital: the full range, a static range, "
        "and holding the initial 50/50 mix (entry basis: buying the position at the "
        "pool price, valued at the mark). USD.</p>"
        + frame.to_html(classes="t", float_format=lambda v: f"{v:,.4f}", na_rep="—",
                        border=0)
    )  # fmt: skip


def _sensitivity_table(sensitivity: pd.DataFrame | None) -> str:
    """PnL, fills and markouts of the same quotes under each fill rule."""
    if sensitivity is None or not len(sensitivity):
        return ""
    frame = sensitivity.set_index("rule")
    return (
        "<h2>Sensitivity to the fill rule</h2><p>An OHLCV backtest cannot see "
        "queues: the same quotes under each rule (this run's rule marked), from the "
        "start of quoting. USD.</p>"
        + frame.to_html(classes="t", float_format=lambda v: f"{v:,.4f}", border=0)
    )


def code_version() -> str:
    """Package version, plus the git commit when run from a checkout."""
    import subprocess
    from pathlib import Path

    version = ethpredict.__version__
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
            cwd=Path(ethpredict.__file__).parent, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
            text=True, cwd=Path(ethpredict.__file__).parent, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
        return f"{version} (git {sha}{', with local changes' if dirty else ''})"
    except (OSError, subprocess.SubprocessError):
        return version
