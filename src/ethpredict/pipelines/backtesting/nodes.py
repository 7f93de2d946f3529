"""Nodes of the backtesting pipeline: the on-chain book and its risk
(:mod:`ethpredict.books`)."""

from __future__ import annotations

import logging

import pandas as pd

from ethpredict import books
from ethpredict.lp import BASELINE_COLUMNS, lp_baselines
from ethpredict.params import BacktestParams, MMParams, RiskParams
from ethpredict.venues import venue_of

log = logging.getLogger(__name__)


def run_backtest(
    bars: pd.DataFrame,
    trades: pd.DataFrame,
    pool_liquidity: pd.DataFrame,
    quotes: pd.DataFrame,
    mm: MMParams,
    backtest: BacktestParams,
    risk: RiskParams,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The per-bar book (position, cash, equity, live quotes, cumulative PnL
    parts, order actions, fills, halted), every fill with its order and
    markouts, and every order with its fate. On ``uniswap_v3`` the orders
    are range positions filled by the pool's swaps (:mod:`ethpredict.lp`)."""
    return books.venue_book(bars, trades, pool_liquidity, quotes, mm, backtest, risk)


def log_venue(bars: pd.DataFrame, backtest: BacktestParams) -> dict:
    """The resolved venue with every cost, logged when the backtest starts."""
    venue = venue_of(bars, backtest)
    log.info("Backtest on %s", venue.describe())
    return venue.as_dict()


def fill_rule_sensitivity(
    bars: pd.DataFrame,
    quotes: pd.DataFrame,
    book: pd.DataFrame,
    fills: pd.DataFrame,
    orders: pd.DataFrame,
    mm: MMParams,
    backtest: BacktestParams,
    risk: RiskParams,
) -> pd.DataFrame:
    """PnL, fills and markouts of the same quotes under each fill rule (touch
    with 0, 1 and 2 ticks through, and intensity), one row each: an OHLCV
    backtest cannot see queues, so the report shows how much the rule moves.
    The run's own rule reuses its ``book``, ``fills`` and ``orders``; a pool
    has one row, the run itself."""
    run = (book, fills, orders)
    return books.fill_rule_sensitivity(bars, quotes, run, mm, backtest, risk)


def run_lp_baselines(
    bars: pd.DataFrame,
    trades: pd.DataFrame,
    pool_liquidity: pd.DataFrame,
    quotes: pd.DataFrame,
    mm: MMParams,
    backtest: BacktestParams,
) -> pd.DataFrame:
    """Passive-LP baselines on the same blocks (a pool only; else empty):
    the full range, a static ±x % range and holding the initial 50/50 mix."""
    if not books.is_pool(bars, backtest):
        return pd.DataFrame(columns=list(BASELINE_COLUMNS), dtype="float64")
    return lp_baselines(bars, trades, pool_liquidity, quotes, mm, backtest)


def evaluate_backtest(
    book: pd.DataFrame,
    fills: pd.DataFrame,
    orders: pd.DataFrame,
    book_baseline: pd.DataFrame,
    fills_baseline: pd.DataFrame,
    orders_baseline: pd.DataFrame,
    quotes: pd.DataFrame,
    mm: MMParams,
    risk: RiskParams,
    lp_baselines: pd.DataFrame | None = None,
) -> dict:
    """Risk metrics of the book and of the same book without the signal, and
    what the signal added (:func:`ethpredict.books.backtest_metrics`). A
    sweep's trial without the baseline (``sweep.trial_baseline``) passes None
    for its three tables: ``without_signal`` and ``signal_added`` are then
    None."""
    baseline = (
        None
        if book_baseline is None
        else (book_baseline, fills_baseline, orders_baseline)
    )
    return books.backtest_metrics(
        (book, fills, orders), baseline, quotes, mm, risk, lp_baselines
    )
