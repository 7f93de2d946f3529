"""Test support shared by the tests and the benchmarks (installed with the
package, so a benchmark needs nothing but the project).

:func:`reference` is the backtest kernel written the obvious way, with order
dicts and Python floats; :func:`case` draws a random market and policy;
:func:`run_kernel` runs :func:`ethpredict.core.backtest.backtest_nb` on the
same arguments.
"""

from __future__ import annotations

import math

import numpy as np

from ethpredict.core import types as T
from ethpredict.core.backtest import backtest_nb

TICK = math.log(1.0001)  # one Uniswap tick in log price


def reference(o, h, lo, c, vol, ok, bd, ad, bsz, asz, A, k, u, fund, p):  # noqa: PLR0912, PLR0915
    """The same book, written the obvious way: every order a dict."""
    n, L, tick, lt = len(c), p["levels"], p["tick"], p["log_tick"]
    cap = p["max_inventory"] * p["base_size"]

    def down(x, eps=0.0):
        if lt == 0:
            return math.floor(x / tick) * tick
        return math.exp(math.floor(math.log(x) / lt + eps) * lt) if x > 0 else math.nan

    def up(x, eps=0.0):
        if lt == 0:
            return math.ceil(x / tick) * tick
        return math.exp(math.ceil(math.log(x) / lt - eps) * lt)

    orders = []  # dicts, index = id
    inflight = []  # (live_bar, side or "stop", [ids])
    live = {"bid": [None] * L, "ask": [None] * L}
    latest = {"bid": -1, "ask": -1}
    used = {"bid": 0, "ask": 0}
    open_ = {"bid": [False] * L, "ask": [False] * L}  # the latest submission's, unused
    last = {"bid": math.nan, "ask": math.nan}
    flat = None
    pos = cash = peak = 0.0
    halted = False
    S = dict(spread=0.0, inv=0.0, fees=0.0, gas=0.0, upd=0, fund=0.0, rej=0)
    book, fills = [], []

    def end(order, bar, reason):
        order["end_bar"], order["reason"] = bar, reason

    def use_up(order, sd, bar, reason):
        """The order is filled or rejected: its slot empties; one more of its
        side's latest submission is used up."""
        end(order, bar, reason)
        live[sd][order["level"]] = None
        if order["id"] >= latest[sd]:
            used[sd] += 1
            open_[sd][order["level"]] = False

    def fill(j, order, sign, px, x, kind, prev):
        nonlocal pos, cash
        fills.append((j, sign, px, x, order["level"], order["id"], kind))
        rate = p["taker"] if kind in (T.KIND_TAKER, T.KIND_STOP) else p["fee"]
        fee = rate * px * x
        pos += sign * x
        cash -= sign * x * px + fee
        S["fees"] += fee
        S["spread"] += sign * x * (prev - px)
        order["filled"] += x

    for j in range(n):
        prev = c[j - 1] if j > 0 else o[j]
        for item in [f for f in inflight if f[0] == j]:
            inflight.remove(item)
            _, side, ids = item
            if side == "stop":
                for sd in ("bid", "ask"):
                    for lv in range(L):
                        if live[sd][lv] is not None:
                            end(live[sd][lv], j, T.END_CANCELLED)
                            live[sd][lv] = None
                flat = orders[ids[0]]
                flat["live_bar"] = j
                if abs(pos) > 1e-9:
                    flat["side"], flat["size"] = (-1.0 if pos > 0 else 1.0), abs(pos)
                else:
                    end(flat, j, T.END_CANCELLED)
                    flat = None
                continue
            for lv in range(L):
                old, new = live[side][lv], ids[lv]
                if old is not None:
                    end(old, j, T.END_REPLACED if new is not None else T.END_CANCELLED)
                live[side][lv] = None if new is None else orders[new]
                if new is not None:
                    orders[new]["live_bar"] = j
                    orders[new]["arriving"] = True
        if not (ok[j] and vol[j] > 0):  # the post-only check on arrival
            for sd in ("bid", "ask"):
                for lv in range(L):
                    order = live[sd][lv]
                    if order is None or not order["arriving"]:
                        continue
                    px = order["price"]
                    if not (px >= o[j] if sd == "bid" else px <= o[j]):
                        order["arriving"] = False
                    elif p["post_only"]:
                        use_up(order, sd, j, T.END_REJECTED)
                        S["rej"] += 1
        else:
            budget = p["part"] * vol[j]
            tk = prev * (math.exp(lt) - 1) if lt else tick
            if flat is not None and budget > 1e-9:
                x = min(flat["size"] - flat["filled"], budget)
                fill(j, flat, flat["side"], o[j], x, T.KIND_STOP, prev)
                budget -= x
                if flat["size"] - flat["filled"] <= 1e-9:
                    end(flat, j, T.END_FILLED)
                    flat = None
            path = ["ask", "bid"] if (h[j] - o[j]) < (o[j] - lo[j]) else ["bid", "ask"]
            for stage, sides in ((0, ["bid", "ask"]), (1, path[:1]), (2, path[1:])):
                for sd in sides:
                    sign = 1.0 if sd == "bid" else -1.0
                    for lv in range(L):
                        order = live[sd][lv]
                        if order is None:
                            continue
                        px = order["price"]
                        through = px >= o[j] if sd == "bid" else px <= o[j]
                        if stage == 0:
                            if not through:
                                continue
                            if order["arriving"] and p["post_only"]:
                                use_up(order, sd, j, T.END_REJECTED)
                                S["rej"] += 1
                                continue
                            if order["arriving"]:
                                kind, px = T.KIND_TAKER, o[j]
                            elif sd == "bid":
                                kind, px = T.KIND_THROUGH, min(px, h[j])
                            else:
                                kind, px = T.KIND_THROUGH, max(px, lo[j])
                        else:
                            if through:
                                continue
                            if p["fill_model"] == T.FILL_TOUCH:
                                kind = T.KIND_TOUCH
                                edge = lo[j] if sd == "bid" else h[j]
                                hit = sign * (px - sign * p["through"] * tk - edge) >= 0
                            else:
                                kind = T.KIND_INTENSITY
                                reached = lo[j] <= px if sd == "bid" else h[j] >= px
                                depth = max(sign * (prev - px), 0.0)
                                lam = A[j] * math.exp(-k[j] * depth)
                                col = 2 * lv + (0 if sd == "bid" else 1)
                                hit = reached and u[j][col] < 1 - math.exp(-lam * 60.0)
                            if not hit:
                                continue
                        room = cap - pos if sd == "bid" else cap + pos
                        x = min(order["size"] - order["filled"], budget, room)
                        if x <= 1e-9:
                            continue
                        fill(j, order, sign, px, x, kind, prev)
                        budget -= x
                        if order["size"] - order["filled"] <= 1e-9:
                            use_up(order, sd, j, T.END_FILLED)
            for sd in ("bid", "ask"):
                for order in live[sd]:
                    if order is not None:
                        order["arriving"] = False
        S["inv"] += pos * (c[j] - prev)
        cash += -pos * c[j] * fund[j]
        S["fund"] += -pos * c[j] * fund[j]
        equity = cash + pos * c[j]
        gas = p["gas"] * c[j]
        if not halted and p["max_dd"] > 0:
            peak = max(peak, equity)
            if peak - equity > p["max_dd"]:
                halted = True
                acts = 1 + sum(sum(open_[sd]) for sd in ("bid", "ask"))
                orders.append(
                    dict(
                        id=len(orders),
                        side=0.0,
                        level=-1,
                        type=1,
                        submit=j,
                        live_bar=-1,
                        end_bar=-1,
                        price=math.nan,
                        size=0.0,
                        filled=0.0,
                        reason=0,
                    )
                )
                inflight.append((j + 1 + p["delay"], "stop", [len(orders) - 1]))
                S["upd"] += acts
                S["gas"] += acts * gas
                cash -= acts * gas
                equity -= acts * gas
        if not halted and ok[j] and not math.isnan(bd[j][0]):
            q = pos / p["base_size"]
            b0 = down(c[j] - bd[j][0] - bd[j][1] * q)
            a0 = up(c[j] + ad[j][0] - ad[j][1] * q)
            if lt == 0:
                tk = tick
                b0, a0 = min(b0, c[j] - tick), max(a0, c[j] + tick)
            else:
                tk = c[j] * (math.exp(lt) - 1)
                b0 = min(b0, down(c[j], -1e-9))
                a0 = max(a0, up(c[j], -1e-9))
            if q >= p["max_inventory"] - 1e-9:
                b0 = math.nan
            if q <= -p["max_inventory"] + 1e-9:
                a0 = math.nan
            for sd, new0 in (("bid", b0), ("ask", a0)):
                old0 = last[sd]
                if math.isnan(new0):
                    if math.isnan(old0):
                        continue
                    if not any(open_[sd]):
                        last[sd] = math.nan
                        continue
                elif not (
                    math.isnan(old0)
                    or used[sd] > 0
                    or abs(new0 - old0) >= p["requote"] * tk - 1e-9
                ):
                    continue
                latest[sd], used[sd], last[sd] = len(orders), 0, new0
                ids = []
                sz = bsz[j] if sd == "bid" else asz[j]
                for lv in range(L):
                    if math.isnan(new0):
                        ids.append(None)
                        continue
                    if lt == 0:
                        step = round(lv * p["spacing"] / tick) * tick
                        px = new0 - step if sd == "bid" else new0 + step
                    else:
                        step = lv * p["spacing"]
                        px = (
                            down(new0 - step, 1e-9)
                            if sd == "bid"
                            else up(new0 + step, 1e-9)
                        )
                    size = sz * p["mult"] ** lv
                    if math.isnan(px) or not size > 0:
                        ids.append(None)
                        continue
                    orders.append(
                        dict(
                            id=len(orders),
                            side=1.0 if sd == "bid" else -1.0,
                            level=lv,
                            type=0,
                            submit=j,
                            live_bar=-1,
                            end_bar=-1,
                            price=px,
                            size=size,
                            filled=0.0,
                            reason=0,
                        )
                    )
                    ids.append(len(orders) - 1)
                inflight.append((j + 1 + p["delay"], sd, ids))
                # one action per order placed, and per open order cancelled
                acts = sum(
                    1 if i is not None else open_[sd][lv] for lv, i in enumerate(ids)
                )
                open_[sd] = [i is not None for i in ids]
                S["upd"] += acts
                S["gas"] += acts * gas
                cash -= acts * gas
                equity -= acts * gas

        def quote(sd):
            order = live[sd][0]
            return math.nan if order is None else order["price"]

        book.append(
            [
                pos,
                cash,
                equity,
                quote("bid"),
                quote("ask"),
                S["spread"],
                S["inv"],
                S["fees"],
                S["gas"],
                S["upd"],
                len(fills),
                1.0 if halted else 0.0,
                S["fund"],
                S["rej"],
            ]
        )
    table = [
        [
            d["side"],
            d["level"],
            d["type"],
            d["submit"],
            d["live_bar"],
            d["end_bar"],
            d["price"],
            d["size"],
            d["filled"],
            d["reason"],
        ]
        for d in orders
    ]
    return (
        np.array(book),
        np.array(fills).reshape(-1, len(T.FILL_COLUMNS)),
        np.array(table).reshape(-1, len(T.ORDER_COLUMNS)),
    )


def case(seed):
    """A random market and a random policy, including halts (stale bars),
    zero-volume bars, gaps between bars and every venue setting."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    c = 3000 + np.cumsum(rng.normal(0, 2, n))
    o = np.r_[3000.0, c[:-1]] + rng.normal(0, 0.3, n) * (rng.random(n) < 0.3)
    o[rng.random(n) < 0.03] += rng.normal(0, 8)  # a gap between bars
    h = np.maximum(o, c) + rng.exponential(1.5, n)
    lo = np.minimum(o, c) - rng.exponential(1.5, n)
    vol = rng.exponential(3.0, n) * (rng.random(n) > 0.05)
    ok = np.ones(n, bool)
    if n > 20 and seed % 3 == 0:  # a halt
        a = int(rng.integers(0, n - 10))
        ok[a : a + int(rng.integers(3, 10))] = False
    L = int(rng.integers(1, 4))
    bd = np.column_stack([rng.uniform(-0.5, 3, n), rng.uniform(0, 0.5, n)])
    ad = np.column_stack([rng.uniform(-0.5, 3, n), rng.uniform(0, 0.5, n)])
    bd[rng.random(n) < 0.1, 0] = np.nan  # bars without a decision
    p = {
        "levels": L,
        "spacing": float(rng.uniform(0, 2)),
        "mult": float(rng.uniform(0.5, 1.5)),
        "tick": 0.01,
        "base_size": 1.0,
        "max_inventory": float(rng.integers(1, 6)),
        "requote": float(rng.choice([0, 1, 5, 50])),
        "delay": int(rng.integers(0, 3)),
        "gas": float(rng.uniform(0, 0.002)),
        "fee": float(rng.uniform(-1e-4, 3e-4)),
        "taker": 5e-4,
        "fill_model": int(seed % 2),
        "through": float(rng.integers(0, 3)),
        "max_dd": float(rng.choice([0.0, 20.0])),
        "post_only": bool(rng.random() < 0.7),
        "part": float(rng.choice([0.05, 0.3, 1.0])),
        "log_tick": float(rng.choice([0.0, 10 * TICK, 60 * TICK])),
    }
    bsz = rng.uniform(0.2, 1.5, n)
    asz = rng.uniform(0.2, 1.5, n)
    A = rng.uniform(0.001, 0.05, n)
    k = rng.uniform(0.2, 3, n)
    u = rng.random((n, 2 * L))
    fund = np.where(rng.random(n) < 0.05, rng.normal(0, 5e-4, n), 0.0)
    return (o, h, lo, c, vol, ok, bd, ad, bsz, asz, A, k, u, fund), p


def kernel_args(args, p) -> tuple:
    """:func:`backtest_nb`'s arguments before its three output blocks, from
    :func:`case`'s arguments (the depths and skews split into contiguous
    columns, as the wrapper passes them)."""
    o, h, lo, c, vol, ok, bd, ad, bsz, asz, A, k, u, fund = args
    bd0, bsk, ad0, ask = (
        np.ascontiguousarray(x[:, i]) for x in (bd, ad) for i in (0, 1)
    )
    return (
        o,
        h,
        lo,
        c,
        vol,
        ok,
        bd0,
        bsk,
        ad0,
        ask,
        bsz,
        asz,
        A,
        k,
        u,
        fund,
        p["levels"],
        p["spacing"],
        p["mult"],
        p["tick"],
        p["log_tick"],
        p["base_size"],
        p["max_inventory"],
        p["requote"],
        p["delay"],
        p["gas"],
        p["fee"],
        p["taker"],
        p["post_only"],
        p["part"],
        p["fill_model"],
        p["through"],
        60.0,
        p["max_dd"],
    )


def run_kernel(args, p, out=None, prepared=None):
    """The kernel on :func:`case`'s arguments: ``(book, fills, orders)``;
    ``out`` = preallocated ``(book, fills, orders)`` blocks to reuse;
    ``prepared`` = ``kernel_args(args, p)`` made once (a benchmark's loop)."""
    n, L = len(args[3]), p["levels"]
    if out is None:
        out = (
            np.zeros((n, len(T.BOOK_COLUMNS))),
            np.zeros((n * (2 * L + 1), len(T.FILL_COLUMNS))),
            np.zeros((n * 2 * L + 1, len(T.ORDER_COLUMNS))),
        )
    book, fills, orders = out
    nf, no = backtest_nb(*(prepared or kernel_args(args, p)), book, fills, orders)
    return book, fills[:nf], orders[:no]
