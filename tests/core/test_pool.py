"""The Uniswap v3 LP kernel equals a plain-Python reference written from its
rules with range dicts; and, independently of both, its fills, fees, gas and
money obey what a pool could have given (prices inside the block's swap path,
conversions and fees only where a swap crossed a live range, gas only where a
transaction landed, equity = its parts)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ethpredict.core import types as T
from ethpredict.testing.pool_reference import (
    case,
    held,
    reference,
    run_kernel,
    run_static,
    static_reference,
)

SEEDS = range(150)
REL = 1e-9


def _close(a, b, scale, equal_nan=False):
    np.testing.assert_allclose(a, b, rtol=REL, atol=REL * scale, equal_nan=equal_nan)


def _scale(args, p):
    """Money in the case: a ladder's ETH at the highest price, plus its gas."""
    size = 1.5 * sum(p["size_mult"] ** lv for lv in range(p["levels"]))
    gas = args[14].max() * 1e-9 * p["gas_mint"] * 10
    return max(float(args[2].max()) * (size + p["max_inventory"]) * (1 + gas), 1.0)


@pytest.fixture(scope="module")
def runs():
    """Every seed's case and kernel output, run once for the whole module."""
    return {seed: (*case(seed), *run_kernel(*case(seed))) for seed in SEEDS}


@pytest.mark.parametrize("seed", SEEDS)
def test_kernel_equals_reference(runs, seed):
    args, p, book, fills, orders = runs[seed]
    rbook, rfills, rorders = reference(args, p)
    scale = _scale(args, p)
    assert book.shape == rbook.shape
    assert fills.shape == rfills.shape and orders.shape == rorders.shape
    _close(book, rbook, scale, equal_nan=True)
    _close(fills, rfills, scale)
    _close(orders, rorders, scale, equal_nan=True)


def test_the_cases_exercise_every_rule(runs):
    """The random cases reach every way a range ends, the stop, misses,
    halts, reversals (a range buying and selling in one block) and blocks of
    each kind, so the comparison above covers them."""
    reasons, kinds = set(), set()
    halted = reversed_ = 0
    for _, _, book, fills, orders in runs.values():
        reasons |= set(orders[:, T.O_REASON].astype(int).tolist())
        kinds |= set(fills[:, T.F_KIND].astype(int).tolist())
        halted += book[-1, T.B_HALTED] > 0
        key = fills[:, T.F_BAR] * 1e6 + fills[:, T.F_ORDER]
        reversed_ += len(key) - len(np.unique(key))
    assert reasons == set(range(len(T.END_REASONS)))
    assert kinds == {T.KIND_RANGE, T.KIND_STOP}
    assert 20 <= halted <= 120 and reversed_ > 50
    ps = [p for _, p, *_ in runs.values()]
    assert {p["p_miss"] > 0 for p in ps} == {True, False}
    assert {p["delay"] for p in ps} == {0, 1, 2}
    assert {p["width"] for p in ps} == {1, 2, 3}
    assert {p["requote"] for p in ps} == {0.0, 1.0, 2.0, 1e9}


# --- invariants from the inputs alone -------------------------------------------
def _path(args):
    """Per block: √price at its start, and the min/max price of its swaps with
    the price at its start."""
    o, c, *_ = args
    sw_start, sw_sqrt = args[4], args[5]
    before = np.r_[math.sqrt(o[0]), sw_sqrt]  # √price before swap k is before[k]
    start = before[sw_start[:-1]]
    lo, hi = start**2, start**2
    for j in range(len(c)):
        seg = sw_sqrt[sw_start[j] : sw_start[j + 1]] ** 2
        if len(seg):
            lo[j], hi[j] = min(lo[j], seg.min()), max(hi[j], seg.max())
    return start, before, lo, hi


def _crossed(args, before, j, lower, upper, falling=None):
    """Whether a swap of block ``j`` moved the price through (lower, upper)."""
    sw_start, sw_sqrt = args[4], args[5]
    for k in range(sw_start[j], sw_start[j + 1]):
        a, b = before[k] ** 2, sw_sqrt[k] ** 2
        if falling is not None and (b < a) != falling:
            continue
        if min(max(a, b), upper) > max(min(a, b), lower):
            return True
    return False


def _live_at(orders, j):
    rng = orders[:, T.O_TYPE] == T.ORDER_RANGE
    live, end = orders[:, T.O_LIVE], orders[:, T.O_END]
    return np.flatnonzero(rng & (live >= 0) & (live <= j) & ((end < 0) | (end > j)))


@pytest.mark.parametrize("seed", SEEDS)
def test_physical_invariants(runs, seed):
    args, p, book, fills, orders = runs[seed]
    mark, observed, sw_start = args[2], args[3], args[4]
    bd, gas = args[9], args[14]
    n = len(mark)
    scale = _scale(args, p)
    tol = REL * scale
    start, before, lo, hi = _path(args)
    has_swaps = np.diff(sw_start) > 0

    bar = fills[:, T.F_BAR].astype(int)
    oid = fills[:, T.F_ORDER].astype(int)
    side, price, size = fills[:, T.F_SIDE], fills[:, T.F_PRICE], fills[:, T.F_SIZE]
    rng_fill = fills[:, T.F_KIND] == T.KIND_RANGE
    # a range fills inside its block's swap path and its own bounds, only in
    # blocks with swaps, at most once per direction per block
    rb, rp = bar[rng_fill], price[rng_fill]
    assert np.all(rp >= lo[rb] * (1 - 1e-12)) and np.all(rp <= hi[rb] * (1 + 1e-12))
    ro = orders[oid[rng_fill]]
    assert np.all(rp >= ro[:, T.O_PRICE] * (1 - 1e-12))
    assert np.all(rp <= ro[:, T.O_UPPER] * (1 + 1e-12))
    assert np.all(has_swaps[rb])
    triple = np.column_stack([bar, oid, side])[rng_fill]
    assert len(np.unique(triple, axis=0)) == len(triple)
    # only while live: from its live_bar (after the delay) to before its end_bar
    live, end = ro[:, T.O_LIVE], ro[:, T.O_END]
    assert np.all((live >= 0) & (live <= rb) & ((end < 0) | (end > rb)))
    rng_o = orders[:, T.O_TYPE] == T.ORDER_RANGE
    landed = orders[rng_o & (orders[:, T.O_LIVE] >= 0)]
    assert np.all(landed[:, T.O_LIVE] >= landed[:, T.O_SUBMIT] + 1 + p["delay"])
    # decided at observed blocks with a quote, before any halt
    sub = orders[rng_o, T.O_SUBMIT].astype(int)
    assert np.all(observed[sub]) and np.all(np.isfinite(bd[sub, 0]))
    assert np.all(book[sub, T.B_HALTED] == 0)
    # a bid below the pool's close when decided, an ask above
    close = args[1]
    bids = orders[rng_o & (orders[:, T.O_SIDE] > 0)]
    asks = orders[rng_o & (orders[:, T.O_SIDE] < 0)]
    assert np.all(
        bids[:, T.O_UPPER] <= close[bids[:, T.O_SUBMIT].astype(int)] * (1 + 1e-9)
    )
    assert np.all(
        asks[:, T.O_PRICE] >= close[asks[:, T.O_SUBMIT].astype(int)] * (1 - 1e-9)
    )
    # a mint reverts exactly when the price at its landing has reached it
    for r in orders[rng_o & (orders[:, T.O_REASON] == T.END_REJECTED)]:
        s = start[int(r[T.O_END])]
        assert (s * s < r[T.O_UPPER]) if r[T.O_SIDE] > 0 else (s * s > r[T.O_PRICE])
    for r in landed:
        s2 = start[int(r[T.O_LIVE])] ** 2
        assert (
            (s2 >= r[T.O_UPPER] * (1 - 1e-12))
            if r[T.O_SIDE] > 0
            else (s2 <= r[T.O_PRICE] * (1 + 1e-12))
        )
    # filled ≤ size, = its fills, = what the price at its end implies
    signed = np.bincount(oid, weights=side * size, minlength=len(orders))
    assert np.all(orders[:, T.O_FILLED] <= orders[:, T.O_SIZE] * (1 + 1e-12))
    assert np.all(orders[:, T.O_FILLED] >= -1e-12)
    gap = np.abs(orders[:, T.O_SIDE] * orders[:, T.O_FILLED] - signed)
    assert np.all(gap <= 1e-9)  # (a conversion below DUST is not written)
    final = math.sqrt(close[-1])
    for r in landed:
        e = int(r[T.O_END])
        s = final if e < 0 else start[e]
        x, _ = held(
            r[T.O_LIQUIDITY], s, math.sqrt(r[T.O_PRICE]), math.sqrt(r[T.O_UPPER])
        )
        want = x if r[T.O_SIDE] > 0 else r[T.O_SIZE] - x
        assert r[T.O_FILLED] == pytest.approx(want, rel=1e-9, abs=1e-12)
    # money: equity = cash + position × mark = spread + inventory − fees − gas
    pos, cash, eq = book[:, T.B_POS], book[:, T.B_CASH], book[:, T.B_EQUITY]
    np.testing.assert_allclose(eq, cash + pos * mark, rtol=0, atol=tol)
    parts = (
        book[:, T.B_SPREAD] + book[:, T.B_INV] - book[:, T.B_FEES] - book[:, T.B_GAS]
    )
    np.testing.assert_allclose(eq, parts, rtol=0, atol=tol)
    # position = Σ fills' signed sizes + the fees earned in ETH; the fees
    # (ETH at the mark + quote) are the book's; earned only in blocks where a
    # swap crossed a range live then, in the token the swap paid in
    per_bar = np.bincount(bar, weights=side * size, minlength=n)
    per_quote = np.bincount(bar, weights=side * size * price, minlength=n)
    stop_bar = np.zeros(n, bool)
    stop_bar[bar[~rng_fill]] = True
    d = lambda col: np.diff(book[:, col], prepend=0.0)  # noqa: E731
    fee_eth = d(T.B_POS) - per_bar
    fee_q = d(T.B_CASH) + per_quote + d(T.B_GAS)
    ok = ~stop_bar
    assert np.all(fee_eth[ok] >= -1e-12) and np.all(fee_q[ok] >= -tol)
    np.testing.assert_allclose((fee_eth * mark + fee_q)[ok], -d(T.B_FEES)[ok], atol=tol)
    for j in np.flatnonzero(ok & ((fee_eth > 1e-12) | (fee_q > tol))):
        ids = _live_at(orders, j)
        for falling, earned in ((True, fee_eth[j] > 1e-12), (False, fee_q[j] > tol)):
            if earned:
                assert any(
                    _crossed(
                        args,
                        before,
                        j,
                        orders[i, T.O_PRICE],
                        orders[i, T.O_UPPER],
                        falling,
                    )
                    for i in ids
                ), (j, falling)
    for i in np.flatnonzero(rng_o & (orders[:, T.O_FEES] > 0)):
        r = orders[i]
        last = int(r[T.O_END]) if r[T.O_END] >= 0 else n
        assert any(
            _crossed(args, before, j, r[T.O_PRICE], r[T.O_UPPER])
            for j in range(int(r[T.O_LIVE]), last)
        )
    assert np.all(orders[rng_o, T.O_FEES] >= 0)
    # gas: per mint tried, per range burned and per stop swap at the block
    # they landed in, at its gas price and mark; nothing anywhere else
    units = np.zeros(n)
    o_live, o_end = orders[:, T.O_LIVE].astype(int), orders[:, T.O_END].astype(int)
    rej = rng_o & (orders[:, T.O_REASON] == T.END_REJECTED)
    for j in o_live[rng_o & (o_live >= 0)]:
        units[j] += p["gas_mint"]
    for j in o_end[rej]:
        units[j] += p["gas_mint"]
    for j in o_end[rng_o & (o_live >= 0) & (o_end >= 0)]:
        units[j] += p["gas_burn"] + p["gas_collect"]
    for j in bar[~rng_fill]:
        units[j] += p["gas_swap"]
    np.testing.assert_allclose(
        d(T.B_GAS), units * gas * 1e-9 * mark, rtol=1e-9, atol=tol
    )
    # counters
    assert book[-1, T.B_FILLS] == len(fills)
    assert book[-1, T.B_REJECTED] == rej.sum()


# --- the passive position ---------------------------------------------------------
def _static(seed):
    args, p = case(seed)
    rng = np.random.default_rng(10_000 + seed)
    n = len(args[2])
    start = int(rng.integers(0, n))
    g = (math.log(args[0][start]) - p["c0"]) / p["step"]
    lo = math.floor(g) - int(rng.integers(-2, 20))  # some ranges not around the price
    hi = lo + int(rng.integers(1, 30))
    lower, upper = (math.exp(p["c0"] + k * p["step"]) for k in (lo, hi))
    L = float(rng.choice([1e3, 1e5, 1e7]))
    return args, (start, lower, upper, L, p["fee"])


@pytest.mark.parametrize("seed", range(60))
def test_static_position_equals_reference(seed):
    args, spec = _static(seed)
    out = run_static(args, *spec)
    want = static_reference(args, *spec)
    scale = spec[3] * math.sqrt(spec[2]) * 1e-6 + float(args[2].max())
    _close(out, want, scale, equal_nan=True)
    # the tokens are what the price implies plus the fees: ETH only grows by
    # fees in ETH (value at the mark), the quote by fees in quote
    start, lower, upper, L, _ = spec
    x, y = (
        np.array(
            [
                held(L, math.sqrt(c), math.sqrt(lower), math.sqrt(upper))[k]
                for c in args[1]
            ]
        )
        for k in (0, 1)
    )
    fee_x, fee_y = out[start:, 0] - x[start:], out[start:, 1] - y[start:]
    assert np.all(np.diff(fee_x, prepend=0) >= -1e-9 * L) and np.all(fee_y >= -1e-9 * L)
    dfee = np.diff(out[start:, 2], prepend=0.0)
    dval = np.diff(fee_x, prepend=0) * args[2][start:] + np.diff(fee_y, prepend=0)
    _close(dfee, dval, scale)


# --- rules found by the reference (each once a departure of the kernel) -------------
STEP = 10 * math.log(1.0001)


def _pool(steps, marks=None, **over):
    """A pool with one swap a block, to ``steps[j]`` grid steps (10 ticks,
    aligned on 3000) above 3000 + 0.1 step; a bid wanted every block half a
    step under the mark, so its range is [−2, −1] steps; no ask (size 0);
    mark = pool price × ``marks``; no gas unless ``over`` sets it."""
    n = len(steps)
    s = math.sqrt(3000.0) * np.exp((0.1 + np.asarray(steps, float)) * STEP / 2)
    close = s**2
    o = np.r_[close[0], close[:-1]]
    before = np.r_[s[0], s[:-1]]
    sw_in = np.where(s < before, 1e6 * (1 / s - 1 / before), 1e6 * (s - before))
    mark = close * (1.0 if marks is None else np.asarray(marks, float))
    bd = np.tile([3000.0 * STEP * 0.5, 0.0], (n, 1))
    p = {
        "c0": math.log(3000.0),
        "step": STEP,
        "width": 1,
        "levels": 1,
        "size_mult": 1.0,
        "base_size": 1.0,
        "max_inventory": 5.0,
        "requote": 1.0,
        "delay": 0,
        "p_miss": 0.0,
        "fee": 5e-4,
        "gas_mint": 300e3,
        "gas_burn": 60e3,
        "gas_collect": 40e3,
        "gas_swap": 100e3,
        "max_drawdown": 0.0,
        **over,
    }
    args = (
        o,
        close,
        mark,
        np.ones(n, bool),
        np.arange(n + 1, dtype=np.int64),
        s,
        sw_in + 1e-9,
        np.full(n, 1e6),
        mark.copy(),
        bd,
        bd.copy(),
        np.ones(n),
        np.zeros(n),
        np.ones(2 * n),
        np.zeros(n),
    )
    return args, p


@pytest.mark.parametrize(
    ("steps", "marks", "over"),
    [
        (
            [0, 0, 0, -1.5, -1.5, -1.5, -1.5],
            [1, 1, 1, 0.99, 0.99, 0.99, 0.99],
            {"delay": 1, "max_drawdown": 1.0},
        ),
        ([0, 0, 0, -1.5, 0, 0], None, {"delay": 1, "requote": 0.0}),
        ([0, -1.5, 0, 0, 0, 0, 0, 0], None, {"delay": 1}),
        ([0, 0, -3.5, -3.5], None, {"levels": 2, "max_inventory": 1.0}),
    ],
)
def test_the_minimal_cases_agree_otherwise(steps, marks, over):
    """The minimal cases below: kernel == reference."""
    args, p = _pool(steps, marks, **over)
    for got, want in zip(run_kernel(args, p), reference(args, p), strict=True):
        _close(got, want, 1e4, equal_nan=True)


def test_stop_submit_bar_is_the_halting_block():
    """The bid (live from block 2) buys in block 3's dip while the mark is 1 %
    under the pool: the book halts at block 3; its stop lands at block 5."""
    args, p = _pool(
        [0, 0, 0, -1.5, -1.5, -1.5, -1.5],
        [1, 1, 1, 0.99, 0.99, 0.99, 0.99],
        delay=1,
        max_drawdown=1.0,
    )
    book, _, orders = run_kernel(args, p)
    stop = orders[orders[:, T.O_TYPE] == T.ORDER_MARKET]
    assert np.flatnonzero(book[:, T.B_HALTED])[0] == 3 and stop[0, T.O_LIVE] == 5
    assert stop[0, T.O_SUBMIT] == 3


def test_replaced_only_when_the_new_quote_went_live():
    """Bid A (decided at 0, live from 2) is re-sent at 2's close as B (requote
    0, landing at 4); block 3 dips into the range, so B's mint reverts at 4:
    A is burned with nothing newer live — cancelled, not replaced."""
    args, p = _pool([0, 0, 0, -1.5, 0, 0], delay=1, requote=0.0)
    _, _, orders = run_kernel(args, p)
    assert orders[1, T.O_REASON] == T.END_REJECTED and orders[1, T.O_END] == 4
    assert orders[0, T.O_REASON] == T.END_CANCELLED
    _, _, want = reference(args, p)
    np.testing.assert_array_equal(orders[:, T.O_REASON], want[:, T.O_REASON])


def test_a_reverted_side_is_resent():
    """The bid decided at block 0 lands at block 2 (delay 1); block 1's swap
    dips through it, so its mint reverts; the price is back at block 2 and
    stays: the kernel holds no bid for the rest of the data."""
    args, p = _pool([0, -1.5, 0, 0, 0, 0, 0, 0], delay=1)
    book, _, orders = run_kernel(args, p)
    assert orders[0, T.O_REASON] == T.END_REJECTED
    _, _, want = reference(args, p)
    assert len(want) == 2 and want[1, T.O_LIVE] == 4
    assert orders[1, T.O_LIVE] == 4 and not np.isnan(book[4:, T.B_BID]).all()


def test_the_position_stays_within_the_inventory_bound():
    """Two bid levels of 1 ETH under a bound of 1 ETH; the price falls
    through both: the ladder was cut to the room, 1 ETH."""
    args, p = _pool([0, 0, -3.5, -3.5], levels=2, max_inventory=1.0)
    book, _, _ = run_kernel(args, p)
    cap = p["max_inventory"] * p["base_size"]
    assert np.abs(book[:, T.B_POS]).max() <= cap + 1e-3  # (+ the fees in ETH)


def _traded(book, fills):
    """The position per block without the fees earned in ETH: Σ signed fills."""
    per = np.bincount(
        fills[:, T.F_BAR].astype(np.int64),
        fills[:, T.F_SIDE] * fills[:, T.F_SIZE],
        len(book),
    )
    return np.cumsum(per)


def test_the_random_cases_stay_within_the_inventory_bound(runs):
    """The ladders are cut to the bound's room: the ETH the book bought never
    takes it past the bound (the fees earned in ETH come on top), and its
    position never goes below minus the bound."""
    over = [
        seed
        for seed, (_, p, book, fills, _) in runs.items()
        # long: the traded ETH (fees in ETH come on top); short: the position
        if _traded(book, fills).max() > p["max_inventory"] * p["base_size"] + 1e-9
        or book[:, T.B_POS].min() < -p["max_inventory"] * p["base_size"] - 1e-9
    ]
    assert not over
