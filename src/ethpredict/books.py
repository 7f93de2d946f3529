"""A run's books and what they measure: which book a venue keeps, the same
quotes under each fill rule, and the risk metrics of the book against the
same book without the signal (what the signal added, with intervals)."""

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
from ethpredict.lp import lp_decomposition, run_pool_book
from ethpredict.params import BacktestParams, MMParams, RiskParams
from ethpredict.timeaxis import epoch_ns
from ethpredict.venues import preset_name

log = logging.getLogger(__name__)

#: the rows of :func:`fill_rule_sensitivity`: the parameters each rule sets
SENSITIVITY_RULES = {
    "touch, 0 ticks through": {"fill_model": "touch", "through_ticks": 0.0},
    "touch, 1 tick through": {"fill_model": "touch", "through_ticks": 1.0},
    "touch, 2 ticks through": {"fill_model": "touch", "through_ticks": 2.0},
    "intensity": {"fill_model": "intensity"},
}

#: the PnL parts whose difference is what the signal added
SIGNAL_ADDED = ("total_pnl", "spread_pnl", "inventory_pnl", "fees", "gas", "funding")


def is_pool(bars: pd.DataFrame, bp: BacktestParams) -> bool:
    """Whether the venue's preset is a Uniswap v3 pool (by the preset's name
    only: resolving the venue, and its warnings, is the book's job, once)."""
    return preset_name(bars, bp.venue) == "uniswap_v3"


def venue_book(bars, trades, pool_liquidity, quotes, mp, bp, rp):
    """The order book of an exchange venue, or the LP book on a pool.

    Args:
        bars: The bars (their ``attrs`` and ``backtest.venue`` pick the book).
        trades: The trades (a pool's swaps; read only on a pool).
        pool_liquidity: The pool's liquidity (read only on a pool).
        quotes: :func:`ethpredict.market_making.quote_policy`'s frame.
        mp: The ``mm`` parameters.
        bp: The ``backtest`` parameters.
        rp: The ``risk`` parameters.

    Returns:
        ``(book, fills, orders)``
        (:func:`ethpredict.backtesting.run_book` or
        :func:`ethpredict.lp.run_pool_book`), each with the quotes' attrs.
    """
    if is_pool(bars, bp):
        run = run_pool_book(
            bars, trades, pool_liquidity, quotes, mp, bp, rp, bar_seconds(bars)
        )
    else:
        run = run_book(bars, quotes, mp, bp, rp)
    for frame in run:
        frame.attrs.update(quotes.attrs)
    return run


def _rule_row(rule, this_run, book, fills, orders, i0) -> dict:
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
    return row


def fill_rule_sensitivity(
    bars: pd.DataFrame,
    quotes: pd.DataFrame,
    run: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    mp: MMParams,
    bp: BacktestParams,
    rp: RiskParams,
) -> pd.DataFrame:
    """PnL, fills and markouts of the same quotes under each fill rule of
    :data:`SENSITIVITY_RULES`, one row each. A pool has no fill rule to
    choose (its swaps convert the ranges): one row, the run.

    Args:
        bars: The bars of the run.
        quotes: The run's quotes (``valid`` sets the first quoted bar).
        run: The run's ``(book, fills, orders)``, reused for the run's own
            rule.
        mp: The ``mm`` parameters.
        bp: The ``backtest`` parameters (the run's rule).
        rp: The ``risk`` parameters.

    Returns:
        One row per rule: ``rule``, ``this_run``, ``total_pnl`` and
        ``spread_pnl`` (the book's last bar), ``fills`` and ``taker_fills``
        (from the first quoted bar on), ``rejected`` (orders), and
        ``mean_markout_h`` per markout horizon (quote currency per ETH).
    """
    is_valid = quotes["valid"].to_numpy()
    i0 = int(np.argmax(is_valid)) if is_valid.any() else 0
    rules = (
        {"pool swaps (no fill rule)": {}} if is_pool(bars, bp) else SENSITIVITY_RULES
    )
    rows = []
    for rule, update in rules.items():
        this_run = all(getattr(bp, key) == v for key, v in update.items())
        book, fills, orders = (
            run
            if this_run
            else run_book(bars, quotes, mp, bp.model_copy(update=update), rp)
        )
        rows.append(_rule_row(rule, this_run, book, fills, orders, i0))
    return pd.DataFrame(rows)


def trading_end(book: pd.DataFrame, orders: pd.DataFrame) -> int | None:
    """The bar at which trading ended after the risk stop.

    Args:
        book: The per-bar book (``halted``).
        orders: The orders table (``type``, ``end_bar``).

    Returns:
        The bar (a position in ``book``) at which the stop's market order
        filled, or the last bar when it found nothing to flatten or is still
        open; None when no stop fired.
    """
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


def signal_intervals(
    daily: np.ndarray, added: np.ndarray | None, rp: RiskParams
) -> dict:
    """Block-bootstrap intervals over days (``risk.interval_level``…): the
    book's total PnL and Sharpe ratio (its trading days) and what the signal
    added (the daily difference of the two books over the whole period).

    Args:
        daily: The book's PnL per UTC day over its trading days.
        added: The daily PnL with the signal minus without it, over the whole
            period (None: no baseline booked).
        rp: The ``risk`` parameters: ``interval_level``,
            ``bootstrap_resamples``, ``bootstrap_seed`` (the resampling's
            seed), ``bootstrap_block_days``, ``periods_per_year``.

    Returns:
        ``level``, ``resamples``, ``method``, ``block_days``, ``backtest``
        (``total_pnl`` and ``sharpe`` intervals), ``signal_added``
        (``total_pnl``, or None) and ``days`` (per part, or None).
    """
    kw = {
        "level": rp.interval_level,
        "resamples": rp.bootstrap_resamples,
        "seed": rp.bootstrap_seed,
        "periods_per_year": rp.periods_per_year,
        "block": rp.bootstrap_block_days,
    }
    book = intervals(daily, **kw)
    out = {
        "level": rp.interval_level,
        "resamples": rp.bootstrap_resamples,
        "method": "circular block bootstrap over UTC days, percentile interval",
        "block_days": book["block_days"],
        "backtest": {"total_pnl": book["total"], "sharpe": book["sharpe"]},
        "signal_added": None,
        "days": {"backtest": book["days"], "signal_added": None},
    }
    if added is not None:
        added_ci = intervals(added, **kw)
        out["signal_added"] = {"total_pnl": added_ci["total"]}
        out["days"]["signal_added"] = added_ci["days"]
    return out


def first_valid_bar(quotes: pd.DataFrame) -> int:
    """The first bar with both an out-of-sample prediction and a calibration.

    Args:
        quotes: The quotes (``valid``).

    Returns:
        Its position in ``quotes``.

    Raises:
        ETHPredictError: No bar is valid.
    """
    is_valid = quotes["valid"].to_numpy()
    if not is_valid.any():
        raise ETHPredictError(
            "no bar has both an out-of-sample prediction and a calibration: lower "
            "mm.calib_window or model.cv.train_bars, or use more data"
        )
    return int(np.argmax(is_valid))


def book_metrics(b, all_fills, o, whole, i0, t0, mp, rp) -> tuple[dict, np.ndarray]:
    """Risk metrics of one book over its trading period (up to the risk stop)
    and its daily PnL over that period.

    Args:
        b: The per-bar book.
        all_fills: All its fills (on their times).
        o: Its orders.
        whole: Its PnL per UTC day over the whole period from ``i0``.
        i0: The first quoted bar (a position).
        t0: The time of bar ``i0`` (epoch nanoseconds).
        mp: The ``mm`` parameters.
        rp: The ``risk`` parameters.

    Returns:
        ``(metrics, daily)``: :func:`ethpredict.backtesting.risk_metrics`
        with ``total_pnl`` after the stop's last fill, ``stopped_at`` (the
        stop's bar time, or None), the order summary and, for an LP book,
        ``lp``; and the daily PnL over the trading period.
    """
    end = trading_end(b, o)
    traded = b if end is None else b.iloc[: max(end, i0) + 1]
    f = all_fills.iloc[int(np.searchsorted(epoch_ns(all_fills.index), t0)) :]
    daily = whole if end is None else daily_pnl(traded, i0)[1]
    m = risk_metrics(traded, f, mp, rp, start=i0, daily=daily)
    m["total_pnl"] = float(b["equity"].iat[-1])  # after the stop's last fill
    m["stopped_at"] = None if end is None else str(b.index[end])
    m.update(order_summary(o, f))
    if "lvr" in b:  # an LP book: fees − LVR − gas ± inventory
        m["lp"] = lp_decomposition(b)
    return m, daily


def _log_result(with_signal: dict, baseline: dict | None) -> None:
    stop = with_signal["stopped_at"]
    log.info(
        "Backtest PnL %.2f USD (without signal %s), Sharpe %s, max drawdown %.2f%s",
        with_signal["total_pnl"],
        "not booked" if baseline is None else f"{baseline['total_pnl']:.2f}",
        with_signal["sharpe"],
        with_signal["max_drawdown"],
        f"; risk stop at {stop}: metrics count days up to it" if stop else "",
    )


def backtest_metrics(
    run: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    baseline_run: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None,
    quotes: pd.DataFrame,
    mp: MMParams,
    rp: RiskParams,
    lp_baselines: pd.DataFrame | None = None,
) -> dict:
    """Risk metrics of the book and of the same book without the signal,
    over the period in which quoting was possible (up to the risk stop, if
    one fired: later days are not trading days), what the signal added, its
    block-bootstrap intervals, and the passive-LP baselines of a pool.

    Args:
        run: The book's ``(book, fills, orders)``.
        baseline_run: The same book without the signal (None: not booked,
            then ``without_signal`` and ``signal_added`` are None).
        quotes: The quotes (``valid`` sets the first quoted bar).
        mp: The ``mm`` parameters.
        rp: The ``risk`` parameters.
        lp_baselines: A pool's passive-LP baselines, one row each (None or
            empty: none).

    Returns:
        ``period``, ``synthetic``, ``alpha_weight``, ``venue``,
        ``with_signal``, ``without_signal``, ``signal_added`` (with minus
        without, per PnL part), ``daily`` (UTC dates and the PnL per day over
        the whole period, 0 after a risk stop), ``intervals``
        (:func:`signal_intervals`) and, on a pool, ``lp_baselines``.

    Raises:
        ETHPredictError: No bar is valid (:func:`first_valid_bar`).
    """
    book = run[0]
    i0 = first_valid_bar(quotes)
    days, pnl = daily_pnl(book, i0)
    runs = [(*run, pnl)]
    if baseline_run is not None:
        pnl_baseline = daily_pnl(baseline_run[0], i0)[1]
        runs.append((*baseline_run, pnl_baseline))
    t0 = epoch_ns(book.index)[i0]
    results, dailies = [], []
    for b, all_fills, o, whole in runs:
        m, daily = book_metrics(b, all_fills, o, whole, i0, t0, mp, rp)
        results.append(m)
        dailies.append(daily)
    with_signal, baseline = results[0], (results[1] if len(results) > 1 else None)
    out = {
        "period": {"start": str(quotes.index[i0]), "end": str(book.index[-1])},
        "synthetic": bool(book.attrs.get("synthetic", False)),
        "alpha_weight": mp.alpha_weight,
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
    out["intervals"] = signal_intervals(
        dailies[0], None if baseline is None else pnl - pnl_baseline, rp
    )
    if lp_baselines is not None and len(lp_baselines):
        out["lp_baselines"] = {
            str(k): {c: float(v) if np.isfinite(v) else None for c, v in row.items()}
            for k, row in lp_baselines.iterrows()
        }
    _log_result(with_signal, baseline)
    return out
