"""Nodes of the backtesting pipeline: the on-chain book and its risk."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ethpredict.backtesting import daily_pnl, risk_metrics, run_book
from ethpredict.errors import ETHPredictError
from ethpredict.io.bars import epoch_ns
from ethpredict.params import BacktestParams, MMParams, RiskParams, coerce

log = logging.getLogger(__name__)


def run_backtest(
    bars: pd.DataFrame, quotes: pd.DataFrame, mm: MMParams, backtest: BacktestParams,
    risk: RiskParams,
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """The per-bar book (position, cash, equity, live quotes, cumulative PnL
    parts, updates, fills, halted) and every fill with its markouts."""
    book, fills = run_book(
        bars, quotes, coerce(MMParams, mm, "mm"), coerce(BacktestParams, backtest, "backtest"),
        coerce(RiskParams, risk, "risk"),
    )  # fmt: skip
    for frame in (book, fills):
        frame.attrs.update(quotes.attrs)
    return book, fills


def evaluate_backtest(
    book: pd.DataFrame, fills: pd.DataFrame, book_baseline: pd.DataFrame,
    fills_baseline: pd.DataFrame, quotes: pd.DataFrame, mm: MMParams, risk: RiskParams,
) -> dict:  # fmt: skip
    """Risk metrics of the book and of the same book without the signal,
    over the period in which quoting was possible, and what the signal added."""
    p, rp = coerce(MMParams, mm, "mm"), coerce(RiskParams, risk, "risk")
    is_valid = quotes["valid"].to_numpy()
    if not is_valid.any():
        raise ETHPredictError(
            "no bar has both an out-of-sample prediction and a calibration: lower "
            "mm.calib_window or model.cv.train_bars, or use more data"
        )
    i0 = int(np.argmax(is_valid))
    start = quotes.index[i0]
    t0 = epoch_ns(book.index)[i0]
    fills_from = [f.iloc[int(np.searchsorted(epoch_ns(f.index), t0)) :]
                  for f in (fills, fills_baseline)]  # fmt: skip
    days, pnl = daily_pnl(book, i0)
    _, pnl_baseline = daily_pnl(book_baseline, i0)
    with_signal = risk_metrics(book, fills_from[0], p, rp, start=i0, daily=pnl)
    baseline = risk_metrics(
        book_baseline, fills_from[1], p, rp, start=i0, daily=pnl_baseline
    )
    out = {
        "period": {"start": str(start), "end": str(book.index[-1])},
        "synthetic": bool(book.attrs.get("synthetic", False)),
        "alpha_weight": p.alpha_weight,
        "venue": book.attrs.get("venue_settings", {}),
        "with_signal": with_signal,
        "without_signal": baseline,
        "signal_added": {
            k: with_signal[k] - baseline[k]
            for k in (
                "total_pnl",
                "spread_pnl",
                "inventory_pnl",
                "fees",
                "gas",
                "funding",
            )
        },
        # daily PnL (UTC days), for the sweep's overfitting statistics
        "daily": {
            "date": np.datetime_as_string(
                days.astype("datetime64[ns]"), unit="D"
            ).tolist(),
            "with_signal": pnl.tolist(),
            "without_signal": pnl_baseline.tolist(),
        },
    }
    log.info("Backtest PnL %.2f USD (without signal %.2f), Sharpe %s, max drawdown %.2f",
             with_signal["total_pnl"], baseline["total_pnl"], with_signal["sharpe"],
             with_signal["max_drawdown"])  # fmt: skip
    return out
