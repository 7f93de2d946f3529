"""The report's figures (plotly) and the decimation of long series for them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

MODEL_ORDER = ("primary", "logistic", "gbt", "ensemble", "prior")


def plot_times(index: pd.Index) -> np.ndarray:
    """``index`` for a plotly axis: a tz-aware DatetimeIndex as naive UTC
    datetime64 (plotly.js ignores offsets anyway). As an array of Timestamp
    objects, plotly deep-copies and formats each one: 0.6 s per 20,000
    points, 1.2 s of a year's report."""
    if isinstance(index, pd.DatetimeIndex):
        return (
            index.tz_convert("UTC").tz_localize(None) if index.tz else index
        ).to_numpy()
    return np.asarray(index)


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
        return plot_times(index), y
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    starts = edges[:-1]  # every bucket has at least two points (n > 2 · buckets)
    bucket = np.repeat(np.arange(buckets), np.diff(edges))
    lo, hi = np.fmin.reduceat(y, starts), np.fmax.reduceat(y, starts)  # NaN ignored

    def first(hit: np.ndarray) -> np.ndarray:  # each bucket's first hit
        at = np.flatnonzero(hit)
        return at[np.unique(bucket[at], return_index=True)[1]]

    keep = np.unique(
        np.concatenate(
            [
                first(y == lo[bucket]),
                first(y == hi[bucket]),
                starts[np.isnan(lo)],
            ]
        )
    )
    # index the kept points only: converting a whole tz-aware DatetimeIndex to
    # an array builds one Timestamp object per bar (10 s for a year)
    return plot_times(index[keep]), y[keep]


def fig_html(fig: go.Figure, first: bool) -> str:
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
            cal.add_scatter(
                x=before["predicted"],
                y=before["observed"],
                mode="lines+markers",
                name=f"{m} before calibration",
                line={"dash": "dash"},
            )
    for fig, title, xt, yt in (
        (
            roc,
            "ROC of 'up', out of sample",
            "false positive rate",
            "true positive rate",
        ),
        (
            cal,
            "Reliability of p_up, out of sample, after calibration (dashed: before)",
            "predicted",
            "observed frequency",
        ),
    ):
        fig.add_scatter(
            x=[0, 1], y=[0, 1], name="chance", line={"dash": "dot", "color": "grey"}
        )
        fig.update_layout(title=title, xaxis_title=xt, yaxis_title=yt, height=380)
    return roc, cal


def quotes_figure(
    book: pd.DataFrame, fills: pd.DataFrame, buckets: int, quote: str = "USDT"
) -> go.Figure:
    fig = go.Figure()
    for col, name, color in (
        ("ask", "ask (live)", "#d62728"),
        ("bid", "bid (live)", "#2ca02c"),
        ("mid", "close", "#1f77b4"),
    ):
        x, y = decimate(book.index, book[col].to_numpy(), buckets)
        fig.add_scattergl(x=x, y=y, name=name, line={"width": 1, "color": color})
    if len(fills):
        f = fills
        if len(f) > 4 * buckets:  # keep each bucket's extreme fill prices
            keep = decimate(pd.RangeIndex(len(f)), f["price"].to_numpy(), 2 * buckets)[
                0
            ]
            f = f.iloc[np.asarray(keep, dtype=np.int64)]
        for side, name, sym in (
            (1, "buy fills", "triangle-up"),
            (-1, "sell fills", "triangle-down"),
        ):
            s = f[f["side"] == side]
            fig.add_scattergl(
                x=plot_times(s.index),
                y=s["price"],
                mode="markers",
                name=name,
                marker={"symbol": sym, "size": 6},
            )
    fig.update_layout(
        title="Price, live quotes and fills (drag to zoom)",
        height=480,
        xaxis={"rangeslider": {"visible": True}},
        yaxis_title=f"{quote} per ETH",
    )
    return fig


def book_figure(book: pd.DataFrame, base: pd.DataFrame, mp_order: float, buckets: int):
    """Equity with its decomposition, drawdowns and inventory (report figure)."""
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=(
            "Equity and its decomposition (USD)",
            "Drawdown (USD)",
            "Inventory (order sizes)",
        ),
    )
    parts = {
        "equity": book["equity"],
        "equity without signal": base["equity"],
        "spread capture": book["spread_pnl"],
        "inventory PnL": book["inventory_pnl"],
        "− fees": -book["fees"],
        "− gas": -book["gas"],
    }
    if "funding" in book and book["funding"].to_numpy().any():  # a perpetual
        parts["funding"] = book["funding"]
    for name, s in parts.items():
        x, y = decimate(book.index, s.to_numpy(), buckets)
        fig.add_scattergl(
            x=x,
            y=y,
            name=name,
            row=1,
            col=1,
            line={"dash": "dot"} if "without" in name else None,
        )
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


def inventory_and_markouts(bt: dict, max_inv: float, quote: str = "USDT") -> go.Figure:
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Inventory distribution", "Mean markout after fills"),
    )
    hist = bt["with_signal"]["inventory_hist"]
    centers = np.arange(-max_inv, max_inv + 0.5)[: len(hist)]
    fig.add_bar(x=centers, y=hist, name="bars at inventory", row=1, col=1)
    for part, name in (
        ("with_signal", "with signal"),
        ("without_signal", "without signal"),
    ):
        keys = sorted(
            (int(k.split("_")[-1]), v)
            for k, v in bt[part].items()
            if k.startswith("mean_markout_")
        )
        fig.add_scatter(
            x=[0] + [h for h, _ in keys],
            y=[0] + [v or 0 for _, v in keys],
            name=name,
            mode="lines+markers",
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="order sizes", row=1, col=1)
    fig.update_xaxes(title_text="bars after the fill", row=1, col=2)
    fig.update_yaxes(title_text=f"{quote} per ETH (+ = in our favour)", row=1, col=2)
    fig.update_layout(height=380)
    return fig
