"""Test support for the Uniswap v3 LP kernels (installed with the package, so a
benchmark needs nothing but the project).

:func:`reference` is :func:`ethpredict.core.pool.pool_book_nb` written from
the rules in its module docstring and :mod:`ethpredict.core.liquidity`'s,
with range dicts and Python floats; :func:`static_reference` is
:func:`~ethpredict.core.pool.static_position_nb` the same way. :func:`case`
draws a random pool (several swaps a block, empty and gap-filled blocks) and a
random policy; :func:`run_kernel` / :func:`run_static` run the kernels on it.

Writing it found four rules the kernel had wrong (the stop's decision bar,
"replaced" only when a new range went live, re-sending a side whose mint
reverted, and ladders cut to the inventory bound's room); each has a
minimal case in ``tests/core/test_pool.py``.
"""

from __future__ import annotations

import math

import numpy as np

from ethpredict.core import types as T
from ethpredict.core.pool import pool_book_nb, static_position_nb

TICK = math.log(1.0001)
GRID_TOL = 1e-9  # grid steps: "at or below the price" within rounding
DUST = 1e-12  # ETH: a conversion this small is not written as a fill


# --- Uniswap v3 whole-token math (core/liquidity.py's module docstring) -------
def held(L, s, sa, sb):
    """ETH and quote token held at √p = ``s`` by ``L`` on [sa², sb²]."""
    c = min(max(s, sa), sb)
    return L * (1.0 / c - 1.0 / sb), L * (c - sa)


def conversion(L, s0, s1, sa, sb):
    """The ETH a range buys (negative: sells) as √p moves ``s0`` → ``s1``, and
    the price of that conversion: quote paid = ETH × √p0·√p1 (both clamped to
    the range), since L·(c1 − c0) = −L·(1/c1 − 1/c0)·c0·c1."""
    c0, c1 = min(max(s0, sa), sb), min(max(s1, sa), sb)
    return L * (1.0 / c1 - 1.0 / c0), c0 * c1


def fee_share(L, s0, s1, sa, sb, amount_in, L_act):
    """The range's share of a swap's input: the part of the move inside the
    range (in the input token's terms) × L / (L + L_act)."""
    lo, hi = max(min(s0, s1), sa), min(max(s0, s1), sb)
    if not (hi > lo and s0 != s1):
        return 0.0
    eth_in = s1 < s0  # then the move is measured in 1/√p, else in √p
    part = (1 / lo - 1 / hi) / (1 / s1 - 1 / s0) if eth_in else (hi - lo) / (s1 - s0)
    return amount_in * part * L / (L + L_act)


def sell_to_pool(x, p, L_act, fee):
    """Sell ``x`` ETH (negative: buy) to constant liquidity at ``p``: the quote
    received (negative: paid) with and without the fee tier on the input."""
    if L_act <= 0.0:
        gross = x * p
        return (gross * (1.0 - fee) if x > 0 else gross / (1.0 - fee)), gross
    s0 = math.sqrt(p)

    def quote(f):
        if x > 0:  # ETH in, net of the fee, moves 1/√p up
            return L_act * (s0 - 1.0 / (1.0 / s0 + x * (1.0 - f) / L_act))
        s1 = 1.0 / (1.0 / s0 + x / L_act)  # ETH out
        return -L_act * (s1 - s0) / (1.0 - f)

    return quote(fee), quote(0.0)


# --- the book -------------------------------------------------------------------
def reference(args, p):  # noqa: PLR0912, PLR0915
    """The LP book, written the obvious way: every range a dict.

    ``args``/``p`` as :func:`case` returns them. Returns ``(book, fills,
    orders)`` laid out as the kernel writes them (orders by id; fills in the
    order they happened: per block the stop first, then each range's buys and
    its sells).
    """
    (
        _,
        _,
        mark,
        observed,
        sw_start,
        sw_sqrt,
        sw_in,
        sw_liq,
        center,
        bd,
        ad,
        bsz,
        asz,
        miss,
        gas,
    ) = args
    n, levels, width = len(mark), p["levels"], p["width"]
    c0, step = p["c0"], p["step"]

    orders, fills, book = [], [], []
    live = {T.BID: [], T.ASK: []}  # the side's live ranges
    flight = {T.BID: None, T.ASK: None}  # {"land": block, "ranges": [...]}
    last_key = {T.BID: math.nan, T.ASK: math.nan}
    reverted = {T.BID: False, T.ASK: False}  # a mint of its latest tx reverted
    stop = None  # {"land": block, "halt": block}
    s = math.sqrt(args[0][0])  # √(pool price)
    l_act = 0.0
    pos = cash = peak = 0.0
    halted = False
    S = dict(spread=0.0, inv=0.0, fees=0.0, gas=0.0, upd=0, rej=0)

    def new_order(side, level, kind, bar, lower, upper, size, L):
        orders.append(
            dict(
                id=len(orders),
                side=side,
                level=level,
                type=kind,
                submit=bar,
                live=-1,
                end=-1,
                lower=lower,
                size=size,
                filled=0.0,
                reason=T.END_OPEN,
                upper=upper,
                L=L,
                fees=0.0,
            )
        )
        return orders[-1]

    def converted(r):
        """ETH the range converted so far (bought: a bid; sold: an ask)."""
        x, _ = held(r["L"], s, math.sqrt(r["lower"]), math.sqrt(r["upper"]))
        return x if r["side"] > 0 else r["size"] - x

    def burn(r, j, reason):
        r["filled"], r["end"], r["reason"] = converted(r), j, reason
        S["upd"] += 1
        return p["gas_burn"] + p["gas_collect"]

    for j in range(n):
        m = mark[j]
        S["inv"] += pos * (m - (mark[j - 1] if j else m))
        gas_usd = gas[j] * 1e-9 * m
        units = 0.0
        # the stop's transaction: drop what is in flight, burn, swap the position
        if stop is not None and j >= stop["land"] and miss[2 * j] >= p["p_miss"]:
            for side in (T.BID, T.ASK):
                if flight[side] is not None:
                    for r in flight[side]["ranges"]:
                        r["end"], r["reason"] = j, T.END_CANCELLED
                    flight[side] = None
                for r in live[side]:
                    units += burn(r, j, T.END_CANCELLED)
                live[side] = []
            if abs(pos) > DUST:
                net, gross = sell_to_pool(pos, s * s, l_act, p["fee"])
                sub = stop["halt"]
                mo = new_order(
                    -math.copysign(1.0, pos),
                    -1,
                    T.ORDER_MARKET,
                    sub,
                    math.nan,
                    math.nan,
                    abs(pos),
                    math.nan,
                )
                mo.update(live=j, end=j, filled=abs(pos), reason=T.END_FILLED)
                fills.append(
                    (j, mo["side"], gross / pos, abs(pos), -1, mo["id"], T.KIND_STOP)
                )
                S["spread"] += gross - pos * m
                S["fees"] += gross - net  # what the fee tier cost
                cash += net
                pos = 0.0
                units += p["gas_swap"]
                S["upd"] += 1
            stop = None
        # the sides' transactions: burn every live range, then mint the new
        for side in (T.BID, T.ASK):
            tx = flight[side]
            if tx is None or j < tx["land"] or miss[2 * j + side] < p["p_miss"]:
                continue
            flight[side] = None
            minted = []
            for r in tx["ranges"]:
                sa, sb = math.sqrt(r["lower"]), math.sqrt(r["upper"])
                units += p["gas_mint"]  # spent whether it lands or reverts
                S["upd"] += 1
                reached = s < sb if side == T.BID else s > sa
                if reached:  # needs the other token: reverts
                    r["end"], r["reason"] = j, T.END_REJECTED
                    S["rej"] += 1
                    reverted[side] = True
                else:
                    r["live"] = j
                    minted.append(r)
            replaced = bool(minted)
            for r in live[side]:
                units += burn(r, j, T.END_REPLACED if replaced else T.END_CANCELLED)
            live[side] = minted
        cash -= units * gas_usd
        S["gas"] += units * gas_usd
        # the block's swaps
        k0, k1 = sw_start[j], sw_start[j + 1]
        ranges = live[T.BID] + live[T.ASK]
        moves = {id(r): [[0.0, 0.0], [0.0, 0.0]] for r in ranges}  # buys, sells
        for k in range(k0, k1):
            s1 = sw_sqrt[k]
            for r in ranges:
                sa, sb = math.sqrt(r["lower"]), math.sqrt(r["upper"])
                dx, px = conversion(r["L"], s, s1, sa, sb)
                acc = moves[id(r)][0 if dx > 0 else 1]
                acc[0] += dx
                acc[1] += dx * px
                share = fee_share(r["L"], s, s1, sa, sb, sw_in[k], sw_liq[k])
                if share > 0.0:
                    earned = p["fee"] * share
                    if s1 < s:  # paid in ETH: to the wallet, valued at the mark
                        pos += earned
                        r["fees"] += earned * m
                        S["fees"] -= earned * m
                    else:
                        cash += earned
                        r["fees"] += earned
                        S["fees"] -= earned
            s = s1
            l_act = sw_liq[k]
        for r in ranges:
            for x, quote in moves[id(r)]:
                if abs(x) <= DUST:
                    continue
                fills.append(
                    (
                        j,
                        math.copysign(1.0, x),
                        quote / x,
                        abs(x),
                        r["level"],
                        r["id"],
                        T.KIND_RANGE,
                    )
                )
                pos += x
                cash -= quote
                S["spread"] += x * m - quote
        equity = cash + pos * m
        # the risk limit
        if not halted and p["max_drawdown"] > 0:
            peak = max(peak, equity)
            if peak - equity > p["max_drawdown"]:
                halted = True
                stop = {"land": j + 1 + p["delay"], "halt": j}
        # decisions at the close
        if not halted and observed[j] and not math.isnan(bd[j][0]):
            q = pos / p["base_size"]
            g_close = (math.log(s * s) - c0) / step
            for side in (T.BID, T.ASK):
                if flight[side] is not None:
                    continue
                if side == T.BID:
                    target = center[j] - bd[j][0] - bd[j][1] * q
                    quoted = q < p["max_inventory"] - 1e-9 and target > 0 and bsz[j] > 0
                    g = (
                        math.floor(
                            min((math.log(target) - c0) / step, g_close) + GRID_TOL
                        )
                        if quoted
                        else math.nan
                    )
                else:
                    target = center[j] + ad[j][0] - ad[j][1] * q
                    quoted = (
                        q > -p["max_inventory"] + 1e-9 and target > 0 and asz[j] > 0
                    )
                    g = (
                        math.ceil(
                            max((math.log(target) - c0) / step, g_close) - GRID_TOL
                        )
                        if quoted
                        else math.nan
                    )
                old = last_key[side]
                if math.isnan(g) and math.isnan(old):
                    continue
                moved = (
                    math.isnan(g)
                    or math.isnan(old)
                    or abs(g - old) >= p["requote"] - 1e-9
                )
                if not (moved or reverted[side]):
                    continue
                last_key[side], reverted[side] = g, False
                if math.isnan(g) and not live[side]:
                    continue  # vanished, and nothing to burn
                # the room the inventory bound leaves: the bound minus the
                # position minus what the other side can still convert back and
                # what this side's ranges may still convert before their burn
                other = T.ASK if side == T.BID else T.BID
                room = p["max_inventory"] * p["base_size"] - (
                    pos if side == T.BID else -pos
                )
                room -= sum(converted(r) for r in live[other])
                room -= sum(r["size"] - converted(r) for r in live[side])
                new = []
                size = bsz[j] if side == T.BID else asz[j]
                for lv in range(levels if not math.isnan(g) else 0):
                    sz = min(size * p["size_mult"] ** lv, room)
                    if not sz > 1e-12:
                        continue
                    room -= sz
                    if side == T.BID:
                        hi = g - lv * width
                        lo = hi - width
                    else:
                        lo = g + lv * width
                        hi = lo + width
                    lower, upper = math.exp(c0 + lo * step), math.exp(c0 + hi * step)
                    L = sz / (1.0 / math.sqrt(lower) - 1.0 / math.sqrt(upper))
                    new.append(
                        new_order(
                            1.0 if side == T.BID else -1.0,
                            lv,
                            T.ORDER_RANGE,
                            j,
                            lower,
                            upper,
                            sz,
                            L,
                        )
                    )
                if not new and not live[side]:
                    last_key[side] = math.nan  # nothing to mint or burn
                    continue
                flight[side] = {"land": j + 1 + p["delay"], "ranges": new}

        def bound(side, key):
            r = [r for r in live[side] if r["level"] == 0]
            return r[0][key] if r else math.nan

        book.append(
            [
                pos,
                cash,
                equity,
                bound(T.BID, "upper"),
                bound(T.ASK, "lower"),
                S["spread"],
                S["inv"],
                S["fees"],
                S["gas"],
                S["upd"],
                len(fills),
                1.0 if halted else 0.0,
                0.0,
                S["rej"],
            ]
        )
    for side in (T.BID, T.ASK):
        for r in live[side]:
            r["filled"] = converted(r)
    table = [
        [
            d["side"],
            d["level"],
            d["type"],
            d["submit"],
            d["live"],
            d["end"],
            d["lower"],
            d["size"],
            d["filled"],
            d["reason"],
            d["upper"],
            d["L"],
            d["fees"],
        ]
        for d in orders
    ]
    return (
        np.array(book),
        np.array(fills).reshape(-1, len(T.FILL_COLUMNS)),
        np.array(table).reshape(-1, len(T.POOL_ORDER_COLUMNS)),
    )


def static_reference(args, start, lower, upper, L, fee):
    """A passive position minted at the start of block ``start`` and held:
    per block ``(ETH, quote, cumulative fees, cumulative spread)``, tokens
    from the range's price alone plus the fees collected."""
    o, _, mark, _, sw_start, sw_sqrt, sw_in, sw_liq = args[:8]
    sa, sb = math.sqrt(lower), math.sqrt(upper)
    s = math.sqrt(o[start])
    fee_x = fee_y = fees = spread = 0.0
    out = np.zeros((len(mark), 4))
    out[:start, :2] = np.nan
    for j in range(start, len(mark)):
        for k in range(sw_start[j], sw_start[j + 1]):
            s1 = sw_sqrt[k]
            dx, px = conversion(L, s, s1, sa, sb)
            spread += dx * (mark[j] - px)
            earned = fee * fee_share(L, s, s1, sa, sb, sw_in[k], sw_liq[k])
            if s1 < s:
                fee_x += earned
                fees += earned * mark[j]
            else:
                fee_y += earned
                fees += earned
            s = s1
        x, y = held(L, s, sa, sb)
        out[j] = x + fee_x, y + fee_y, fees, spread
    return out


# --- random cases ------------------------------------------------------------------
def case(seed):
    """A random pool and policy: ``(args, p)``.

    ``args`` = ``(o, c, mark, observed, sw_start, sw_sqrt, sw_in, sw_liq,
    center, bid_depth, ask_depth, bid_size, ask_size, miss, gas_gwei)``: a
    price path of 0–6 swaps a block (some moving back, some not moving), runs
    of gap-filled blocks (no swaps, no decision), blocks without a decision,
    a mark off the pool's close, a gas price path; ``p`` every scalar setting
    (grid, width, levels, sizes, bound, requote, delay, p_miss, fee tier,
    gas units, drawdown stop).
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 160))
    spacing = int(rng.choice([1, 10, 60]))
    step = spacing * TICK
    c0 = float(rng.uniform(-3, 3) * step)  # the grid is not aligned to 3000
    vol = step * float(rng.choice([0.3, 1.0, 3.0]))  # log move per swap
    observed = np.ones(n, bool)
    for _ in range(int(rng.integers(0, 3))):  # gap-filled runs
        a = int(rng.integers(0, n))
        observed[a : a + int(rng.integers(1, 6))] = False
    per_block = rng.poisson(float(rng.choice([0.5, 1.5, 4.0])), n) * observed
    k = int(per_block.sum())
    sw_start = np.r_[0, np.cumsum(per_block)].astype(np.int64)
    moves = rng.normal(0, vol, k) * (rng.random(k) > 0.05)  # some do not move
    drift = float(rng.normal(0, vol / 3))
    sw_sqrt = math.sqrt(3000.0) * np.exp(np.cumsum(moves + drift) / 2)
    fee = float(rng.choice([1e-4, 5e-4, 3e-3, 1e-2]))
    sw_liq = float(rng.choice([1e4, 1e5, 1e6])) * np.exp(rng.normal(0, 0.3, k))
    prev = np.r_[math.sqrt(3000.0), sw_sqrt[:-1]]
    amount = (
        np.where(
            sw_sqrt < prev,
            sw_liq * np.abs(1 / sw_sqrt - 1 / prev),
            sw_liq * np.abs(sw_sqrt - prev),
        )
        / (1 - fee)
        * rng.uniform(0.8, 1.2, k)
    )
    close = np.empty(n)
    last = math.sqrt(3000.0)
    for j in range(n):
        if sw_start[j + 1] > sw_start[j]:
            last = sw_sqrt[sw_start[j + 1] - 1]
        close[j] = last * last
    o = np.r_[3000.0, close[:-1]]
    mark = close * (np.exp(rng.normal(0, vol / 2, n)) if rng.random() < 0.6 else 1.0)
    center = mark if rng.random() < 0.7 else close
    scale = 3000.0 * step  # one grid step in USD
    bd = np.column_stack([rng.uniform(-1, 3, n) * scale, rng.uniform(0, 1, n) * scale])
    ad = np.column_stack([rng.uniform(-1, 3, n) * scale, rng.uniform(0, 1, n) * scale])
    bd[rng.random(n) < 0.1, 0] = np.nan  # no decision
    bsz = rng.uniform(0.2, 1.5, n) * (rng.random(n) > 0.05)
    asz = rng.uniform(0.2, 1.5, n) * (rng.random(n) > 0.05)
    p_miss = float(rng.choice([0.0, 0.0, 0.3, 0.7]))
    miss = rng.random(2 * n) if p_miss > 0 else np.ones(2 * n)
    gas = float(rng.choice([0.0, 0.01, 0.3, 3.0])) * rng.uniform(0.5, 2.0, n)
    p = {
        "c0": c0,
        "step": step,
        "width": int(rng.integers(1, 4)),
        "levels": int(rng.integers(1, 4)),
        "size_mult": float(rng.uniform(0.5, 1.5)),
        "base_size": 1.0,
        "max_inventory": float(rng.integers(1, 5)),
        "requote": float(rng.choice([0.0, 1.0, 2.0, 1e9])),
        "delay": int(rng.integers(0, 3)),
        "p_miss": p_miss,
        "fee": fee,
        "gas_mint": 320_000.0,
        "gas_burn": 66_000.0,
        "gas_collect": 36_000.0,
        "gas_swap": 110_000.0,
        "max_drawdown": float(rng.choice([0.0, 0.0, 3.0, 30.0, 1000.0])),
    }
    args = (
        o,
        close,
        mark,
        observed,
        sw_start,
        sw_sqrt,
        amount,
        sw_liq,
        center,
        bd,
        ad,
        bsz,
        asz,
        miss,
        gas,
    )
    return args, p


def run_kernel(args, p):
    """:func:`pool_book_nb` on :func:`case`'s arguments: ``(book, fills,
    orders)``, trimmed to what it wrote."""
    (
        o,
        c,
        mark,
        observed,
        sw_start,
        sw_sqrt,
        sw_in,
        sw_liq,
        center,
        bd,
        ad,
        bsz,
        asz,
        miss,
        gas,
    ) = args
    n, L = len(c), p["levels"]
    book = np.zeros((n, len(T.BOOK_COLUMNS)))
    fills = np.zeros((n * 4 * L + 1, len(T.FILL_COLUMNS)))
    orders = np.zeros(((n + 1) * 2 * L + 2, len(T.POOL_ORDER_COLUMNS)))
    nf, no = pool_book_nb(
        o,
        c,
        mark,
        observed,
        sw_start,
        sw_sqrt,
        sw_in,
        sw_liq,
        center,
        bd,
        ad,
        bsz,
        asz,
        p["c0"],
        p["step"],
        p["width"],
        L,
        p["size_mult"],
        p["base_size"],
        p["max_inventory"],
        p["requote"],
        p["delay"],
        p["p_miss"],
        miss,
        p["fee"],
        gas,
        p["gas_mint"],
        p["gas_burn"],
        p["gas_collect"],
        p["gas_swap"],
        p["max_drawdown"],
        book,
        fills,
        orders,
    )
    assert nf >= 0, "the output blocks were too small"
    return book, fills[:nf], orders[:no]


def run_static(args, start, lower, upper, L, fee):
    """:func:`static_position_nb` on :func:`case`'s pool."""
    o, _, mark, _, sw_start, sw_sqrt, sw_in, sw_liq = args[:8]
    out = np.empty((len(mark), 4))
    static_position_nb(
        mark,
        sw_start,
        sw_sqrt,
        sw_in,
        sw_liq,
        math.sqrt(o[start]),
        start,
        lower,
        upper,
        L,
        fee,
        out,
    )
    return out
