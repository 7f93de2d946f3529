"""The Uniswap v3 LP book (ethpredict.lp) on the real pool day and on
constructed blocks: invariants from the swaps alone, money, gas per action,
inclusion, the risk stop, and fees against what the pool's swaps imply."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ethpredict.core.liquidity import raw_scale
from ethpredict.lp import (
    lp_baselines,
    lp_decomposition,
    mark_prices,
    run_pool_book,
    static_position,
    swap_path,
)
from ethpredict.params import BacktestParams, MMParams, RiskParams
from ethpredict.testing.invariants import check_pool_execution
from ethpredict.testing.project import project_root, real_data_dir
from ethpredict.timeaxis import bar_seconds
from ethpredict.venues import LP_GAS

POOL_DAY = "uniswap-v3/ethereum-usdc-weth-005-2024-01-05"


def quotes_for(
    bars: pd.DataFrame, depth: float = 0.5, skew: float = 0.1, warm: int = 100
):
    n = len(bars)
    q = pd.DataFrame(
        {
            "bid_depth": np.full(n, depth),
            "ask_depth": np.full(n, depth),
            "skew": np.full(n, skew),
            "bid_size": np.ones(n),
            "ask_size": np.ones(n),
            "valid": np.ones(n, bool),
        },
        index=bars.index,
    )
    q.iloc[:warm, :2] = np.nan
    q.iloc[:warm, -1] = False
    return q


@pytest.fixture(scope="module")
def day(request):
    real = real_data_dir(project_root(__file__))
    if not real.is_dir():
        pytest.skip(f"real market data folder {real} is absent")
    from ethpredict.params import DataParams
    from ethpredict.pipelines.data_engineering.nodes import ingest_market_data

    return ingest_market_data(
        DataParams(source="uniswap_v3", path=str(real / POOL_DAY))
    )


def run(bars, trades, liq, q, mm=None, bt=None, risk=None):
    mp, bp = MMParams(**(mm or {})), BacktestParams(**(bt or {}))
    rp = RiskParams(**(risk or {}))
    return run_pool_book(bars, trades, liq, q, mp, bp, rp, bar_seconds(bars))


@pytest.mark.parametrize(
    "mm,bt",
    [
        ({}, {}),
        ({"range_width": 3, "levels": 2}, {"range_requote": 2.0}),
        ({"skew_scale": 1.0}, {"p_miss": 0.3, "latency_s": 20.0}),
        ({}, {"lp_gas_path": "direct", "gas_price_gwei": 30.0}),
    ],
)
def test_real_day_fills_are_ones_the_pool_gave(day, mm, bt):
    bars, trades, _, liq = day
    book, fills, orders = run(bars, trades, liq, quotes_for(bars), mm, bt)
    assert len(fills) > 100 and (orders["end_reason"] == "replaced").sum() > 100
    bad = check_pool_execution(bars, fills, orders, book)
    assert not any(bad.values()), bad
    parts = lp_decomposition(book)
    assert abs(parts["residual"]) < 1e-6 and parts["fees_earned"] > 0
    # a range decided at a block's close lands in a later block
    landed = orders[orders["live_bar"] >= 0]
    assert (landed["live_bar"] > landed["submit_bar"]).all()


def test_gas_is_per_action_at_the_gas_price(day):
    bars, trades, _, liq = day
    book, _, orders = run(
        bars, trades, liq, quotes_for(bars), bt={"gas_price_gwei": 10.0}
    )
    g = LP_GAS["position_manager"]
    mark, _ = mark_prices(bars)
    usd = 10.0 * 1e-9 * mark
    r = orders[orders["type"] == "range"]
    mints = np.bincount(
        r.loc[r["end_reason"] != "open", "end_bar"], minlength=len(bars)
    )
    # every range that landed or reverted paid a mint where it landed; every
    # range burned paid a burn and a collect where it ended
    landed_at = np.where(r["live_bar"] >= 0, r["live_bar"], r["end_bar"])
    mint_n = np.bincount(landed_at[landed_at >= 0], minlength=len(bars))
    burned = r[r["end_reason"].isin(["replaced", "cancelled"]) & (r["live_bar"] >= 0)]
    burn_n = np.bincount(burned["end_bar"], minlength=len(bars))
    expected = np.sum(
        (mint_n * g["gas_mint"] + burn_n * (g["gas_burn"] + g["gas_collect"])) * usd
    )
    assert book["gas"].iat[-1] == pytest.approx(expected, rel=1e-9)
    assert mints.sum() > 0


def test_p_miss_delays_landing_and_is_seeded(day):
    bars, trades, _, liq = day
    q = quotes_for(bars)
    _, _, o0 = run(bars, trades, liq, q)
    _, _, o1 = run(bars, trades, liq, q, bt={"p_miss": 0.5})
    _, _, o2 = run(bars, trades, liq, q, bt={"p_miss": 0.5})
    pd.testing.assert_frame_equal(o1, o2)
    lag = lambda o: (o["live_bar"] - o["submit_bar"])[o["live_bar"] >= 0]  # noqa: E731
    assert lag(o0).min() >= 1 and lag(o1).mean() > lag(o0).mean() + 0.5


def test_fees_of_a_wide_position_are_what_the_swaps_imply(day):
    """The data check of issue 14: a ±5 % position held all day earns, per
    swap, the fee tier × the swap's input × L / (L + the liquidity the swap
    reports), the input in ETH valued at the pool price after the swap —
    summed straight from the pool's swap table."""
    bars, trades, _, liq = day
    path = swap_path(bars, trades, liq)
    p0 = float(bars["open"].iat[0])
    lower, upper = p0 / 1.05, p0 * 1.05
    assert trades["price"].between(lower, upper).all()  # in range all day
    L = 5_000.0  # √(ETH·USDC)
    pool_mark = bars["close"].to_numpy()
    held = static_position(bars, path, pool_mark, 0, lower, upper, L, 0.0005)
    scale = raw_scale(6, 18)
    share = L / (L + trades["liquidity"].to_numpy() / scale)
    up = trades["side"].to_numpy() > 0
    bar = np.searchsorted(bars.index, trades.index, side="right") - 1
    fee_usd = np.where(up, trades["quote_qty"], trades["qty"] * pool_mark[bar])
    # the day's first swap starts from a price the data does not show
    implied = float(np.sum((0.0005 * fee_usd * share)[1:]))
    assert held["fees_earned"].iat[-1] == pytest.approx(implied, rel=1e-9)
    assert implied > 1.0


def test_baselines_and_their_parts(day):
    bars, trades, _, liq = day
    q = quotes_for(bars)
    base = lp_baselines(bars, trades, liq, q, MMParams(), BacktestParams())
    assert list(base.index) == ["full range", "static ±5 %", "hold 50/50"]
    parts = base["fees_earned"] - base["lvr"] - base["gas"] + base["inventory_pnl"]
    np.testing.assert_allclose(
        parts + base["entry_basis"], base["total_pnl"], atol=1e-6
    )
    # a concentrated range earns more fees and loses more to LVR than the full range
    assert (
        base.loc["static ±5 %", "fees_earned"]
        > 10 * base.loc["full range", "fees_earned"]
    )
    assert base.loc["static ±5 %", "lvr"] > base.loc["full range", "lvr"] > 0


def _blocks(prices_per_block, liquidity=1e6, t0="2024-01-01"):
    """Constructed pool blocks: each block's swaps at the given prices, with
    inputs implied by constant ``liquidity`` (whole-token units)."""
    rows, times = [], []
    t = pd.Timestamp(t0, tz="UTC")
    prev = prices_per_block[0][0] if prices_per_block[0] else 2000.0
    opens, highs, lows, closes, vols = [], [], [], [], []
    for j, ps in enumerate(prices_per_block):
        o = prev
        path = [o, *ps]
        opens.append(o)
        highs.append(max(path))
        lows.append(min(path))
        v = 0.0
        for k, p in enumerate(ps):
            s0, s1 = math.sqrt(path[k]), math.sqrt(p)
            up = s1 > s0
            eth = liquidity * abs(1 / s1 - 1 / s0)
            quote = liquidity * abs(s1 - s0)
            rows.append(
                {
                    "price": p,
                    "qty": eth / (0.9995 if not up else 1.0),
                    "quote_qty": quote / (0.9995 if up else 1.0),
                    "side": 1 if up else -1,
                    "liquidity": liquidity * 1e12,
                }
            )
            times.append(t + pd.Timedelta(seconds=12 * j + 1 + k))
            v += eth
        vols.append(v)
        prev = path[-1]
        closes.append(prev)
    idx = pd.date_range(t, periods=len(prices_per_block), freq="12s", name="time")
    bars = pd.DataFrame(
        {
            "open": opens,
            "high": highs,
            "low": lows,
            "close": closes,
            "volume": vols,
            "is_filled": False,
            "is_stale": False,
        },
        index=idx,
    )
    bars.attrs.update(
        venue="uniswap_v3",
        fee_bps=5.0,
        tick_spacing=10,
        block_time_s=12.0,
        eth_token="token1",
        decimals0=6,
        decimals1=18,
    )
    trades = pd.DataFrame(rows, index=pd.DatetimeIndex(times, name="time"))
    return bars, trades


def test_a_range_converts_progressively_and_back_and_earns_only_when_crossed():
    # decided at block 0 around 2000, live from block 1; the price falls
    # through the bid range and comes back above it
    down = [
        [2000.0],
        [2000.0],
        [1999.0, 1997.0],
        [1980.0],
        [1980.0],
        [],
        [2001.0],
        [2001.0],
    ]
    bars, trades = _blocks(down)
    q = quotes_for(bars, depth=0.0, skew=0.0, warm=0)
    q.iloc[1:, :2] = np.nan  # one decision only
    book, fills, orders = run(
        bars,
        trades,
        None,
        q,
        {"range_width": 5},
        {"gas_price_gwei": 0.0},
        {"max_drawdown": None},
    )
    bid = orders[(orders["side"] == 1) & (orders["live_bar"] >= 0)].iloc[0]
    assert bid["live_bar"] == 1 and bid["price_upper"] <= 2000.0
    f = fills[fills["order"] == bid.name]
    # converts in blocks 2 and 3, back in 6; block 5 had no swap
    assert set(f["bar"]) == {2, 3, 6}
    assert (f.loc[f["bar"] < 6, "side"] == 1).all()
    assert (f.loc[f["bar"] == 6, "side"] == -1).all()
    assert f.loc[f["bar"] < 6, "size"].sum() == pytest.approx(1.0)  # all by 1980
    assert f.loc[f["bar"] == 6, "size"].sum() == pytest.approx(1.0)  # and back
    fees = -np.diff(book["fees"].to_numpy(), prepend=0.0)
    assert fees[5] == 0 and fees[4] == 0 and fees[2] > 0 and fees[6] > 0
    assert not any(check_pool_execution(bars, fills, orders, book).values())


def test_a_mint_the_price_reached_reverts_and_pays_gas():
    # decided at block 0's close just below 2000; 20 s of latency: it lands at
    # the start of block 2, after block 1's swap took the price into it
    bars, trades = _blocks([[2000.0], [1990.0], [1990.0], [1990.0]])
    q = quotes_for(bars, depth=0.0, skew=0.0, warm=0)
    q.iloc[1:, :2] = np.nan
    book, fills, orders = run(
        bars,
        trades,
        None,
        q,
        {},
        {"gas_price_gwei": 10.0, "latency_s": 20.0},
        {"max_drawdown": None},
    )
    bid = orders[orders["side"] == 1].iloc[0]
    ask = orders[orders["side"] == -1].iloc[0]
    assert (
        bid["end_reason"] == "rejected"
        and bid["end_bar"] == 2
        and bid["live_bar"] == -1
    )
    assert ask["live_bar"] == 2  # the ask above is still above: it lands
    assert book["rejected"].iat[-1] == 1 and not (fills["order"] == bid.name).any()
    g = LP_GAS["position_manager"]["gas_mint"]
    assert book["gas"].iat[-1] == pytest.approx(2 * g * 10e-9 * 1990.0)  # both paid


def test_the_risk_stop_burns_and_sells_through_the_pool():
    prices = [[2000.0]] * 3 + [[1990.0], [1950.0], [1900.0]] + [[1900.0]] * 4
    bars, trades = _blocks(prices, liquidity=2e5)
    q = quotes_for(bars, depth=0.0, skew=0.0, warm=0)
    q.iloc[3:, :2] = np.nan
    book, fills, orders = run(
        bars,
        trades,
        None,
        q,
        {"range_width": 50},
        {"gas_price_gwei": 1.0},
        {"max_drawdown": 20.0},
    )
    assert book["halted"].iat[-1] == 1 and book["position"].iat[-1] == 0
    stop = fills[fills["kind"] == "stop"]
    assert len(stop) == 1 and stop["side"].iat[0] == -1
    # sold through the pool's liquidity: below the price, and the fee paid
    assert stop["price"].iat[0] < 1900.0
    assert (orders.loc[orders["type"] == "range", "end_reason"] != "open").all()
    parts = lp_decomposition(book)
    assert abs(parts["residual"]) < 1e-6


def test_gas_is_priced_per_block_from_a_series(day, tmp_path):
    """backtest.gas_price_path: each LP action pays the gas price of the block
    it lands in (base fee + tip, per minute here), not a constant."""
    bars, trades, _, liq = day
    minutes = pd.date_range(bars.index[0].floor("min"), bars.index[-1], freq="1min")
    base = 10.0 + 20.0 * (np.arange(len(minutes)) % 60 < 30)  # 10 or 30 gwei
    pd.DataFrame(
        {
            "time": minutes.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "base_fee_gwei": base,
            "priority_fee_gwei": 1.0,
        }
    ).to_csv(tmp_path / "gas.csv", index=False)
    q = quotes_for(bars)
    book, _, orders = run(
        bars,
        trades,
        liq,
        q,
        bt={"gas_price_path": str(tmp_path / "gas.csv")},
        risk={"max_drawdown": None},
    )
    per_bar = 1.0 + base[np.searchsorted(minutes, bars.index, side="right") - 1]
    mark, _ = mark_prices(bars)
    g = LP_GAS["position_manager"]
    r = orders[orders["type"] == "range"]
    landed_at = np.where(r["live_bar"] >= 0, r["live_bar"], r["end_bar"])
    mint_n = np.bincount(landed_at[landed_at >= 0], minlength=len(bars))
    burned = r[r["end_reason"].isin(["replaced", "cancelled"]) & (r["live_bar"] >= 0)]
    burn_n = np.bincount(burned["end_bar"], minlength=len(bars))
    units = mint_n * g["gas_mint"] + burn_n * (g["gas_burn"] + g["gas_collect"])
    assert book["gas"].iat[-1] == pytest.approx(np.sum(units * per_bar * 1e-9 * mark))
    flat = run(bars, trades, liq, q, bt={"gas_price_gwei": 21.0})[0]["gas"].iat[-1]
    assert book["gas"].iat[-1] != pytest.approx(flat)


def test_the_book_up_to_a_cut_does_not_see_after_it(day):
    """Cut the blocks (and swaps) at t: the book, the fills and the orders'
    decisions up to t are unchanged — nothing looks ahead."""
    bars, trades, _, liq = day
    q = quotes_for(bars)
    full = run(bars, trades, liq, q)
    t = 4000
    cut = run(bars.iloc[:t], trades.loc[trades.index < bars.index[t]], liq, q.iloc[:t])
    pd.testing.assert_frame_equal(cut[0], full[0].iloc[:t])
    f_full = full[1][full[1]["bar"] < t]
    known = [c for c in f_full if not c.startswith("markout_")]  # markouts look ahead
    pd.testing.assert_frame_equal(cut[1][known], f_full[known])
    o_cut, o_full = cut[2], full[2].iloc[: len(cut[2])]
    for col in ("side", "level", "submit_bar", "price", "price_upper", "size"):
        np.testing.assert_array_equal(o_cut[col], o_full[col])
