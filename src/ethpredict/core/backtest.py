"""The market-making fill loop (Numba), bar by bar, with an order lifecycle.

Schema (columns of ``book``, ``fills``, ``orders``; enums): :mod:`ethpredict.core.types`.

**Clock.** A decision is made at each tradable bar's close from data up to
that close. The orders it submits go live at the start of the bar ``1 +
delay`` bars later (``delay``: the whole bars that latency plus the wait for
the next block span, computed by the wrapper) and stay live until filled,
replaced or cancelled. Each side is decided on its own: a side is re-sent
when its level-0 price moved by ``requote_ticks`` ticks, when it appears or
vanishes (the inventory bound), or when one of its orders was used up
(filled or rejected) — so a consumed side stays empty until its re-post goes
live. Every order action (placing, replacing or cancelling one order) costs
``gas_eth`` × the close in quote currency, paid at submission.

**Fills in bar j**, only on a *tradable* bar (not stale, not gap-filled) with
volume, within a budget of ``max_participation`` × the bar's volume shared by
all fills of the bar; the rest of an order stays live. A fill never takes
``|position|`` beyond ``max_inventory`` order sizes (it is cut to the room).
In order:

1. the risk stop's market order (if live) trades at the open as a taker;
2. an order whose limit the open is through (bid ≥ open, ask ≤ open): if it
   is *arriving* (live but not yet through a tradable bar) it is rejected
   when ``post_only`` (counted; its gas is spent) or fills at the open as a
   taker; if it was already resting, the market is through it (the rest of
   an order the participation cap cut, a halt's reopening, a hole in the
   data) and it fills as a maker at the least favourable price of the bar
   that does not beat its limit — min(limit, high) for a bid, max(limit,
   low) for an ask — so no fill is ever at a stale limit outside the bar;
3. the bar's path, open→high→low→close if the high is nearer the open, else
   open→low→high→close: ``touch`` — a resting ask fills at its limit when the
   high trades through it by ``through_ticks`` ticks (the bid likewise on the
   low); ``intensity`` — a level the path reached (ask ≤ high, bid ≥ low) at
   depth δ from the previous close fills at its limit with probability
   ``1 − exp(−A·e^(−k·δ)·Δt)`` (the wrapper passes A and k fitted before the
   bar and seeded uniforms).

Every fill therefore lies in the bar's [low, high].

**PnL per bar**, exactly: ``spread`` = Σ fills side·size·(previous close −
price), ``inventory`` = position after the fills × (close − previous close),
``fees`` = maker fee on maker fills (negative: rebate, or a pool's fee tier
earned), taker fee on taker fills, ``gas``, ``funding`` = −position × close ×
the rate settled at the bar's close; equity change = spread + inventory −
fees − gas + funding.

**Price grid.** ``log_tick`` 0 — quotes are multiples of ``tick``; > 0 —
quotes sit on ``e^(m·log_tick)`` (a Uniswap v3 pool), and "tick" means the
grid step at that price.

**Risk stop.** Once equity at a close is ``max_drawdown`` below its peak (0:
off), the book stops deciding and submits, like any order, a cancel of its
quotes and a market order that flattens the position it finds when it goes
live (same delay; one gas-paying action for it and one per open order
cancelled); the market order pays the taker fee and may take several bars
under the participation cap.

Slow reference: :func:`ethpredict.testing.backtest_reference.reference` (plain
Python, order objects), compared in ``tests/core/test_backtest.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ethpredict.core.orders import (
    EPS,
    any_set,
    end_order,
    fill_order,
    grid_down,
    grid_up,
    idle,
    new_order,
    use_up,
    write_fill,
)
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
    FILL_TOUCH,
    KIND_INTENSITY,
    KIND_STOP,
    KIND_TAKER,
    KIND_THROUGH,
    KIND_TOUCH,
    O_FILLED,
    O_LIVE,
    O_PRICE,
    O_SIDE,
    O_SIZE,
    ORDER_LIMIT,
    ORDER_MARKET,
)


@njit(cache=True)
def backtest_nb(
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    volume: np.ndarray,
    tradable: np.ndarray,
    bid_depth: np.ndarray,
    bid_skew: np.ndarray,
    ask_depth: np.ndarray,
    ask_skew: np.ndarray,
    bid_size: np.ndarray,
    ask_size: np.ndarray,
    A: np.ndarray,
    k: np.ndarray,
    uniforms: np.ndarray,
    funding: np.ndarray,
    levels: int,
    level_spacing: float,
    level_size_mult: float,
    tick: float,
    log_tick: float,
    base_size: float,
    max_inventory: float,
    requote_ticks: float,
    delay: int,
    gas_eth: float,
    maker_fee: float,
    taker_fee: float,
    post_only: bool,
    max_participation: float,
    fill_model: int,
    through_ticks: float,
    bar_seconds: float,
    max_drawdown: float,
    book: np.ndarray,
    fills: np.ndarray,
    orders: np.ndarray,
) -> tuple[int, int]:
    """Run the book over ``n`` bars (see the module docstring).

    ``bid_depth[t]`` = d0 and ``bid_skew[t]`` = s give the level-0 bid ``close −
    d0 − s·q``, ``ask_depth``/``ask_skew`` the ask ``close + d0 − s·q`` for inventory ``q``
    (in order sizes), rounded to the tick away from the close and kept
    strictly off the close; NaN ``d0``: no decision at that bar. Level ``l``
    sits ``l·level_spacing`` further out with ``level_size_mult^l`` times the
    size. Every per-bar array has length ``n``, indexed by bar.

    Args:
        o: Opens, quote currency per ETH.
        h: Highs, quote currency per ETH.
        lo: Lows, quote currency per ETH.
        c: Closes, quote currency per ETH (the mark).
        volume: Per-bar volume in ETH (inf: no cap).
        tradable: False on stale or gap-filled bars.
        bid_depth: Level-0 bid depth d0 below the close, quote currency
            (NaN: no decision).
        bid_skew: Bid skew s per order size of inventory, quote currency.
        ask_depth: Level-0 ask depth above the close, quote currency.
        ask_skew: Ask skew per order size of inventory, quote currency.
        bid_size: Level-0 bid size in ETH.
        ask_size: Level-0 ask size in ETH.
        A: Fill intensity per bar, fills per second (``intensity`` model
            only; length 1 otherwise).
        k: Intensity decay per bar, 1/quote currency (as ``A``).
        uniforms: (n, 2·levels) uniforms in [0, 1), column ``2·level +
            side`` (bid 0, ask 1), for the ``intensity`` model (seeded by
            the wrapper; (1, 2·levels) otherwise).
        funding: Funding rate per bar settled at its close, a fraction of
            the notional (0: none); the book receives −position × close ×
            rate.
        levels: Quote levels per side.
        level_spacing: Distance between levels, quote currency (rounded to
            the tick on a linear grid).
        level_size_mult: Size multiplier per level.
        tick: Tick size, quote currency (the linear grid).
        log_tick: 0 for the linear grid, else the log-price grid step.
        base_size: The order size in ETH (the unit of the inventory ``q``).
        max_inventory: The bound on ``|position|`` in order sizes.
        requote_ticks: Re-send a side when its level-0 price moved by this
            many ticks.
        delay: Extra whole bars: an order decided at bar j's close goes live
            at the start of bar j + 1 + delay.
        gas_eth: Gas per order action in ETH (× the close: quote currency).
        maker_fee: Maker fee, a fraction of the notional (not basis points;
            negative: rebate).
        taker_fee: Taker fee, a fraction of the notional.
        post_only: Reject arriving marketable orders instead of taking.
        max_participation: Fills per bar at most this fraction of its volume.
        fill_model: ``FILL_TOUCH`` or ``FILL_INTENSITY``.
        through_ticks: Ticks the path must trade through a limit (``touch``).
        bar_seconds: The bar length in seconds (Δt of the intensity model).
        max_drawdown: Risk stop's drawdown from the equity peak, quote
            currency (0: off).
        book: Out, (n, ``len(BOOK_COLUMNS)``) float64, written in place.
        fills: Out, (≥ n·(2·levels + 1), ``len(FILL_COLUMNS)``) float64,
            written in place.
        orders: Out, (≥ n·2·levels + 1, ``len(ORDER_COLUMNS)``) float64,
            written in place.

    Returns:
        ``(fills written, orders written)``: the rows of ``fills`` and
        ``orders`` that hold data.
    """
    n = c.shape[0]
    ring = delay + 1
    # submissions in flight, per side and ring slot (submitted at bar j, live
    # from bar j + 1 + delay, the same slot)
    pend = np.zeros((2, ring), dtype=np.bool_)
    sub_id = np.full((2, ring, levels), -1, dtype=np.int64)
    stop_pend = np.zeros(ring, dtype=np.bool_)
    stop_id = np.full(ring, -1, dtype=np.int64)
    # live orders per side and level
    live_id = np.full((2, levels), -1, dtype=np.int64)
    live_px = np.full((2, levels), np.nan)
    live_rem = np.zeros((2, levels))
    arriving = np.zeros((2, levels), dtype=np.bool_)
    # the side's latest submission: its first order id and how many are used up
    latest = np.full(2, -1, dtype=np.int64)
    used = np.zeros(2, dtype=np.int64)
    # per level, whether the side's latest submission placed an order there
    # that is not used up yet (what a cancel or a replacement acts on)
    alive = np.zeros((2, levels), dtype=np.bool_)
    last_px = np.full(2, np.nan)  # level-0 price of the latest submission
    flat_id = -1  # the risk stop's market order, once live
    pos = 0.0
    cash = 0.0
    peak = 0.0
    halted = False
    n_f = 0
    n_o = 0
    cum_spread = 0.0
    cum_inv = 0.0
    cum_fees = 0.0
    cum_gas = 0.0
    cum_fund = 0.0
    n_upd = 0
    n_rej = 0
    q = 0.0  # the inventory in order sizes, divided out only when it moves
    q_of = np.nan  # the position ``q`` was computed from (none yet)
    geo = log_tick > 0.0
    grow = np.exp(log_tick) - 1.0
    cap = max_inventory * base_size
    slot = ring - 1
    prev_close = o[0] if n > 0 else 0.0
    for j in range(n):
        # the bar's prices as locals: the stores into the output blocks below
        # (float64 like them) would otherwise force a reload after each one
        oj, hj, lj, cj = o[j], h[j], lo[j], c[j]
        slot = slot + 1 if slot + 1 < ring else 0  # j % ring without a division
        # ---- submissions that go live at the start of bar j
        for s in range(2):
            if pend[s, slot]:
                pend[s, slot] = False
                for lv in range(levels):
                    old = live_id[s, lv]
                    new = sub_id[s, slot, lv]
                    if old >= 0:
                        end_order(
                            orders, old, j, END_REPLACED if new >= 0 else END_CANCELLED
                        )
                    live_id[s, lv] = new
                    if new >= 0:
                        orders[new, O_LIVE] = j
                        live_px[s, lv] = orders[new, O_PRICE]
                        live_rem[s, lv] = orders[new, O_SIZE]
                        arriving[s, lv] = True
        if stop_pend[slot]:
            stop_pend[slot] = False
            for s in range(2):
                for lv in range(levels):
                    if live_id[s, lv] >= 0:
                        end_order(orders, live_id[s, lv], j, END_CANCELLED)
                        live_id[s, lv] = -1
            flat_id = stop_id[slot]
            orders[flat_id, O_LIVE] = j
            if abs(pos) > EPS:
                orders[flat_id, O_SIDE] = -1.0 if pos > 0 else 1.0
                orders[flat_id, O_SIZE] = abs(pos)
            else:  # nothing left to flatten
                end_order(orders, flat_id, j, END_CANCELLED)
                flat_id = -1
        # ---- fills in bar j
        if not (tradable[j] and volume[j] > 0.0):
            # nothing trades (a halt, a filled or empty bar), but the venue
            # checks a post-only order when it arrives: marketable against
            # the (frozen) open, it is rejected; else it rests from now on.
            # A marketable taker order waits for the next bar that trades.
            for s in range(2):
                for lv in range(levels):
                    oid = live_id[s, lv]
                    if oid < 0 or not arriving[s, lv]:
                        continue
                    px = live_px[s, lv]
                    if not (px >= oj if s == BID else px <= oj):
                        arriving[s, lv] = False
                    elif post_only:
                        use_up(
                            orders, live_id, latest, used, alive, s, lv, j, END_REJECTED
                        )
                        n_rej += 1
        else:
            budget = max_participation * volume[j]
            tk = prev_close * grow if geo else tick
            if flat_id >= 0 and budget > EPS:  # 1. the stop's market order
                sign = orders[flat_id, O_SIDE]
                x = min(orders[flat_id, O_SIZE] - orders[flat_id, O_FILLED], budget)
                px = oj
                write_fill(fills, n_f, j, sign, px, x, -1, flat_id, KIND_STOP)
                n_f += 1
                fee = taker_fee * px * x
                pos += sign * x
                cash -= sign * x * px + fee
                cum_fees += fee
                cum_spread += sign * x * (prev_close - px)
                budget -= x
                orders[flat_id, O_FILLED] += x
                if orders[flat_id, O_SIZE] - orders[flat_id, O_FILLED] <= EPS:
                    end_order(orders, flat_id, j, END_FILLED)
                    flat_id = -1
            # 2. orders the open is through: rejected, a taker, or a resting
            # order the market is already through (its limit capped to the bar)
            for s in range(2):
                for lv in range(levels):
                    oid = live_id[s, lv]
                    if oid < 0:
                        continue
                    px = live_px[s, lv]
                    if not (px >= oj if s == BID else px <= oj):
                        continue
                    if not arriving[s, lv]:
                        kind = KIND_THROUGH
                        # the least favourable price the bar traded that does
                        # not beat the limit (its low/high, or the limit)
                        fpx = min(px, hj) if s == BID else max(px, lj)
                    elif post_only:
                        use_up(
                            orders, live_id, latest, used, alive, s, lv, j, END_REJECTED
                        )
                        n_rej += 1
                        continue
                    else:
                        kind = KIND_TAKER
                        fpx = oj
                    rate = taker_fee if kind == KIND_TAKER else maker_fee
                    x = min(
                        live_rem[s, lv], budget, cap - pos if s == BID else cap + pos
                    )
                    if x > EPS:
                        pos, cash, cum_fees, cum_spread, budget, n_f, done = fill_order(
                            fills,
                            orders,
                            live_rem,
                            live_id,
                            n_f,
                            j,
                            s,
                            lv,
                            fpx,
                            x,
                            kind,
                            rate,
                            prev_close,
                            pos,
                            cash,
                            cum_fees,
                            cum_spread,
                            budget,
                        )
                        if done:
                            use_up(
                                orders,
                                live_id,
                                latest,
                                used,
                                alive,
                                s,
                                lv,
                                j,
                                END_FILLED,
                            )
            # 3. the path: the side whose extreme comes first fills first
            first = ASK if (hj - oj) < (oj - lj) else BID
            thr = through_ticks * tk if fill_model == FILL_TOUCH else 0.0
            edge_bid, edge_ask = lj + thr, hj - thr  # touch: traded through
            for t in range(2):
                s = first if t == 0 else 1 - first
                sg = 1.0 - 2.0 * s  # +1 bid, −1 ask: no branch on the side
                edge = edge_bid if s == BID else edge_ask
                for lv in range(levels):
                    # through its first tradable bar; here, not in a loop of
                    # its own, which LLVM makes a memset call per side (and a
                    # reload of every register around it): 5 % of the kernel
                    arriving[s, lv] = False
                    oid = live_id[s, lv]
                    if oid < 0:
                        continue
                    px = live_px[s, lv]
                    # inside the bar beyond the open, and reached by its path
                    if not (sg * (oj - px) > 0.0 and sg * (px - edge) >= 0.0):
                        continue
                    if fill_model == FILL_TOUCH:
                        kind = KIND_TOUCH
                    else:
                        kind = KIND_INTENSITY
                        depth = max(sg * (prev_close - px), 0.0)
                        lam = A[j] * np.exp(-k[j] * depth)
                        if not uniforms[j, 2 * lv + s] < 1.0 - np.exp(
                            -lam * bar_seconds
                        ):
                            continue
                    x = min(
                        live_rem[s, lv], budget, cap - pos if s == BID else cap + pos
                    )
                    if x > EPS:
                        pos, cash, cum_fees, cum_spread, budget, n_f, done = fill_order(
                            fills,
                            orders,
                            live_rem,
                            live_id,
                            n_f,
                            j,
                            s,
                            lv,
                            px,
                            x,
                            kind,
                            maker_fee,
                            prev_close,
                            pos,
                            cash,
                            cum_fees,
                            cum_spread,
                            budget,
                        )
                        if done:
                            use_up(
                                orders,
                                live_id,
                                latest,
                                used,
                                alive,
                                s,
                                lv,
                                j,
                                END_FILLED,
                            )
        cum_inv += pos * (cj - prev_close)
        if funding[j] != 0.0:
            fund = -pos * cj * funding[j]
            cum_fund += fund
            cash += fund
        equity = cash + pos * cj
        gas_usd = gas_eth * cj
        # ---- risk limit: stop deciding, cancel and flatten like any order
        if not halted and max_drawdown > 0.0:
            peak = max(peak, equity)
            if peak - equity > max_drawdown:
                halted = True
                # the market order and a cancel of each order still open
                actions = 1 + int(alive.sum())
                new_order(orders, n_o, 0.0, -1.0, ORDER_MARKET, j, np.nan, 0.0)
                stop_pend[slot] = True
                stop_id[slot] = n_o
                n_o += 1
                n_upd += actions
                cum_gas += actions * gas_usd
                cash -= actions * gas_usd
                equity -= actions * gas_usd
        # ---- decision at the close, per side
        if not halted and tradable[j] and not np.isnan(bid_depth[j]):
            if pos != q_of:  # a division on every bar's critical path otherwise
                q = pos / base_size
                q_of = pos
            bid = cj - bid_depth[j] - bid_skew[j] * q
            ask = cj + ask_depth[j] - ask_skew[j] * q
            if geo:  # the pool's grid; NaN (or ≤ 0) stays NaN
                tk = cj * grow
                b0 = min(grid_down(bid, log_tick, 0.0), grid_down(cj, log_tick, -1e-9))
                a0 = max(grid_up(ask, log_tick, 0.0), grid_up(cj, log_tick, -1e-9))
            else:
                tk = tick
                b0 = min(np.floor(bid / tick) * tick, cj - tick)  # off the close
                a0 = max(np.ceil(ask / tick) * tick, cj + tick)
            if q >= max_inventory - EPS:
                b0 = np.nan
            if q <= -max_inventory + EPS:
                a0 = np.nan
            for s in range(2):
                new0 = b0 if s == BID else a0
                old0 = last_px[s]
                if np.isnan(new0):
                    if np.isnan(old0):
                        continue
                    if not any_set(alive, s, levels):  # nothing left to cancel
                        last_px[s] = np.nan
                        continue
                elif not (
                    np.isnan(old0)
                    or used[s] > 0
                    or abs(new0 - old0) >= requote_ticks * tk - EPS
                ):
                    continue
                pend[s, slot] = True
                latest[s] = n_o
                used[s] = 0
                last_px[s] = new0
                mult = 1.0
                sz0 = bid_size[j] if s == BID else ask_size[j]
                actions = 0
                for lv in range(levels):
                    if np.isnan(new0):
                        sub_id[s, slot, lv] = -1
                        actions += alive[s, lv]  # a cancel
                        alive[s, lv] = False
                        continue
                    if geo:
                        step = lv * level_spacing
                        if s == BID:
                            px = grid_down(new0 - step, log_tick, 1e-9)
                        else:
                            px = grid_up(new0 + step, log_tick, 1e-9)
                    else:
                        step = np.round(lv * level_spacing / tick) * tick
                        px = new0 - step if s == BID else new0 + step
                    if np.isnan(px) or not sz0 * mult > 0.0:
                        sub_id[s, slot, lv] = -1
                        actions += alive[s, lv]  # a cancel
                        alive[s, lv] = False
                    else:
                        actions += 1  # a placement (or a replacement)
                        alive[s, lv] = True
                        sign = 1.0 if s == BID else -1.0
                        new_order(orders, n_o, sign, lv, ORDER_LIMIT, j, px, sz0 * mult)
                        sub_id[s, slot, lv] = n_o
                        n_o += 1
                    mult *= level_size_mult
                n_upd += actions
                cum_gas += actions * gas_usd
                cash -= actions * gas_usd
                equity -= actions * gas_usd
        book[j, B_POS] = pos
        book[j, B_CASH] = cash
        book[j, B_EQUITY] = equity
        book[j, B_BID] = live_px[BID, 0] if live_id[BID, 0] >= 0 else np.nan
        book[j, B_ASK] = live_px[ASK, 0] if live_id[ASK, 0] >= 0 else np.nan
        book[j, B_SPREAD] = cum_spread
        book[j, B_INV] = cum_inv
        book[j, B_FEES] = cum_fees
        book[j, B_GAS] = cum_gas
        book[j, B_UPDATES] = n_upd
        book[j, B_FILLS] = n_f
        book[j, B_HALTED] = 1.0 if halted else 0.0
        book[j, B_FUNDING] = cum_fund
        book[j, B_REJECTED] = n_rej
        prev_close = cj
        if halted and flat_id < 0 and pos == 0.0 and idle(pend, stop_pend, live_id):
            # stopped, flat, nothing live or in flight: every later bar is this
            # one (a sweep's stopped trials skip the rest of the loop)
            for jj in range(j + 1, n):
                book[jj, :] = book[j, :]
            break
    return n_f, n_o
