"""The backtest wrapper: clock, markouts, risk metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from ethpredict.backtesting import cornish_fisher_z, risk_metrics, run_book
from ethpredict.params import BacktestParams, MMParams, RiskParams
from ethpredict.venues import activation_delay


def bars_of(n=30, freq="60s"):
    idx = pd.date_range("2024-01-01", periods=n, freq=freq, tz="UTC", name="time")
    c = 3000 + np.arange(n, dtype=float)
    return pd.DataFrame(
        {"open": c - 1, "high": c + 0.5, "low": c - 1.5, "close": c}, index=idx
    )


@pytest.mark.parametrize(
    ("block", "latency", "freq", "delay"),
    [
        (12, 0, "60s", 0),
        (12, 1, "60s", 1),
        (12, 59, "60s", 1),
        (12, 61, "60s", 2),
        (2, 1, "60s", 1),
        (12, 0, "15min", 0),
        (12, 5, "15min", 1),
        (13, 0, "60s", 1),  # 00:01:00 is 12 s past a 13-s block boundary
        (0, 0, "60s", 0),
        (0, 0.05, "60s", 1),
        (0, 0.05, "1s", 1),
        (0, 2.5, "1s", 3),
    ],
)
def test_activation_delay(block, latency, freq, delay):
    bp = BacktestParams(block_time_s=block, latency_s=latency)
    bars = bars_of(freq=freq)
    assert bp.block_time_s is not None and bp.latency_s is not None
    bar_s = (bars.index[1] - bars.index[0]).total_seconds()
    assert activation_delay(bars, bp.block_time_s, bp.latency_s, bar_s) == delay


def test_markouts_are_signed_by_side():
    bars = bars_of()
    quotes = pd.DataFrame(
        {
            "bid_depth": 0.6,
            "ask_depth": 0.4,
            "skew": 0.0,
            "bid_size": 1.0,
            "ask_size": 1.0,
            "A": 0.0,
            "k": 0.0,
            "valid": True,
        },
        index=bars.index,
    )
    book, fills, _ = run_book(
        bars,
        quotes,
        MMParams(),
        BacktestParams(latency_s=0, through_ticks=0, gas_units=0),
        RiskParams(max_drawdown=None),
    )
    assert len(fills) > 0
    f = fills.iloc[0]
    later = bars["close"].iloc[int(f["bar"]) + 5]
    assert f["markout_5"] == pytest.approx(f["side"] * (later - f["price"]))
    parts = book["spread_pnl"] + book["inventory_pnl"] - book["fees"] - book["gas"]
    np.testing.assert_allclose(parts, book["equity"], atol=1e-8)
    trading = book["realized_pnl"] + book["unrealized_pnl"] - book["fees"] - book["gas"]
    np.testing.assert_allclose(trading, book["equity"], atol=1e-8)


def test_cornish_fisher_reduces_to_normal():
    assert cornish_fisher_z(0.05, 0.0, 0.0) == pytest.approx(norm.ppf(0.05))
    assert cornish_fisher_z(0.01, -1.0, 3.0) < norm.ppf(0.01)  # fat left tail


def test_risk_metrics_on_a_known_book():
    idx = pd.date_range("2024-01-01", periods=10 * 1440, freq="60s", tz="UTC")
    daily = np.array([100, -50, 80, -20, 60, -100, 40, 30, -10, 50], float)
    eq = np.repeat(np.cumsum(daily), 1440)
    book = pd.DataFrame(
        {
            "equity": eq,
            "spread_pnl": eq,
            "inventory_pnl": 0.0,
            "fees": 0.0,
            "gas": 0.0,
            "updates": 1,
            "halted": 0.0,
            "position": 0.0,
            "bid": 1.0,
            "ask": np.nan,
        },
        index=idx,
    )
    fills = pd.DataFrame({"price": [3000.0], "size": [2.0], "markout_1": [0.5]})
    m = risk_metrics(book, fills, MMParams(), RiskParams())
    assert m["total_pnl"] == pytest.approx(daily.sum())
    assert m["sharpe"] == pytest.approx(daily.mean() / daily.std(ddof=1) * np.sqrt(365))
    down = np.sqrt(np.mean(np.minimum(daily, 0) ** 2))
    assert m["sortino"] == pytest.approx(daily.mean() / down * np.sqrt(365))
    assert m["max_drawdown"] == pytest.approx(100.0)  # day 6
    assert m["var_hist_95"] == pytest.approx(-np.quantile(daily, 0.05))
    assert m["fill_ratio"] == pytest.approx(1 / len(idx))
    assert m["turnover_usd_per_day"] == pytest.approx(6000 / 10)
    assert m["mean_markout_1"] == 0.5


def test_inventory_metrics_read_the_position_path():
    """Time at the bound, mean and spread of the inventory come from the
    position path in order sizes, not from another statistic (the VaR loop
    once overwrote the inventory array they read: the mean was the 99 % VaR,
    the spread 0 and the time at the bound a count)."""
    idx = pd.date_range("2024-01-01", periods=4 * 1440, freq="60s", tz="UTC")
    rng = np.random.default_rng(7)
    mp = MMParams(order_size=0.5, max_inventory=3)
    units = rng.integers(-3, 4, idx.size).astype(float)  # whole order sizes
    eq = np.cumsum(rng.normal(0, 1, idx.size))
    book = pd.DataFrame(
        {
            "equity": eq,
            "spread_pnl": eq,
            "inventory_pnl": 0.0,
            "fees": 0.0,
            "gas": 0.0,
            "updates": 1,
            "halted": 0.0,
            "position": units * mp.order_size,
            "bid": 1.0,
            "ask": 2.0,
        },
        index=idx,
    )
    fills = pd.DataFrame({"price": [3000.0], "size": [0.5]})
    m = risk_metrics(book, fills, mp, RiskParams())
    assert m["inventory_mean"] == pytest.approx(units.mean())
    assert m["inventory_std"] == pytest.approx(units.std(ddof=1))
    assert m["time_at_bound"] == pytest.approx(np.mean(np.abs(units) >= 3))
    assert 0.0 < m["time_at_bound"] < 1.0
    assert (
        m["inventory_hist"]
        == np.bincount((units + 3).astype(int), minlength=7).tolist()
    )


def average_cost_reference(fills, close):
    pos, avg, realized, out = 0.0, math.nan, 0.0, []
    for j, c in enumerate(close):
        for bar, side, price, size in fills:
            if bar != j:
                continue
            signed = side * size
            if pos == 0 or (pos > 0) == (signed > 0):
                avg = (
                    price
                    if pos == 0
                    else (avg * abs(pos) + price * size) / (abs(pos) + size)
                )
                pos += signed
            else:
                realized += min(abs(pos), size) * (price - avg) * math.copysign(1, pos)
                new = pos + signed
                pos, avg = (
                    (0.0, math.nan)
                    if abs(new) < 1e-12
                    else ((new, price) if (new > 0) != (pos > 0) else (new, avg))
                )
        out.append((avg, realized, pos * (c - avg) if pos else 0.0))
    return np.array(out)


@pytest.mark.parametrize("seed", range(25))
def test_average_cost_equals_reference(seed):
    from ethpredict.core.accounting import average_cost_nb

    rng = np.random.default_rng(seed)
    n = 60
    close = 3000 + rng.normal(0, 3, n).cumsum()
    bars_ = np.sort(rng.integers(0, n, 40))
    fills = [
        (
            int(b),
            float(rng.choice([-1, 1])),
            float(close[b] + rng.normal(0, 1)),
            float(rng.choice([0.5, 1.0, 2.0])),
        )
        for b in bars_
    ]
    arr = np.array(fills)
    avg, real, unreal = (np.empty(n) for _ in range(3))
    average_cost_nb(
        arr[:, 0].astype(np.int64),
        arr[:, 1],
        arr[:, 2],
        arr[:, 3],
        close,
        avg,
        real,
        unreal,
    )
    ref = average_cost_reference(fills, close)
    np.testing.assert_allclose(
        np.column_stack([avg, real, unreal]), ref, atol=1e-9, equal_nan=True
    )


def _path_stats_numpy(eq, q, bid, ask, max_inventory):
    """What ``path_stats_nb`` replaced, in NumPy (the reference)."""
    peak = np.maximum.accumulate(eq)
    dd = peak - eq
    end = int(np.argmax(dd))
    top = int(np.argmax(eq[: end + 1]))
    back = np.flatnonzero(eq[end:] >= peak[end])
    dd_end = end + int(back[0]) if back.size else eq.size - 1
    quoted = int(np.count_nonzero(~np.isnan(bid)) + np.count_nonzero(~np.isnan(ask)))
    at_bound = int(np.count_nonzero(np.abs(q) >= max_inventory - 1e-9))
    edges = np.arange(-max_inventory - 0.5, max_inventory + 1.0)
    hist = np.histogram(q, bins=edges.size - 1, range=(edges[0], edges[-1]))[0]
    return float(dd[end]), top, dd_end, quoted, at_bound, hist


@pytest.mark.parametrize("seed", range(40))
def test_path_stats_equal_the_numpy_expressions(seed):
    from ethpredict.core.risk import path_stats_nb

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    m = float(rng.choice([1.0, 2.5, 5.0, 7.0]))
    eq = np.round(rng.standard_t(3, n).cumsum(), int(rng.integers(0, 3)))  # ties
    if seed % 5 == 0:
        eq = np.sort(eq)  # never in drawdown
    # positions on whole and fractional order sizes, exactly on the bin edges,
    # at and beyond the bound, and NaN
    q = rng.choice(np.r_[np.arange(-m - 1, m + 1.5, 0.5), np.nan], n)
    bid = np.where(rng.random(n) < 0.3, np.nan, 1.0)
    ask = np.where(rng.random(n) < 0.3, np.nan, 1.0)
    unit = np.arange(-m - 0.5, m + 1.0)
    hist = np.zeros(unit.size - 1, np.int64)
    got = path_stats_nb(
        eq, q, bid, ask, m - 1e-9, np.linspace(unit[0], unit[-1], unit.size), hist
    )
    *want, want_hist = _path_stats_numpy(eq, q, bid, ask, m)
    assert tuple(got) == tuple(want)
    np.testing.assert_array_equal(hist, want_hist)
