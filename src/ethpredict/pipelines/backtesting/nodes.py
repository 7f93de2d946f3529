"""Nodes of the backtesting pipeline: the on-chain book and its risk."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ethpredict.backtesting import (
    bar_seconds,
    daily_pnl,
    order_summary,
    risk_metrics,
    run_book,
)
from ethpredict.core.bootstrap import intervals
from ethpredict.errors import ETHPredictError
from ethpredict.io.bars import epoch_ns
from ethpredict.lp import (
    BASELINE_COLUMNS,
    lp_baselines,
    lp_decomposition,
    run_pool_book,
)
from ethpredict.params import BacktestParams, MMParams, RiskParams, coerce
from ethpredict.venues import preset_name, venue_of

log = logging.getLogger(__name__)


def _is_pool(bars: pd.DataFrame, bp: BacktestParams) -> bool:
    # the preset's name only: resolving the venue (and its warnings) is the
    # book's job, once
    return preset_name(bars, bp.venue) == "uniswap_v3"


def _book(bars, trades, pool_liquidity, quotes, mp, bp, rp):
    """The order book of an exchange venue, or the LP book on a pool."""
    if _is_pool(bars, bp):
        return run_pool_book(
            bars, trades, pool_liquidity, quotes, mp, bp, rp, bar_seconds(bars)
        )
    return run_book(bars, quotes, mp, bp, rp)


def run_backtest(
    bars: pd.DataFrame, trades: pd.DataFrame, pool_liquidity: pd.DataFrame,
    quotes: pd.DataFrame, mm: MMParams, backtest: BacktestParams, risk: RiskParams,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """The per-bar book (position, cash, equity, live quotes, cumulative PnL
    parts, order actions, fills, halted), every fill with its order and
    markouts, and every order with its fate. On ``uniswap_v3`` the orders
    are range positions filled by the pool's swaps (:mod:`ethpredict.lp`)."""
    bp = coerce(BacktestParams, backtest, "backtest")
    book, fills, orders = _book(
        bars, trades, pool_liquidity, quotes, coerce(MMParams, mm, "mm"), bp,
        coerce(RiskParams, risk, "risk"),
    )  # fmt: skip
    for frame in (book, fills, orders):
        frame.attrs.update(quotes.attrs)
    return book, fills, orders


def log_venue(bars: pd.DataFrame, backtest: BacktestParams) -> dict:
    """The resolved venue with every cost, logged when the backtest starts."""
    venue = venue_of(bars, coerce(BacktestParams, backtest, "backtest"))
    log.info("Backtest on %s", venue.describe())
    return venue.as_dict()


def fill_rule_sensitivity(
    bars: pd.DataFrame, quotes: pd.DataFrame, book: pd.DataFrame, fills: pd.DataFrame,
    orders: pd.DataFrame, mm: MMParams, backtest: BacktestParams, risk: RiskParams,
) -> pd.DataFrame:  # fmt: skip
    """PnL, fills and markouts of the same quotes under each fill rule (touch
    with 0, 1 and 2 ticks through, and intensity), one row each: an OHLCV
    backtest cannot see queues, so the report shows how much the rule moves.
    The run's own rule reuses its ``book``, ``fills`` and ``orders``. A pool
    has no fill rule to choose (its swaps convert the ranges): one row, the
    run itself."""
    bp = coerce(BacktestParams, backtest, "backtest")
    mp, rp = coerce(MMParams, mm, "mm"), coerce(RiskParams, risk, "risk")
    is_valid = quotes["valid"].to_numpy()
    i0 = int(np.argmax(is_valid)) if is_valid.any() else 0
    rows = []
    run = (book, fills, orders)
    rules = (
        {"pool swaps (no fill rule)": {}} if _is_pool(bars, bp) else SENSITIVITY_RULES
    )
    for rule, update in rules.items():
        this_run = all(getattr(bp, key) == v for key, v in update.items())
        book, fills, orders = (
            run
            if this_run
            else run_book(bars, quotes, mp, bp.model_copy(update=update), rp)
        )
        f = fills.iloc[int(np.searchsorted(fills["bar"].to_numpy(), i0)) :]
        row = {
            "rule": rule,
            "this_run": this_run,
            "total_pnl": float(book["equity"].iat[-1]),
            "spread_pnl": float(book["spread_pnl"].iat[-1]),
            "fills": len(f),
            "taker_fills": int(f["taker"].sum()),
            "rejected": int((orders["end_reason"] == "rejected").sum()),
        }
        for col in [c for c in f if c.startswith("markout_")]:
            m = f[col].dropna()
            row[f"mean_{col}"] = float(m.mean()) if len(m) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


#: the rows of :func:`fill_rule_sensitivity`: the parameters each rule sets
SENSITIVITY_RULES = {
    "touch, 0 ticks through": {"fill_model": "touch", "through_ticks": 0.0},
    "touch, 1 tick through": {"fill_model": "touch", "through_ticks": 1.0},
    "touch, 2 ticks through": {"fill_model": "touch", "through_ticks": 2.0},
    "intensity": {"fill_model": "intensity"},
}


def run_lp_baselines(
    bars: pd.DataFrame, trades: pd.DataFrame, pool_liquidity: pd.DataFrame,
    quotes: pd.DataFrame, mm: MMParams, backtest: BacktestParams,
) -> pd.DataFrame:  # fmt: skip
    """Passive-LP baselines on the same blocks (a pool only; else empty):
    the full range, a static ±x % range and holding the initial 50/50 mix."""
    bp = coerce(BacktestParams, backtest, "backtest")
    if not _is_pool(bars, bp):
        return pd.DataFrame(columns=list(BASELINE_COLUMNS), dtype="float64")
    return lp_baselines(
        bars, trades, pool_liquidity, quotes, coerce(MMParams, mm, "mm"), bp
    )


def trading_end(book: pd.DataFrame, orders: pd.DataFrame) -> int | None:
    """The bar at which trading ended after the risk stop: the stop's market
    order filled (or found nothing to flatten); None when no stop fired."""
    halted = book["halted"].to_numpy()
    if not halted.any():
        return None
    # by the categorical's codes: no string comparison over a year of orders
    market = orders["type"].cat.categories.get_loc("market")
    stop = np.flatnonzero(np.asarray(orders["type"].cat.codes) == market)
    if not stop.size:
        return len(book) - 1
    end = int(orders["end_bar"].iat[int(stop[0])])
    return len(book) - 1 if end < 0 else end


def _intervals(daily: np.ndarray, added: np.ndarray | None, rp: RiskParams) -> dict:
    """Block-bootstrap intervals over days (``risk.interval_level``…): the
    book's total PnL and Sharpe ratio (its trading days) and what the signal
    added (the daily difference of the two books over the whole period)."""
    kw = {"level": rp.interval_level, "resamples": rp.bootstrap_resamples,
          "seed": rp.bootstrap_seed, "periods_per_year": rp.periods_per_year,
          "block": rp.bootstrap_block_days}  # fmt: skip
    book = intervals(daily, **kw)
    out = {
        "level": rp.interval_level, "resamples": rp.bootstrap_resamples,
        "method": "circular block bootstrap over UTC days, percentile interval",
        "block_days": book["block_days"],
        "backtest": {"total_pnl": book["total"], "sharpe": book["sharpe"]},
        "signal_added": None,
        "days": {"backtest": book["days"], "signal_added": None},
    }  # fmt: skip
    if added is not None:
        added_ci = intervals(added, **kw)
        out["signal_added"] = {"total_pnl": added_ci["total"]}
        out["days"]["signal_added"] = added_ci["days"]
    return out


#: the PnL parts whose difference is what the signal added
SIGNAL_ADDED = ("total_pnl", "spread_pnl", "inventory_pnl", "fees", "gas", "funding")


def evaluate_backtest(
    book: pd.DataFrame, fills: pd.DataFrame, orders: pd.DataFrame,
    book_baseline: pd.DataFrame, fills_baseline: pd.DataFrame,
    orders_baseline: pd.DataFrame, quotes: pd.DataFrame, mm: MMParams, risk: RiskParams,
    lp_baselines: pd.DataFrame | None = None,
) -> dict:  # fmt: skip
    """Risk metrics of the book and of the same book without the signal,
    over the period in which quoting was possible (up to the risk stop, if
    one fired: later days are not trading days), and what the signal added.
    A sweep's trial without the baseline (``sweep.trial_baseline``) passes
    None for its three tables: ``without_signal`` and ``signal_added`` are
    then None."""
    p, rp = coerce(MMParams, mm, "mm"), coerce(RiskParams, risk, "risk")
    is_valid = quotes["valid"].to_numpy()
    if not is_valid.any():
        raise ETHPredictError(
            "no bar has both an out-of-sample prediction and a calibration: lower "
            "mm.calib_window or model.cv.train_bars, or use more data"
        )
    i0 = int(np.argmax(is_valid))
    start = quotes.index[i0]
    days, pnl = daily_pnl(book, i0)
    runs = [(book, fills, orders, pnl)]
    if book_baseline is not None:
        pnl_baseline = daily_pnl(book_baseline, i0)[1]
        runs.append((book_baseline, fills_baseline, orders_baseline, pnl_baseline))
    results, dailies = [], []
    t0 = epoch_ns(book.index)[i0]
    for b, all_fills, o, whole in runs:
        end = trading_end(b, o)
        traded = b if end is None else b.iloc[: max(end, i0) + 1]
        f = all_fills.iloc[int(np.searchsorted(epoch_ns(all_fills.index), t0)) :]
        daily = whole if end is None else daily_pnl(traded, i0)[1]
        dailies.append(daily)
        m = risk_metrics(traded, f, p, rp, start=i0, daily=daily)
        m["total_pnl"] = float(b["equity"].iat[-1])  # after the stop's last fill
        m["stopped_at"] = None if end is None else str(b.index[end])
        m.update(order_summary(o, f))
        if "lvr" in b:  # an LP book: fees − LVR − gas ± inventory
            m["lp"] = lp_decomposition(b)
        results.append(m)
    with_signal, baseline = results[0], (results[1] if len(results) > 1 else None)
    out = {
        "period": {"start": str(start), "end": str(book.index[-1])},
        "synthetic": bool(book.attrs.get("synthetic", False)),
        "alpha_weight": p.alpha_weight,
        "venue": book.attrs.get("venue_settings", {}),
        "with_signal": with_signal,
        "without_signal": baseline,
        "signal_added": None
        if baseline is None
        else {k: with_signal[k] - baseline[k] for k in SIGNAL_ADDED},
        # daily PnL (UTC days) over the whole period (0 after a risk stop), for
        # the sweep's overfitting statistics
        "daily": {
            "date": np.datetime_as_string(
                days.astype("datetime64[ns]"), unit="D"
            ).tolist(),
            "with_signal": pnl.tolist(),
            "without_signal": None if baseline is None else pnl_baseline.tolist(),
        },
    }
    out["intervals"] = _intervals(
        dailies[0], None if baseline is None else pnl - pnl_baseline, rp
    )
    if lp_baselines is not None and len(lp_baselines):
        out["lp_baselines"] = {
            str(k): {c: float(v) if np.isfinite(v) else None for c, v in row.items()}
            for k, row in lp_baselines.iterrows()
        }
    stop = with_signal["stopped_at"]
    log.info("Backtest PnL %.2f USD (without signal %s), Sharpe %s, max drawdown %.2f%s",
             with_signal["total_pnl"],
             "not booked" if baseline is None else f"{baseline['total_pnl']:.2f}",
             with_signal["sharpe"],
             with_signal["max_drawdown"],
             f"; risk stop at {stop}: metrics count days up to it" if stop else "")  # fmt: skip
    return out
