"""A Uniswap v3 liquidity provider's book (Numba), block by block.

Schema: :mod:`ethpredict.core.types` (``BOOK_COLUMNS``, ``FILL_COLUMNS``,
``POOL_ORDER_COLUMNS``); liquidity math: :mod:`ethpredict.core.liquidity`.

**Quotes are range positions.** At each observed block's close the book
decides each side from the GLFT quote: the bid is ``width`` grid steps (tick
spacings) whose upper bound is the highest grid price at or below ``center −
d0 − s·q`` and at or below the pool price — funded in the quote token; the
ask is ``width`` steps from the lowest grid price at or above ``center + d0 −
s·q`` and the pool price — funded in ETH. Level ``l`` is the next range out,
``size_mult^l`` times the size; a range's liquidity makes it hold its size in
ETH when all ETH (:func:`~ethpredict.core.liquidity.liquidity_for_eth`). At
the inventory bound the growing side is not quoted, and a ladder is cut to
the room the bound leaves — ``max_inventory × base_size`` minus the position
and minus what the live ranges can still convert its way (the other side's
converted ETH back, its own side's rest, which may convert before the burn
lands) — so the position never passes the bound (but for fees earned in
ETH). A side is re-sent when its level-0 bound
moved by ``requote`` grid steps, when it appears or vanishes, or after one of
its mints reverted, and not while its previous transaction is in flight.

**Transactions.** A side's decision is one transaction: burn and collect
each of its live ranges, then mint the new ones. It lands at the start of
block ``j + 1 + delay`` at the earliest, and misses each block with
probability ``p_miss`` (``miss`` holds one seeded uniform per block and
side). It is ordered before the block's swaps. A mint whose range the pool
price has reached by then (a bid whose upper bound is above the price, an
ask whose lower bound is below) would need the other token: it reverts —
``rejected``, its gas spent; the burned ranges end ``replaced`` if one of the
new ones went live, else ``cancelled``. Gas: ``gas_burn + gas_collect`` per range
burned, ``gas_mint`` per mint, at that block's gas price (``gas_gwei``) and
the block's mark, in quote currency.

**Fills.** Each swap of a block moves the pool price from the previous
swap's to its own; every live range converts to what the new price implies
(progressively inside the range, reversibly on the way back). The block's
conversions of a range are written as at most two fills (its buys and its
sells), each at the average price of its swaps' conversions, which lies in
the block's swap price range. A range earns ``fee`` × the part of each
swap's input that crossed it × ``L / (L + L_act)`` (``L_act``: the pool's
active liquidity the swap reports), in the input token, added to the wallet.
Blocks without swaps convert and earn nothing.

**PnL per block**, exactly, against the mark ``m`` (the exchange reference,
or the pool's close): ``spread`` = Σ conversions ``dx·(m − price)`` (its
negative is the loss-versus-rebalancing, LVR), ``inventory`` = position
before the block × ``(m − previous m)``, ``fees`` = −fees earned (ETH fees at
``m``) + the stop's swap fee, ``gas``; equity = cash + position × m changes
by spread + inventory − fees − gas. Position and cash count the tokens in
the ranges and the wallet together.

**Risk stop.** Once equity at a close is ``max_drawdown`` below its peak,
the book stops deciding; one transaction (landing like any other) drops the
sides' transactions in flight, burns every range and sells (buys) the whole
position to the pool through its last active liquidity, paying the fee tier
and the price impact (``gas_swap`` more gas).

Slow reference: :func:`ethpredict.testing.pool_reference.reference`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ethpredict.core.liquidity import (
    amounts,
    liquidity_for_eth,
    swap_output,
    swap_through,
)
from ethpredict.core.orders import write_fill
from ethpredict.core.types import (
    ASK,
    B_ASK,
    B_BID,
    B_CASH,
    B_EQUITY,
    B_FEES,
    B_FILLS,
    B_FUNDING,
    B_GAS,
    B_HALTED,
    B_INV,
    B_POS,
    B_REJECTED,
    B_SPREAD,
    B_UPDATES,
    BID,
    END_CANCELLED,
    END_FILLED,
    END_REJECTED,
    END_REPLACED,
    KIND_RANGE,
    KIND_STOP,
    O_END,
    O_FEES,
    O_FILLED,
    O_LEVEL,
    O_LIQUIDITY,
    O_LIVE,
    O_PRICE,
    O_REASON,
    O_SIDE,
    O_SIZE,
    O_SUBMIT,
    O_TYPE,
    O_UPPER,
    ORDER_MARKET,
    ORDER_RANGE,
)

EPS = 1e-12


@njit(cache=True)
def _order(orders, i, side, level, kind, bar, lower, upper, size, L):
    orders[i, O_SIDE] = side
    orders[i, O_LEVEL] = level
    orders[i, O_TYPE] = kind
    orders[i, O_SUBMIT] = bar
    orders[i, O_LIVE] = -1
    orders[i, O_END] = -1
    orders[i, O_PRICE] = lower
    orders[i, O_SIZE] = size
    orders[i, O_FILLED] = 0.0
    orders[i, O_REASON] = 0
    orders[i, O_UPPER] = upper
    orders[i, O_LIQUIDITY] = L
    orders[i, O_FEES] = 0.0


@njit(cache=True, inline="always")
def _has_live(live, first, stop):
    """Whether a side in ``[first, stop)`` has a live range (no temporary
    array per block)."""
    for s in range(first, stop):
        for lv in range(live.shape[1]):
            if live[s, lv] >= 0:
                return True
    return False


@njit(cache=True)
def _converted(orders, i, s, side):
    """ETH a range converted at ``√p = s``: bought (a bid) or sold (an ask)."""
    L = orders[i, O_LIQUIDITY]
    sa, sb = math.sqrt(orders[i, O_PRICE]), math.sqrt(orders[i, O_UPPER])
    x, _ = amounts(L, s, sa, sb)
    return x if side == BID else orders[i, O_SIZE] - x


@njit(cache=True)
def pool_book_nb(
    o: np.ndarray,
    c: np.ndarray,
    mark: np.ndarray,
    observed: np.ndarray,
    sw_start: np.ndarray,
    sw_sqrt: np.ndarray,
    sw_in: np.ndarray,
    sw_liq: np.ndarray,
    center: np.ndarray,
    bid_depth: np.ndarray,
    ask_depth: np.ndarray,
    bid_size: np.ndarray,
    ask_size: np.ndarray,
    c0: float,
    step: float,
    width: int,
    levels: int,
    size_mult: float,
    base_size: float,
    max_inventory: float,
    requote: float,
    delay: int,
    p_miss: float,
    miss: np.ndarray,
    fee: float,
    gas_gwei: np.ndarray,
    gas_mint: float,
    gas_burn: float,
    gas_collect: float,
    gas_swap: float,
    max_drawdown: float,
    book: np.ndarray,
    fills: np.ndarray,
    orders: np.ndarray,
) -> tuple[int, int]:
    """Run the LP book over ``n`` blocks; returns ``(fills, orders)`` written,
    or ``(-1, -1)`` when ``fills`` or ``orders`` is too small (the caller
    grows them).

    Per block ``j``: ``o``/``c`` the pool price at its start and end, ``mark``
    the price positions are valued at, ``observed`` false on gap-filled
    blocks (no decision), ``sw_start[j]:sw_start[j+1]`` its swaps, each with
    ``√price`` after it (``sw_sqrt``), its gross input amount (``sw_in``, ETH
    when the price fell, else quote token) and the active liquidity it
    reports (``sw_liq``, whole-token units); ``center`` the price quotes are
    made around, ``bid_depth[j] = (d0, s)`` as in the order-book kernel (NaN
    ``d0``: no decision). ``c0``/``step``: the grid (grid price ``g`` =
    ``exp(c0 + g·step)``). ``miss``: ``2n`` uniforms (read only when ``p_miss`` > 0). ``book`` (n ×
    ``BOOK_COLUMNS``), ``fills`` and ``orders`` (``POOL_ORDER_COLUMNS``) are
    written in place.

    Args:
        o: Pool price at each block's start, quote per ETH.
        c: Pool price at each block's end, quote per ETH.
        mark: The price positions are valued at, per block.
        observed: False on gap-filled blocks (no decision).
        sw_start: int64 (n + 1) offsets of each block's swaps.
        sw_sqrt: √price after each swap.
        sw_in: Each swap's gross input (ETH when the price fell, else quote
            token).
        sw_liq: Active liquidity each swap reports, whole-token units.
        center: The price quotes are made around, per block.
        bid_depth: (n, 2) ``(d0, s)`` per block, quote currency (``s`` per
            order size of inventory); NaN ``d0``: no decision.
        ask_depth: (n, 2) as ``bid_depth``.
        bid_size: Level-0 bid size per block, ETH.
        ask_size: Level-0 ask size per block, ETH.
        c0: The grid's offset (log price).
        step: The grid's step (log price per grid index).
        width: A range's width in grid steps.
        levels: Ranges per side.
        size_mult: Size multiplier per level.
        base_size: The order size in ETH (the unit of the inventory).
        max_inventory: The bound on ``|position|`` in order sizes.
        requote: Re-send a side when its level-0 bound moved by this many
            grid steps.
        delay: Extra whole blocks: a decision at block j's close lands at
            block j + 1 + delay at the earliest.
        p_miss: Probability that a transaction misses a block.
        miss: ``2n`` seeded uniforms, index ``2·j + side`` (the stop's
            transaction reads ``2·j``; read only when ``p_miss`` > 0).
        fee: The fee tier as a fraction earned (not basis points).
        gas_gwei: Gas price per block, gwei.
        gas_mint: Gas units per mint.
        gas_burn: Gas units per range burned.
        gas_collect: Gas units per range collected.
        gas_swap: Gas units of the risk stop's swap.
        max_drawdown: The risk stop's drawdown from the equity peak, quote
            currency (0: off).
        book: Out, (n, ``len(BOOK_COLUMNS)``) float64, in place.
        fills: Out, (rows, ``len(FILL_COLUMNS)``) float64, in place.
        orders: Out, (rows, ``len(POOL_ORDER_COLUMNS)``) float64, in place.

    Returns:
        ``(fills written, orders written)``, or ``(-1, -1)`` when ``fills``
        or ``orders`` is too small.
    """
    n = c.shape[0]
    cap = fills.shape[0]
    live = np.full((2, levels), -1, dtype=np.int64)  # order ids of live ranges
    pend = np.zeros(2, dtype=np.bool_)
    pend_land = np.zeros(2, dtype=np.int64)
    pend_id = np.full((2, levels), -1, dtype=np.int64)
    key = np.full(2, np.nan)  # level-0 grid index of the side's latest decision
    # the prices (level-0 bound's target) for which a side keeps its key: the
    # grid index moved by fewer than ``requote`` steps
    band_lo = np.full(2, np.inf)
    band_hi = np.full(2, -np.inf)
    r_steps = math.ceil(requote - 1e-9)
    reverted = np.zeros(2, dtype=np.bool_)  # the side's latest mint reverted
    new_ok = np.zeros(levels, dtype=np.bool_)
    acc = np.zeros((2, levels, 4))  # per range: bought dx, dy; sold dx, dy
    sqrt_lo = np.zeros((2, levels))
    sqrt_hi = np.zeros((2, levels))
    liq = np.zeros((2, levels))
    stop_pend = False
    stop_land = 0
    pos = 0.0
    cash = 0.0
    peak = 0.0
    halted = False
    n_f = 0
    n_o = 0
    n_upd = 0
    n_rej = 0
    cum_spread = 0.0
    cum_inv = 0.0
    cum_fees = 0.0
    cum_gas = 0.0
    s_cur = math.sqrt(o[0])
    l_act = 0.0
    inv_cap = max_inventory - 1e-9
    bound = max_inventory * base_size  # ETH
    for j in range(n):
        m = mark[j]
        m_prev = mark[j - 1] if j > 0 else m
        cum_inv += pos * (m - m_prev)
        gas_usd = gas_gwei[j] * 1e-9 * m
        # ---- the risk stop's transaction
        if stop_pend and j >= stop_land and not (p_miss > 0.0 and miss[2 * j] < p_miss):
            stop_pend = False
            units = 0.0
            for s in range(2):
                if pend[s]:  # dropped before landing: never sent
                    pend[s] = False
                    for lv in range(levels):
                        if pend_id[s, lv] >= 0:
                            orders[pend_id[s, lv], O_END] = j
                            orders[pend_id[s, lv], O_REASON] = END_CANCELLED
                for lv in range(levels):
                    i = live[s, lv]
                    if i >= 0:
                        orders[i, O_FILLED] = _converted(orders, i, s_cur, s)
                        orders[i, O_END] = j
                        orders[i, O_REASON] = END_CANCELLED
                        live[s, lv] = -1
                        units += gas_burn + gas_collect
                        n_upd += 1
            if abs(pos) > EPS:
                p_now = s_cur * s_cur
                if l_act > 0.0:
                    net, _ = swap_output(l_act, p_now, pos, fee)
                    gross, _ = swap_output(l_act, p_now, pos, 0.0)
                else:  # no liquidity seen yet: at the price, the fee on top
                    gross = pos * p_now
                    net = gross * (1.0 - fee) if pos > 0 else gross / (1.0 - fee)
                px = gross / pos
                _order(
                    orders,
                    n_o,
                    -np.sign(pos),
                    -1,
                    ORDER_MARKET,
                    stop_land - 1 - delay,
                    np.nan,
                    np.nan,
                    abs(pos),
                    np.nan,
                )
                orders[n_o, O_LIVE] = j
                orders[n_o, O_END] = j
                orders[n_o, O_FILLED] = abs(pos)
                orders[n_o, O_REASON] = END_FILLED
                if n_f >= cap:
                    return -1, -1
                write_fill(
                    fills, n_f, j, -np.sign(pos), px, abs(pos), -1, n_o, KIND_STOP
                )
                n_f += 1
                n_o += 1
                cum_spread += -pos * m + gross
                cum_fees += abs(gross - net)
                cash += net
                pos = 0.0
                units += gas_swap
                n_upd += 1
            cum_gas += units * gas_usd
            cash -= units * gas_usd
        # ---- the sides' transactions that land at the start of block j
        for s in range(2):
            if (
                not pend[s]
                or j < pend_land[s]
                or (p_miss > 0.0 and miss[2 * j + s] < p_miss)
            ):
                continue
            pend[s] = False
            units = 0.0
            # a mint whose range the price has reached needs the other token:
            # it reverts (its gas spent); the old ranges are replaced only if
            # a new one goes live
            any_new = False
            for lv in range(levels):
                i = pend_id[s, lv]
                if i >= 0:
                    sa, sb = (
                        math.sqrt(orders[i, O_PRICE]),
                        math.sqrt(orders[i, O_UPPER]),
                    )
                    ok = not ((s == BID and s_cur < sb) or (s == ASK and s_cur > sa))
                    new_ok[lv] = ok
                    any_new = any_new or ok
            for lv in range(levels):
                i = live[s, lv]
                if i >= 0:  # burn and collect
                    orders[i, O_FILLED] = _converted(orders, i, s_cur, s)
                    orders[i, O_END] = j
                    orders[i, O_REASON] = END_REPLACED if any_new else END_CANCELLED
                    live[s, lv] = -1
                    units += gas_burn + gas_collect
                    n_upd += 1
            for lv in range(levels):
                i = pend_id[s, lv]
                if i < 0:
                    continue
                pend_id[s, lv] = -1
                units += gas_mint
                n_upd += 1
                if not new_ok[lv]:
                    orders[i, O_END] = j
                    orders[i, O_REASON] = END_REJECTED
                    n_rej += 1
                    reverted[s] = True  # re-sent at the next decision
                    continue
                orders[i, O_LIVE] = j
                live[s, lv] = i
                sqrt_lo[s, lv] = math.sqrt(orders[i, O_PRICE])
                sqrt_hi[s, lv] = math.sqrt(orders[i, O_UPPER])
                liq[s, lv] = orders[i, O_LIQUIDITY]
            cum_gas += units * gas_usd
            cash -= units * gas_usd
        # ---- the block's swaps
        k0, k1 = sw_start[j], sw_start[j + 1]
        if k1 > k0:
            any_live = _has_live(live, 0, 2)
            fee_eth = 0.0
            fee_q = 0.0
            for k in range(k0, k1):
                s1 = sw_sqrt[k]
                if any_live:
                    for s in range(2):
                        for lv in range(levels):
                            i = live[s, lv]
                            if i < 0:
                                continue
                            dx, dy, share = swap_through(
                                s_cur,
                                s1,
                                sqrt_lo[s, lv],
                                sqrt_hi[s, lv],
                                liq[s, lv],
                                sw_in[k],
                                sw_liq[k],
                            )
                            if dx > 0.0:
                                acc[s, lv, 0] += dx
                                acc[s, lv, 1] += dy
                            elif dx < 0.0:
                                acc[s, lv, 2] += dx
                                acc[s, lv, 3] += dy
                            if share > 0.0:
                                if s1 < s_cur:
                                    fee_eth += fee * share
                                    orders[i, O_FEES] += fee * share * m
                                else:
                                    fee_q += fee * share
                                    orders[i, O_FEES] += fee * share
                s_cur = s1
                l_act = sw_liq[k]
            if any_live:
                for s in range(2):
                    for lv in range(levels):
                        i = live[s, lv]
                        if i < 0:
                            continue
                        for d in range(2):
                            dx, dy = acc[s, lv, 2 * d], acc[s, lv, 2 * d + 1]
                            acc[s, lv, 2 * d] = 0.0
                            acc[s, lv, 2 * d + 1] = 0.0
                            if abs(dx) <= EPS:
                                continue
                            if n_f >= cap:
                                return -1, -1
                            write_fill(
                                fills,
                                n_f,
                                j,
                                1.0 if dx > 0 else -1.0,
                                -dy / dx,
                                abs(dx),
                                lv,
                                i,
                                KIND_RANGE,
                            )
                            n_f += 1
                            pos += dx
                            cash += dy
                            cum_spread += dx * m + dy
                pos += fee_eth
                cash += fee_q
                cum_fees -= fee_eth * m + fee_q
        equity = cash + pos * m
        # ---- risk limit
        if not halted and max_drawdown > 0.0:
            peak = max(peak, equity)
            if peak - equity > max_drawdown:
                halted = True
                stop_pend = True
                stop_land = j + 1 + delay
        # ---- decisions at the close
        if n_o + 2 * levels + 1 > orders.shape[0]:
            return -1, -1
        if not halted and observed[j] and not np.isnan(bid_depth[j, 0]):
            q = pos / base_size
            p_now = s_cur * s_cur
            for s in range(2):
                if pend[s]:
                    continue
                # the side keeps its ranges while the price its level-0 bound
                # follows stays in the band of its key (no logarithm per block)
                if s == BID:
                    target = center[j] - bid_depth[j, 0] - bid_depth[j, 1] * q
                    want = q < inv_cap and target > 0.0 and bid_size[j] > 0.0
                    x = min(target, p_now)
                else:
                    target = center[j] + ask_depth[j, 0] - ask_depth[j, 1] * q
                    want = q > -inv_cap and target > 0.0 and ask_size[j] > 0.0
                    x = max(target, p_now)
                old = key[s]
                if not want:
                    if np.isnan(old):
                        continue
                    g = np.nan
                else:
                    if not (np.isnan(old) or reverted[s]) and (
                        (s == BID and band_lo[s] <= x < band_hi[s])
                        or (s == ASK and band_lo[s] < x <= band_hi[s])
                    ):
                        continue
                    y = (math.log(x) - c0) / step
                    g = math.floor(y + 1e-9) if s == BID else math.ceil(y - 1e-9)
                    if (
                        not (np.isnan(old) or reverted[s])
                        and abs(g - old) < requote - 1e-9
                    ):
                        continue  # (the band's edge, to rounding)
                    if s == BID:
                        band_lo[s] = math.exp(c0 + (g - r_steps + 1 - 1e-9) * step)
                        band_hi[s] = math.exp(c0 + (g + r_steps - 1e-9) * step)
                    else:
                        band_lo[s] = math.exp(c0 + (g - r_steps + 1e-9) * step)
                        band_hi[s] = math.exp(c0 + (g + r_steps - 1 + 1e-9) * step)
                key[s] = g
                reverted[s] = False
                has_live = _has_live(live, s, s + 1)
                # the ladder's size: what the inventory bound leaves after
                # what the other side's live ranges can still convert back
                room = bound - (pos if s == BID else -pos)
                for lv in range(levels):
                    i = live[1 - s, lv]
                    if i >= 0:  # an ask's sold ETH buys back; a bid's bought sells
                        room -= _converted(orders, i, s_cur, 1 - s)
                    i = live[s, lv]
                    if i >= 0:  # may still convert before its burn lands
                        room -= orders[i, O_SIZE] - _converted(orders, i, s_cur, s)
                size = bid_size[j] if s == BID else ask_size[j]
                first = n_o
                for lv in range(levels):
                    pend_id[s, lv] = -1
                    sz = min(size * size_mult**lv, room)
                    if np.isnan(g) or not sz > 1e-12:
                        continue
                    room -= sz
                    if s == BID:
                        hi = g - lv * width
                        lo = hi - width
                    else:
                        lo = g + lv * width
                        hi = lo + width
                    lower, upper = math.exp(c0 + lo * step), math.exp(c0 + hi * step)
                    L = liquidity_for_eth(sz, math.sqrt(lower), math.sqrt(upper))
                    _order(
                        orders,
                        n_o,
                        1.0 if s == BID else -1.0,
                        lv,
                        ORDER_RANGE,
                        j,
                        lower,
                        upper,
                        sz,
                        L,
                    )
                    pend_id[s, lv] = n_o
                    n_o += 1
                if n_o == first and not has_live:
                    key[s] = np.nan  # nothing to mint or burn: no transaction
                    continue
                pend[s] = True
                pend_land[s] = j + 1 + delay
        # ---- the block's row
        r = book[j]
        r[B_POS] = pos
        r[B_CASH] = cash
        r[B_EQUITY] = equity
        r[B_BID] = orders[live[BID, 0], O_UPPER] if live[BID, 0] >= 0 else np.nan
        r[B_ASK] = orders[live[ASK, 0], O_PRICE] if live[ASK, 0] >= 0 else np.nan
        r[B_SPREAD] = cum_spread
        r[B_INV] = cum_inv
        r[B_FEES] = cum_fees
        r[B_GAS] = cum_gas
        r[B_UPDATES] = n_upd
        r[B_FILLS] = n_f
        r[B_HALTED] = 1.0 if halted else 0.0
        r[B_FUNDING] = 0.0
        r[B_REJECTED] = n_rej
    for s in range(2):
        for lv in range(levels):
            i = live[s, lv]
            if i >= 0:
                orders[i, O_FILLED] = _converted(orders, i, s_cur, s)
    return n_f, n_o


@njit(cache=True)
def static_position_nb(
    mark: np.ndarray,
    sw_start: np.ndarray,
    sw_sqrt: np.ndarray,
    sw_in: np.ndarray,
    sw_liq: np.ndarray,
    s_start: float,
    start: int,
    lower: float,
    upper: float,
    L: float,
    fee: float,
    out: np.ndarray,
) -> None:
    """A passive position held from the start of block ``start`` to the end:
    per block, ``out[j] = (ETH, quote, cumulative fees earned, cumulative
    spread = −LVR, cumulative inventory PnL)`` — the ETH and quote tokens
    count the position and its collected fees; inventory PnL is the ETH held
    before each block × the mark's change over it; ``s_start`` is √price at
    the start of block ``start``. The same per-swap rule as
    :func:`pool_book_nb`.

    Args:
        mark: The mark price per block, quote per ETH.
        sw_start: int64 (n + 1) offsets of each block's swaps.
        sw_sqrt: √price after each swap.
        sw_in: Each swap's gross input (ETH when the price fell, else quote).
        sw_liq: Active liquidity each swap reports, whole-token units.
        s_start: √price at the start of block ``start``.
        start: The block (a position) the position is minted in.
        lower: The range's lower bound, quote per ETH (not √).
        upper: The range's upper bound, quote per ETH.
        L: The position's liquidity, whole-token units.
        fee: The fee tier as a fraction (not basis points).
        out: Out, (n, 5) float64, written in place (rows before ``start``:
            NaN tokens, zero PnL).
    """
    n = mark.shape[0]
    sa, sb = math.sqrt(lower), math.sqrt(upper)
    s_cur = s_start
    x, y = amounts(L, s_cur, sa, sb)
    fee_x = 0.0
    fee_y = 0.0
    fees = 0.0
    spread = 0.0
    inv = 0.0
    for j in range(n):
        if j < start:
            out[j, 0] = np.nan
            out[j, 1] = np.nan
            out[j, 2] = 0.0
            out[j, 3] = 0.0
            out[j, 4] = 0.0
            continue
        m = mark[j]
        if j > start:
            inv += (x + fee_x) * (m - mark[j - 1])
        for k in range(sw_start[j], sw_start[j + 1]):
            s1 = sw_sqrt[k]
            dx, dy, share = swap_through(s_cur, s1, sa, sb, L, sw_in[k], sw_liq[k])
            x += dx
            y += dy
            spread += dx * m + dy
            if s1 < s_cur:
                fee_x += fee * share
                fees += fee * share * m
            else:
                fee_y += fee * share
                fees += fee * share
            s_cur = s1
        out[j, 0] = x + fee_x
        out[j, 1] = y + fee_y
        out[j, 2] = fees
        out[j, 3] = spread
        out[j, 4] = inv
