"""The venue follows the data: a Uniswap pool's fee tier, tick grid and block
clock; a perpetual's funding in the book's PnL."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ethpredict.backtesting import run_book, venue_of
from ethpredict.errors import ParameterError
from ethpredict.params import BacktestParams, MMParams, RiskParams


def bars_of(n=200, freq="12s", seed=0, **attrs):
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-05", periods=n, freq=freq, tz="UTC", name="time")
    c = 2270 * np.exp(np.cumsum(rng.normal(0, 5e-4, n)))
    o = np.r_[c[0], c[:-1]]
    bars = pd.DataFrame({"open": o, "high": np.maximum(o, c) * 1.0008,
                         "low": np.minimum(o, c) / 1.0008, "close": c}, index=idx)  # fmt: skip
    bars.attrs.update(attrs)
    return bars


def quotes_for(bars, depth=1.5):
    return pd.DataFrame(
        {"bid_depth": depth, "ask_depth": depth, "skew": 0.2, "bid_size": 1.0,
         "ask_size": 1.0, "A": 0.0, "k": 0.0, "valid": True}, index=bars.index,
    )  # fmt: skip


POOL = {"venue": "uniswap_v3", "source": "uniswap_v3", "fee_bps": 5.0, "tick_spacing": 10,
        "block_time_s": 2.0}  # fmt: skip
BP = {"latency_s": 0, "through_ticks": 0, "gas_units": 0}


def test_pool_venue_earns_the_fee_tier_on_its_grid():
    bars = bars_of(**POOL)
    book, fills = run_book(bars, quotes_for(bars), MMParams(), BacktestParams(**BP),
                           RiskParams(max_drawdown=None))  # fmt: skip
    v = book.attrs["venue_settings"]
    assert v["name"] == "uniswap_v3" and v["maker_fee_bps"] == -5.0
    assert v["block_time_s"] == 2.0  # the pool's clock, not Ethereum's default
    assert len(fills) > 10
    notional = float((fills["price"] * fills["size"]).sum())
    assert book["fees"].iat[-1] == pytest.approx(-5e-4 * notional)  # earned
    # every fill price is a tick of the pool: 1.0001^(10·m) (here ETH is
    # token1, so the price is 10^12 / 1.0001^tick — also on the grid)
    m = np.log(fills["price"].to_numpy()) / (10 * math.log(1.0001))
    np.testing.assert_allclose(m, np.round(m), atol=1e-6)
    # an explicit maker fee still wins
    book2, _ = run_book(
        bars,
        quotes_for(bars),
        MMParams(),
        BacktestParams(**BP, maker_fee_bps=1.0),
        RiskParams(max_drawdown=None),
    )
    assert book2.attrs["venue_settings"]["maker_fee_bps"] == 1.0  # fmt: skip


def test_spot_venue_is_unchanged_by_the_venue_logic():
    bars = bars_of(source="binance_klines", venue="spot")
    book, fills = run_book(bars, quotes_for(bars), MMParams(), BacktestParams(**BP),
                           RiskParams(max_drawdown=None))  # fmt: skip
    v = book.attrs["venue_settings"]
    assert v == {"name": "spot", "block_time_s": 12.0, "maker_fee_bps": 0.0,
                 "log_tick": 0.0, "funding": False}  # fmt: skip
    cents = fills["price"].to_numpy() * 100
    np.testing.assert_allclose(cents, np.round(cents), atol=1e-6)  # mm.tick = 0.01
    assert (book["funding"] == 0).all()


def test_perpetual_funding_enters_pnl_and_the_decomposition():
    bars = bars_of(600, freq="1min", venue="perpetual", source="ohlcv")
    rate = np.zeros(len(bars))
    rate[[100, 300, 500]] = [1e-3, -2e-3, 5e-4]
    bars["funding_rate"] = rate
    book, _ = run_book(bars, quotes_for(bars), MMParams(), BacktestParams(**BP),
                       RiskParams(max_drawdown=None))  # fmt: skip
    pos, close = book["position"].to_numpy(), bars["close"].to_numpy()
    expected = np.cumsum(-pos * close * rate)
    assert np.count_nonzero(pos[[100, 300, 500]])  # something was held
    np.testing.assert_allclose(book["funding"], expected, rtol=1e-12, atol=1e-9)
    parts = (book["spread_pnl"] + book["inventory_pnl"] - book["fees"] - book["gas"]
             + book["funding"])  # fmt: skip
    np.testing.assert_allclose(parts, book["equity"], atol=1e-8)
    # the same bars on a spot venue pay no funding
    spot, _ = run_book(bars, quotes_for(bars), MMParams(), BacktestParams(**BP, venue="spot"),
                       RiskParams(max_drawdown=None))  # fmt: skip
    assert (spot["funding"] == 0).all()


@pytest.mark.parametrize(
    ("venue", "attrs", "words"),
    [("uniswap_v3", {"venue": "spot", "source": "ohlcv"}, "needs bars from a Uniswap v3"),
     ("perpetual", {"venue": "spot"}, "data.market: perpetual")],
)  # fmt: skip
def test_a_venue_the_data_cannot_have_is_refused(venue, attrs, words):
    with pytest.raises(ParameterError, match=words):
        venue_of(bars_of(**attrs), BacktestParams(venue=venue))
