"""Venues that fit the data: presets of clock, fees and gas; ``auto`` follows
the data; every field can be overridden; a pool's fee tier, tick grid and
block clock; a perpetual's funding in the book's PnL."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from ethpredict.backtesting import run_book
from ethpredict.errors import ParameterError
from ethpredict.params import BacktestParams, MMParams, RiskParams
from ethpredict.testing.invariants import pnl_parts
from ethpredict.venues import PRESETS, venue_of


def bars_of(n=200, freq="12s", seed=0, **attrs):
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-05", periods=n, freq=freq, tz="UTC", name="time")
    c = 2270 * np.exp(np.cumsum(rng.normal(0, 5e-4, n)))
    o = np.r_[c[0], c[:-1]]
    bars = pd.DataFrame(
        {
            "open": o,
            "high": np.maximum(o, c) * 1.0008,
            "low": np.minimum(o, c) / 1.0008,
            "close": c,
            "volume": 50.0,
        },
        index=idx,
    )
    bars.attrs.update(attrs)
    return bars


def quotes_for(bars, depth=1.5):
    return pd.DataFrame(
        {
            "bid_depth": depth,
            "ask_depth": depth,
            "skew": 0.2,
            "bid_size": 1.0,
            "ask_size": 1.0,
            "A": 0.0,
            "k": 0.0,
            "valid": True,
        },
        index=bars.index,
    )


POOL = {
    "venue": "uniswap_v3",
    "source": "uniswap_v3",
    "fee_bps": 5.0,
    "tick_spacing": 10,
    "block_time_s": 2.0,
}
BP = {"latency_s": 0, "through_ticks": 0, "gas_units": 0}
NO_STOP = RiskParams(max_drawdown=None)


@pytest.mark.parametrize(
    ("market", "preset"),
    [("spot", "cex_spot"), ("perpetual", "cex_perp"), ("uniswap_v3", "uniswap_v3")],
)
def test_auto_follows_the_data(market, preset):
    attrs = POOL if market == "uniswap_v3" else {"venue": market, "source": "ohlcv"}
    v = venue_of(bars_of(**attrs), BacktestParams())
    assert v.name == preset
    assert v.overridden == ()


def test_exchange_data_pays_no_gas_and_has_no_block_clock():
    v = venue_of(bars_of(venue="spot"), BacktestParams())
    assert v.gas_eth == 0 and v.block_time_s == 0
    assert (v.maker_fee_bps, v.taker_fee_bps) == (10.0, 10.0)
    perp = venue_of(bars_of(venue="perpetual"), BacktestParams())
    assert perp.gas_eth == 0 and (perp.maker_fee_bps, perp.taker_fee_bps) == (2.0, 5.0)
    bars = bars_of(venue="spot")
    book, fills, _ = run_book(
        bars, quotes_for(bars), MMParams(), BacktestParams(), NO_STOP
    )
    assert len(fills) and book["gas"].iat[-1] == 0.0


def test_onchain_costs_on_exchange_prices_only_when_asked():
    bars = bars_of(venue="spot", source="ohlcv")
    v = venue_of(bars, BacktestParams(venue="onchain_clob"))
    assert v.gas_eth == pytest.approx(150_000 * 0.01e-9)
    assert v.block_time_s == PRESETS["onchain_clob"]["block_time_s"]
    book, _, orders = run_book(
        bars,
        quotes_for(bars),
        MMParams(),
        BacktestParams(venue="onchain_clob"),
        NO_STOP,
    )
    # one action per order placed (or cancelled), priced at its decision's close
    actions = np.diff(book["updates"].to_numpy(), prepend=0.0)
    expected = (v.gas_eth * bars["close"].to_numpy() * actions).sum()
    assert book["gas"].iat[-1] == pytest.approx(expected)
    assert actions.sum() >= len(orders) > 0


def test_every_preset_field_can_be_overridden():
    bp = BacktestParams(
        venue="cex_spot",
        maker_fee_bps=-1.0,
        gas_units=1e5,
        gas_price_gwei=1.0,
        block_time_s=2.0,
        latency_s=0.5,
    )
    v = venue_of(bars_of(venue="spot"), bp)
    assert (v.maker_fee_bps, v.gas_units, v.block_time_s, v.latency_s) == (
        -1,
        1e5,
        2,
        0.5,
    )
    assert set(v.overridden) == {
        "maker_fee_bps",
        "gas_units",
        "gas_price_gwei",
        "block_time_s",
        "latency_s",
    }
    assert "set by parameters" in v.describe()


def test_pool_venue_is_an_lp_book_on_the_pools_clock():
    """On a pool the backtest node runs the LP book (ethpredict.lp): range
    orders, gas per LP action, the pool's fee tier and block clock."""
    from ethpredict.pipelines.backtesting.nodes import run_backtest

    bars = bars_of(**POOL, eth_token="token1", decimals0=6, decimals1=18)
    v = venue_of(bars, BacktestParams())
    assert v.name == "uniswap_v3" and v.maker_fee_bps == -5.0
    assert v.taker_fee_bps == 5.0  # the stop's swap pays the tier
    assert v.block_time_s == 2.0  # the pool's clock, not Ethereum's default
    assert (v.gas_mint, v.gas_burn, v.gas_collect) == (400_000.0, 149_000.0, 119_000.0)
    assert "gas per mint 400,000" in v.describe() and "earned as an LP" in v.describe()
    direct = venue_of(bars, BacktestParams(lp_gas_path="direct", gas_burn=1.0))
    assert (direct.gas_mint, direct.gas_burn) == (320_000.0, 1.0)
    assert "gas_burn" in direct.overridden
    trades = pd.DataFrame(
        {
            "price": bars["close"],
            "qty": 1.0,
            "quote_qty": 2270.0,
            "side": np.where(bars["close"].diff() > 0, 1, -1),
            "liquidity": 1e17,
        },
        index=bars.index + pd.Timedelta("1s"),
    )
    book, fills, orders = run_backtest(
        bars, trades, None, quotes_for(bars), MMParams(), BacktestParams(), NO_STOP
    )
    assert (orders["type"] == "range").all() and len(orders) > 10
    assert set(fills["kind"].astype(str)) <= {"range"} and "lvr" in book


def test_gas_units_is_refused_on_a_pool():
    with pytest.raises(ParameterError, match="gas_units.*gas_mint"):
        venue_of(bars_of(**POOL), BacktestParams(gas_units=1.0))


def test_perpetual_funding_enters_pnl_and_the_decomposition():
    bars = bars_of(600, freq="1min", venue="perpetual", source="ohlcv")
    rate = np.zeros(len(bars))
    settle = np.arange(20, 600, 20)
    rate[settle] = np.resize([1e-3, -2e-3, 5e-4], settle.size)
    bars["funding_rate"] = rate
    quotes = quotes_for(bars).assign(ask_depth=2.5)  # buys more than it sells
    book, _, _ = run_book(bars, quotes, MMParams(), BacktestParams(**BP), NO_STOP)
    pos, close = book["position"].to_numpy(), bars["close"].to_numpy()
    expected = np.cumsum(-pos * close * rate)
    assert np.count_nonzero(pos[settle]) > 5  # something was held
    np.testing.assert_allclose(book["funding"], expected, rtol=1e-12, atol=1e-9)
    parts = pnl_parts(book)
    np.testing.assert_allclose(parts, book["equity"], atol=1e-8)
    spot, _, _ = run_book(
        bars,
        quotes_for(bars),
        MMParams(),
        BacktestParams(**BP, venue="cex_spot"),
        NO_STOP,
    )
    assert (spot["funding"] == 0).all()


def test_a_perpetual_without_rates_says_so(caplog):
    with caplog.at_level(logging.WARNING):
        v = venue_of(bars_of(venue="perpetual"), BacktestParams())
    assert v.name == "cex_perp" and not v.funding
    assert "without funding rates" in caplog.text
    # the backtest node resolves the venue once per book: one warning, not one
    # per question it asks about the venue
    from ethpredict.pipelines.backtesting.nodes import run_backtest

    caplog.clear()
    bars = bars_of(venue="perpetual")
    with caplog.at_level(logging.WARNING):
        run_backtest(
            bars, None, None, quotes_for(bars), MMParams(), BacktestParams(), NO_STOP
        )
    assert caplog.text.count("without funding rates") == 1


def test_a_pool_venue_on_exchange_data_is_refused():
    with pytest.raises(
        ParameterError, match="needs bars from a Uniswap v3.*onchain_clob"
    ):
        venue_of(
            bars_of(venue="spot", source="ohlcv"), BacktestParams(venue="uniswap_v3")
        )


def test_old_venue_names_get_one_clear_error():
    from ethpredict.params import validate_parameters

    with pytest.raises(ParameterError, match=r"backtest\.venue.*cex_spot"):
        validate_parameters({"backtest": {"venue": "spot"}})
