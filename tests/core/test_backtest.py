"""The backtest kernel equals a plain-Python reference written with order
objects; its PnL adds up; and, independently of both, its fills obey the
market's physical invariants (inside the bar, at most the order's size, under
the participation cap, never on a stale bar, maker fills only for orders live
at the bar's start)."""

from __future__ import annotations

import numpy as np
import pytest

from ethpredict.core import types as T
from ethpredict.testing.backtest_reference import case, reference, run_kernel


@pytest.mark.parametrize("seed", range(150))
def test_kernel_equals_reference(seed):
    args, p = case(seed)
    book, fills, orders = run_kernel(args, p)
    rbook, rfills, rorders = reference(*args, p)
    np.testing.assert_allclose(book, rbook, rtol=1e-12, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(fills, rfills, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(orders, rorders, rtol=1e-12, atol=1e-9, equal_nan=True)


def test_the_cases_exercise_every_rule():
    """The random cases reach every fill kind and every end of an order, so
    the comparison above covers them."""
    kinds, reasons = set(), set()
    for seed in range(150):
        args, p = case(seed)
        _, fills, orders = run_kernel(args, p)
        kinds |= set(fills[:, T.F_KIND].astype(int).tolist())
        reasons |= set(orders[:, T.O_REASON].astype(int).tolist())
    assert kinds == set(range(len(T.FILL_KINDS))) - {T.KIND_RANGE}  # range: a pool book
    assert reasons == set(range(len(T.END_REASONS)))


@pytest.mark.parametrize("seed", range(60))
def test_physical_invariants(seed):
    """Checked from the inputs alone, not from either implementation's rules."""
    args, p = case(seed)
    _, h, lo, c, vol, ok, *_ = args
    book, fills, orders = run_kernel(args, p)
    bar = fills[:, T.F_BAR].astype(int)
    price, size = fills[:, T.F_PRICE], fills[:, T.F_SIZE]
    assert np.all(price >= lo[bar] - 1e-9) and np.all(price <= h[bar] + 1e-9)
    assert np.all(ok[bar]) and np.all(vol[bar] > 0)  # never on a halted/empty bar
    per_bar = np.bincount(bar, weights=size, minlength=len(c))
    assert np.all(per_bar <= p["part"] * vol + 1e-9)  # the participation cap
    oid = fills[:, T.F_ORDER].astype(int)
    filled = np.bincount(oid, weights=size, minlength=len(orders))
    np.testing.assert_allclose(filled, orders[:, T.O_FILLED], atol=1e-9)
    limit = orders[:, T.O_TYPE] == T.ORDER_LIMIT
    assert np.all(filled[limit] <= orders[limit, T.O_SIZE] + 1e-9)  # at most its size
    live = orders[oid, T.O_LIVE]
    assert np.all((live >= 0) & (live <= bar))  # only once live
    end = orders[oid, T.O_END]
    assert np.all((end < 0) | (end >= bar))  # never after it ended
    by_fill = orders[oid, T.O_REASON] == T.END_FILLED
    assert np.all((end != bar) | by_fill)  # in its last bar only if a fill ended it
    maker = ~np.isin(fills[:, T.F_KIND], T.TAKER_KINDS)
    lim = orders[oid, T.O_PRICE]
    side = fills[:, T.F_SIDE]
    # a maker never fills at a worse price than its limit
    assert np.all(side[maker] * (lim[maker] - price[maker]) >= -1e-9)
    cap = p["max_inventory"] * p["base_size"]
    assert np.all(np.abs(book[:, T.B_POS]) <= cap + 1e-9)


@pytest.mark.parametrize("seed", range(20))
def test_pnl_decomposition_sums_to_equity(seed):
    args, p = case(seed)
    book, _, _ = run_kernel(args, p)
    total = (
        book[:, T.B_SPREAD]
        + book[:, T.B_INV]
        - book[:, T.B_FEES]
        - book[:, T.B_GAS]
        + book[:, T.B_FUNDING]
    )
    np.testing.assert_allclose(total, book[:, T.B_EQUITY], atol=1e-7)


def flat_case(n=8, **over):
    c = np.full(n, 3000.0)
    base = {
        "levels": 1,
        "spacing": 0.0,
        "mult": 1.0,
        "tick": 0.01,
        "base_size": 1.0,
        "max_inventory": 5.0,
        "requote": 1.0,
        "delay": 0,
        "gas": 0.0,
        "fee": 0.0,
        "taker": 0.0,
        "fill_model": 0,
        "through": 0.0,
        "max_dd": 0.0,
        "post_only": True,
        "part": 1.0,
        "log_tick": 0.0,
    }
    bd = np.tile([0.5, 0.0], (n, 1))
    ones = np.ones(n)
    arrays = [
        c.copy(),
        c.copy(),
        c.copy(),
        c,
        ones * 10,
        np.ones(n, bool),
        bd,
        bd.copy(),
        ones,
        ones,
        ones,
        ones,
        np.zeros((n, 2)),
        np.zeros(n),
    ]
    return arrays, {**base, **over}


def test_touch_needs_a_trade_through_and_quotes_lag_by_delay():
    arrays, p = flat_case()
    arrays[1][3] = 3000.5  # one bar's high reaches the ask at 3000.5
    _, fills, _ = run_kernel(arrays, p)
    assert fills[:, [T.F_BAR, T.F_SIDE, T.F_PRICE, T.F_SIZE]].tolist() == [
        [3, -1, 3000.5, 1]
    ]
    _, fills, _ = run_kernel(arrays, {**p, "through": 1.0})
    assert len(fills) == 0  # touching is not trading through
    _, fills, _ = run_kernel(arrays, {**p, "delay": 3})
    assert len(fills) == 0  # the quote decided at bar 0 is live only from bar 4


def test_a_filled_order_is_used_up_and_its_repost_pays_gas():
    arrays, p = flat_case()
    arrays[1][2:6] = 3001.0  # the price stays through the ask for four bars
    book, fills, orders = run_kernel(arrays, {**p, "gas": 0.001, "requote": 1e9})
    sells = fills[fills[:, T.F_SIDE] < 0]
    # filled at bar 2; the re-post decided at bar 2's close is live from bar 3
    assert sells[:, T.F_BAR].tolist() == [2, 3, 4, 5]
    assert len(set(sells[:, T.F_ORDER].tolist())) == 4  # four orders, not one
    assert np.all(orders[sells[:, T.F_ORDER].astype(int), T.O_FILLED] == 1.0)
    # 2 initial orders + 4 re-posts (one action each), 3 USD each
    assert book[-1, T.B_UPDATES] == 6
    assert book[-1, T.B_GAS] == pytest.approx(6 * 0.001 * 3000)


def test_marketable_on_arrival_is_rejected_or_a_taker():
    arrays, p = flat_case()
    arrays[0][1] = 2999.0  # bar 1 opens below the bid at 2999.5 decided at bar 0
    arrays[2][1] = 2998.0
    book, fills, orders = run_kernel(arrays, p)
    assert book[-1, T.B_REJECTED] == 1 and orders[0, T.O_REASON] == T.END_REJECTED
    assert not np.any(fills[:, T.F_BAR] == 1)
    _, fills, _ = run_kernel(arrays, {**p, "post_only": False, "taker": 5e-4})
    first = fills[fills[:, T.F_BAR] == 1]
    assert first[:, [T.F_SIDE, T.F_PRICE, T.F_KIND]].tolist() == [
        [1, 2999.0, T.KIND_TAKER]
    ]


def test_a_resting_order_the_market_is_through_fills_inside_the_bar():
    arrays, p = flat_case()
    for a in arrays[:3]:  # bar 5 opens 5 below the resting bid at 2999.5
        a[5] = 2995.0
    arrays[1][5] = 2997.0  # and trades up to 2997 at most
    _, fills, _ = run_kernel(arrays, p)
    buy = fills[(fills[:, T.F_BAR] == 5) & (fills[:, T.F_SIDE] > 0)]
    # not at its limit (outside the bar), not at the open (the best price):
    # the highest price the bar traded
    assert buy[:, [T.F_PRICE, T.F_KIND]].tolist() == [[2997.0, T.KIND_THROUGH]]


def test_participation_cap_leaves_the_rest_live_and_zero_volume_fills_nothing():
    arrays, p = flat_case()
    arrays[1][2:5] = 3001.0
    arrays[4][:] = [10, 10, 2, 0, 3, 10, 10, 10]  # volume per bar
    _, fills, _ = run_kernel(arrays, {**p, "part": 0.25, "requote": 1e9})
    sells = fills[fills[:, T.F_SIDE] < 0]
    assert sells[:, [T.F_BAR, T.F_SIZE]].tolist() == [[2, 0.5], [4, 0.5]]
    assert len(set(sells[:, T.F_ORDER].tolist())) == 1  # the same order, half each time


def test_nothing_fills_or_is_decided_on_stale_bars():
    arrays, p = flat_case()
    arrays[1][2:6] = 3001.0
    arrays[5][2:5] = False  # bars 2–4 halted
    _, fills, orders = run_kernel(arrays, p)
    assert not np.isin(fills[:, T.F_BAR], [2, 3, 4]).any()
    assert not np.isin(orders[:, T.O_SUBMIT], [2, 3, 4]).any()


def test_the_risk_stop_is_a_taker_order_that_goes_live_like_any():
    arrays, p = flat_case(12)
    arrays[2][2] = 2999.0  # bar 2 fills the bid at 2999.5 ...
    for a in arrays[:4]:  # ... then the price falls 30 from bar 4
        a[4:] = 2970.0
    arrays[1][4:] = 2970.0
    book, fills, orders = run_kernel(
        arrays, {**p, "max_dd": 20.0, "delay": 1, "taker": 5e-4, "gas": 0.001}
    )
    halted = np.flatnonzero(book[:, T.B_HALTED])
    stop = orders[orders[:, T.O_TYPE] == T.ORDER_MARKET]
    assert len(stop) == 1 and stop[0, T.O_SUBMIT] == halted[0]
    assert stop[0, T.O_LIVE] == halted[0] + 2  # latency like any order
    flat = fills[fills[:, T.F_KIND] == T.KIND_STOP]
    assert flat[:, T.F_BAR].tolist() == [halted[0] + 2]
    assert book[-1, T.B_POS] == 0.0
    assert book[-1, T.B_FEES] == pytest.approx(
        5e-4 * flat[0, T.F_PRICE] * flat[0, T.F_SIZE]
    )


def test_an_order_that_lands_during_a_halt_rests_and_fills_at_the_reopening():
    arrays, p = flat_case()
    arrays[5][1:4] = False  # bars 1-3 halted (frozen at 3000, no volume)
    arrays[4][1:4] = 0.0
    o, h, lo, c = arrays[:4]
    o[4], h[4], lo[4], c[4] = 2997.5, 2998.0, 2996.5, 2997.0  # it reopens lower
    # the bid at 2999.5 decided at bar 0 lands in the halt, not marketable
    # against the frozen price: it rests, and the reopening trades through it
    _, fills, orders = run_kernel(arrays, p)
    assert orders[0, T.O_LIVE] == 1 and orders[0, T.O_REASON] == T.END_FILLED
    buy = fills[fills[:, T.F_ORDER] == 0]
    assert buy[:, [T.F_BAR, T.F_PRICE, T.F_KIND]].tolist() == [
        [4, 2998.0, T.KIND_THROUGH]
    ]
    # one marketable against the frozen price is rejected when it lands
    o[1:4] = h[1:4] = lo[1:4] = c[1:4] = 2999.0
    _, _, orders = run_kernel(arrays, p)
    assert orders[0, T.O_REASON] == T.END_REJECTED and orders[0, T.O_END] == 1


def test_gas_is_paid_per_order_acted_on():
    """Two levels a side; the level-0 bid fills and reaches the bound, so the
    bid side is cancelled: one open order (level 1), one action."""
    arrays, p = flat_case()
    arrays[2][2] = 2999.2  # through the level-0 bid (2999.5), not level 1 (2999.0)
    p = {
        **p,
        "levels": 2,
        "spacing": 0.5,
        "max_inventory": 1.0,
        "gas": 0.001,
        "requote": 1e9,
    }
    book, fills, orders = run_kernel(arrays, p)
    assert fills[:, [T.F_BAR, T.F_LEVEL]].tolist() == [[2, 0]]
    assert book[1, T.B_UPDATES] == 4  # two orders a side placed
    assert book[2, T.B_UPDATES] == 5  # and one cancel
    cancelled = orders[orders[:, T.O_REASON] == T.END_CANCELLED]
    assert cancelled[:, T.O_LEVEL].tolist() == [1]
