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
    [(12, 0, "60s", 0), (12, 1, "60s", 1), (12, 59, "60s", 1), (12, 61, "60s", 2),
     (2, 1, "60s", 1),
     (12, 0, "15min", 0), (12, 5, "15min", 1),
     (13, 0, "60s", 1),  # 00:01:00 is 12 s past a 13-s block boundary
     (0, 0, "60s", 0), (0, 0.05, "60s", 1), (0, 0.05, "1s", 1), (0, 2.5, "1s", 3)],
)  # fmt: skip
def test_activation_delay(block, latency, freq, delay):
    bp = BacktestParams(block_time_s=block, latency_s=latency)
    bars = bars_of(freq=freq)
    assert bp.block_time_s is not None and bp.latency_s is not None
    bar_s = (bars.index[1] - bars.index[0]).total_seconds()
    assert activation_delay(bars, bp.block_time_s, bp.latency_s, bar_s) == delay


def test_markouts_are_signed_by_side():
    bars = bars_of()
    quotes = pd.DataFrame(
        {"bid_depth": 0.6, "ask_depth": 0.4, "skew": 0.0, "bid_size": 1.0, "ask_size": 1.0,
         "A": 0.0, "k": 0.0, "valid": True}, index=bars.index)  # fmt: skip
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
    book = pd.DataFrame({"equity": eq, "spread_pnl": eq, "inventory_pnl": 0.0, "fees": 0.0,
                         "gas": 0.0, "updates": 1, "halted": 0.0, "position": 0.0,
                         "bid": 1.0, "ask": np.nan}, index=idx)  # fmt: skip
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
    from ethpredict.core.backtest import average_cost_nb

    rng = np.random.default_rng(seed)
    n = 60
    close = 3000 + rng.normal(0, 3, n).cumsum()
    bars_ = np.sort(rng.integers(0, n, 40))
    fills = [(int(b), float(rng.choice([-1, 1])), float(close[b] + rng.normal(0, 1)),
              float(rng.choice([0.5, 1.0, 2.0]))) for b in bars_]  # fmt: skip
    arr = np.array(fills)
    avg, real, unreal = (np.empty(n) for _ in range(3))
    average_cost_nb(arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2], arr[:, 3], close,
                    avg, real, unreal)  # fmt: skip
    ref = average_cost_reference(fills, close)
    np.testing.assert_allclose(np.column_stack([avg, real, unreal]), ref, atol=1e-9,
                               equal_nan=True)  # fmt: skip
