"""The backtest kernel equals a plain-Python reference; its PnL adds up."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ethpredict.core.backtest import BOOK_COLUMNS, backtest_nb


def reference(o, h, lo, c, bd, ad, bsz, asz, A, k, u, p):
    """The same book, written the obvious way with Python lists."""
    n, L, tick = len(c), p["levels"], p["tick"]
    lt = p["log_tick"]  # > 0: the geometric (Uniswap) grid

    def down(x):  # the grid point at or below x
        if lt == 0:
            return math.floor(x / tick) * tick
        return math.exp(math.floor(math.log(x) / lt) * lt) if x > 0 else math.nan

    def up(x):
        if lt == 0:
            return math.ceil(x / tick) * tick
        return math.exp(math.ceil(math.log(x) / lt) * lt)

    submitted = {}
    live = {
        "bid": [math.nan] * L,
        "ask": [math.nan] * L,
        "bsz": [0.0] * L,
        "asz": [0.0] * L,
    }
    last_bid = last_ask = math.nan
    pos = cash = peak = 0.0
    halted = False
    cum = {"spread": 0.0, "inv": 0.0, "fees": 0.0, "gas": 0.0, "upd": 0, "fills": 0,
           "fund": 0.0}  # fmt: skip
    book, fills = [], []
    cap = p["max_inventory"] * p["base_size"]
    for j in range(n):
        prev = c[j - 1] if j > 0 else o[j]
        if j - 1 - p["delay"] in submitted and not halted:
            live = submitted[j - 1 - p["delay"]]
        tk = tick if lt == 0 else prev * (math.exp(lt) - 1)
        if not halted:
            sides = ["ask", "bid"] if (h[j] - o[j]) < (o[j] - lo[j]) else ["bid", "ask"]
            for s in sides:
                for lv in range(L):
                    px = live[s][lv]
                    sz = live["asz" if s == "ask" else "bsz"][lv]
                    if math.isnan(px) or sz <= 0:
                        continue
                    depth = max(px - prev, 0.0) if s == "ask" else max(prev - px, 0.0)
                    if p["fill_model"] == 0:
                        hit = (
                            (h[j] >= px + p["through"] * tk)
                            if s == "ask"
                            else (lo[j] <= px - p["through"] * tk)
                        )
                    else:
                        lam = A[j] * math.exp(-k[j] * depth)
                        hit = u[j][2 * lv + (1 if s == "ask" else 0)] < 1 - math.exp(
                            -lam * 60.0
                        )
                    sign = -1.0 if s == "ask" else 1.0
                    if hit and abs(pos + sign * sz) <= cap + 1e-9:
                        fills.append((j, sign, px, sz, lv))
                        fee = p["fee"] * px * sz
                        pos += sign * sz
                        cash -= sign * sz * px + fee
                        cum["fees"] += fee
                        cum["spread"] += sign * sz * (prev - px)
                        cum["fills"] += 1
        cum["inv"] += pos * (c[j] - prev)
        fund = -pos * c[j] * p["funding"][j]  # longs pay a positive rate
        cum["fund"] += fund
        cash += fund
        equity = cash + pos * c[j]
        if not halted and p["max_dd"] > 0:
            peak = max(peak, equity)
            if peak - equity > p["max_dd"]:
                fee = p["taker"] * abs(pos) * c[j]
                cash += pos * c[j] - fee - p["gas"] * c[j]
                cum["fees"] += fee
                cum["gas"] += p["gas"] * c[j]
                cum["upd"] += 1
                pos, halted, equity = 0.0, True, cash
                live = {
                    "bid": [math.nan] * L,
                    "ask": [math.nan] * L,
                    "bsz": [0.0] * L,
                    "asz": [0.0] * L,
                }
        if not halted and not math.isnan(bd[j][0]):
            q = pos / p["base_size"]
            b0 = down(c[j] - bd[j][0] - bd[j][1] * q)
            a0 = up(c[j] + ad[j][0] - ad[j][1] * q)
            if lt == 0:
                tk = tick
                b0, a0 = min(b0, c[j] - tick), max(a0, c[j] + tick)
            else:  # strictly below / above the mid on the grid
                tk = c[j] * (math.exp(lt) - 1)
                b0 = min(b0, math.exp(math.floor(math.log(c[j]) / lt - 1e-9) * lt))
                a0 = max(a0, math.exp(math.ceil(math.log(c[j]) / lt + 1e-9) * lt))
            if q >= p["max_inventory"] - 1e-9:
                b0 = math.nan
            if q <= -p["max_inventory"] + 1e-9:
                a0 = math.nan
            thr = p["requote"] * tk - 1e-9

            def changed(new, old, thr=thr):
                if math.isnan(new) != math.isnan(old):
                    return True
                return not math.isnan(new) and abs(new - old) >= thr

            if changed(b0, last_bid) or changed(a0, last_ask):
                if lt == 0:
                    steps = [round(lv * p["spacing"] / tick) * tick for lv in range(L)]
                    bids = [b0 - s for s in steps]
                    asks = [a0 + s for s in steps]
                else:  # each level snapped outwards onto the grid
                    bids = [math.exp(math.floor(math.log(b0 - lv * p["spacing"]) / lt + 1e-9)
                                     * lt) if b0 - lv * p["spacing"] > 0 else math.nan
                            for lv in range(L)]  # fmt: skip
                    asks = [math.exp(math.ceil(math.log(a0 + lv * p["spacing"]) / lt - 1e-9)
                                     * lt) for lv in range(L)]  # fmt: skip
                submitted[j] = {
                    "bid": bids,
                    "ask": asks,
                    "bsz": [bsz[j] * p["mult"] ** lv for lv in range(L)],
                    "asz": [asz[j] * p["mult"] ** lv for lv in range(L)],
                }
                last_bid, last_ask = b0, a0
                cash -= p["gas"] * c[j]
                equity -= p["gas"] * c[j]
                cum["gas"] += p["gas"] * c[j]
                cum["upd"] += 1
        book.append(
            [
                pos,
                cash,
                equity,
                live["bid"][0],
                live["ask"][0],
                cum["spread"],
                cum["inv"],
                cum["fees"],
                cum["gas"],
                cum["upd"],
                cum["fills"],
                1.0 if halted else 0.0,
                cum["fund"],
            ]
        )
    return np.array(book), np.array(fills).reshape(-1, 5)


def case(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    c = 3000 + np.cumsum(rng.normal(0, 2, n))
    o = np.r_[3000.0, c[:-1]]
    h = np.maximum(o, c) + rng.exponential(1.5, n)
    lo = np.minimum(o, c) - rng.exponential(1.5, n)
    L = int(rng.integers(1, 4))
    bd = np.column_stack([rng.uniform(0.1, 3, n), rng.uniform(0, 0.5, n)])
    ad = np.column_stack([rng.uniform(0.1, 3, n), rng.uniform(0, 0.5, n)])
    bd[rng.random(n) < 0.1, 0] = np.nan  # bars without a decision
    p = {"levels": L, "spacing": float(rng.uniform(0, 2)), "mult": float(rng.uniform(0.5, 1.5)),
         "tick": 0.01, "base_size": 1.0, "max_inventory": float(rng.integers(1, 6)),
         "requote": float(rng.choice([0, 1, 5, 50])), "delay": int(rng.integers(0, 3)),
         "gas": float(rng.uniform(0, 0.002)), "fee": float(rng.uniform(-1e-4, 3e-4)),
         "taker": 5e-4, "fill_model": int(seed % 2), "through": float(rng.integers(0, 3)),
         "max_dd": float(rng.choice([0.0, 20.0])),
         "log_tick": float(rng.choice([0.0, 10 * math.log(1.0001), 60 * math.log(1.0001)])),
         "funding": np.where(rng.random(n) < 0.05, rng.normal(0, 5e-4, n), 0.0)}  # fmt: skip
    bsz = rng.uniform(0.2, 1.5, n)
    asz = rng.uniform(0.2, 1.5, n)
    A = rng.uniform(0.001, 0.05, n)
    k = rng.uniform(0.2, 3, n)
    u = rng.random((n, 2 * L))
    return (o, h, lo, c, bd, ad, bsz, asz, A, k, u), p


def run_kernel(args, p):
    o, h, lo, c, bd, ad, bsz, asz, A, k, u = args
    n, L = len(c), p["levels"]
    book = np.zeros((n, len(BOOK_COLUMNS)))
    fills = np.zeros((2 * n * L, 5))
    nf = backtest_nb(o, h, lo, c, bd, ad, bsz, asz, A, k, u, L, p["spacing"], p["mult"],
                     p["tick"], p["base_size"], p["max_inventory"], p["requote"], p["delay"],
                     p["gas"], p["fee"], p["taker"], p["fill_model"], p["through"], 60.0,
                     p["max_dd"], p["funding"], p["log_tick"], book, fills)  # fmt: skip
    return book, fills[:nf]


@pytest.mark.parametrize("seed", range(120))
def test_kernel_equals_reference(seed):
    args, p = case(seed)
    book, fills = run_kernel(args, p)
    rbook, rfills = reference(*args, p)
    np.testing.assert_allclose(book, rbook, rtol=1e-12, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(fills, rfills, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("seed", range(20))
def test_pnl_decomposition_sums_to_equity(seed):
    args, p = case(seed)
    book, _ = run_kernel(args, p)
    col = {name: i for i, name in enumerate(BOOK_COLUMNS)}
    total = (book[:, col["spread_pnl"]] + book[:, col["inventory_pnl"]]
             - book[:, col["fees"]] - book[:, col["gas"]] + book[:, col["funding"]])  # fmt: skip
    np.testing.assert_allclose(total, book[:, col["equity"]], atol=1e-7)


def test_inventory_never_exceeds_the_bound():
    for seed in range(30):
        args, p = case(seed)
        book, _ = run_kernel(args, p)
        assert np.abs(book[:, 0]).max() <= p["max_inventory"] * p["base_size"] + 1e-9


def test_touch_needs_a_trade_through_and_quotes_lag_by_delay():
    # flat market, one bar spikes to 3001: the ask at 3000.5 fills only if
    # the high is >= ask + through ticks, and only once the quote is live
    n = 6
    c = np.full(n, 3000.0)
    o = c.copy()
    h = c.copy()
    h[3] = 3000.5
    lo = c.copy()
    bd = np.tile([0.5, 0.0], (n, 1))
    ad = np.tile([0.5, 0.0], (n, 1))
    ones = np.ones(n)
    base = {"levels": 1, "spacing": 0.0, "mult": 1.0, "tick": 0.01, "base_size": 1.0,
            "max_inventory": 5.0, "requote": 1.0, "delay": 0, "gas": 0.0, "fee": 0.0,
            "taker": 0.0, "fill_model": 0, "through": 0.0, "max_dd": 0.0,
            "log_tick": 0.0, "funding": np.zeros(n)}  # fmt: skip
    args = (o, h, lo, c, bd, ad, ones, ones, ones, ones, np.zeros((n, 2)))
    _, fills = run_kernel(args, base)
    assert fills.tolist() == [[3, -1, 3000.5, 1, 0]]
    _, fills = run_kernel(args, {**base, "through": 1.0})
    assert len(fills) == 0  # touching is not trading through
    _, fills = run_kernel(args, {**base, "delay": 3})
    assert len(fills) == 0  # the quote decided at bar 0 is live only from bar 4
