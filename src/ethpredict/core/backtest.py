"""The on-chain market-making fill loop (Numba), bar by bar.

Clock: a decision is made at each bar's close from data up to that close.
A quote submitted then is live from the bar ``1 + delay`` bars later, where
``delay`` counts the bars that latency plus the wait for the next block
boundary span (computed by the wrapper), and stays live until replaced. It is
replaced only when a level-0 price moved by at least ``requote_ticks`` ticks
or a side appeared or vanished; each replacement pays ``gas_eth`` × the close
in USD.

Fills, per live level: ``touch`` — the ask fills when the bar's high trades
*through* it by ``through_ticks`` ticks (the bid likewise on the low); when
both sides would fill, the intra-bar path is open→high→low→close if the high
is nearer the open, else open→low→high→close, and fills happen in that
order. ``intensity`` — a level at depth δ from the previous close fills with
probability ``1 − exp(−A·e^(−k·δ)·Δt)`` (uniforms given by the wrapper, so runs
are seeded). Maker orders fill at their limit price. A fill that would take
``|position|`` above ``max_inventory`` order sizes is skipped.

PnL per bar, exactly: ``spread`` = Σ fills side·size·(previous close − price),
``inventory`` = position after the bar's fills × (close − previous close),
``fees`` = maker fee on fill notional (negative = rebate, or a pool's fee
tier earned) plus the taker fee of a forced flatten, ``gas``, ``funding`` =
−position after the bar's fills × close × the funding rate settled at the
bar's close (a perpetual; longs pay a positive rate); equity change = spread
+ inventory − fees − gas + funding.

Price grid: ``log_tick`` 0 — quotes are multiples of ``tick``; ``log_tick``
> 0 — quotes sit on the geometric grid ``e^(m·log_tick)`` (a Uniswap v3 pool:
``tick_spacing · ln 1.0001``), and wherever the rules say "tick" they mean
the grid step at that price.

Risk: once equity falls ``max_drawdown`` USD below its peak (0 = off), the
book flattens at the close paying ``taker_fee``, cancels its quotes (one more
update) and stops quoting; a quote still in flight never goes live.

Slow reference: ``tests/core/test_backtest.py::reference`` (plain Python).
"""

from __future__ import annotations

import numpy as np
from numba import njit

FILL_TOUCH, FILL_INTENSITY = 0, 1
#: columns of the per-bar book written by :func:`backtest_nb`
BOOK_COLUMNS = (
    "position", "cash", "equity", "bid", "ask", "spread_pnl", "inventory_pnl",
    "fees", "gas", "updates", "fills", "halted", "funding",
)  # fmt: skip
#: columns of the fills output
FILL_COLUMNS = ("bar", "side", "price", "size", "level")


@njit(cache=True)
def _fill(fills, n_f, j, side, price, size, level, pos, cash, fee_rate, prev_close):
    fills[n_f, 0] = j
    fills[n_f, 1] = side
    fills[n_f, 2] = price
    fills[n_f, 3] = size
    fills[n_f, 4] = level
    fee = fee_rate * price * size
    spread = side * size * (prev_close - price)
    return pos + side * size, cash - side * size * price - fee, fee, spread


@njit(cache=True)
def _grid_down(x, log_tick, eps):
    """The highest point of the grid ``e^(m·log_tick)`` at or below ``x``
    (``eps`` in grid steps: + forgives rounding, − keeps strictly beyond ``x``);
    NaN for ``x`` ≤ 0 or NaN."""
    if not x > 0.0:
        return np.nan
    return np.exp(np.floor(np.log(x) / log_tick + eps) * log_tick)


@njit(cache=True)
def _grid_up(x, log_tick, eps):
    """The lowest grid point at or above ``x`` (``eps`` as in :func:`_grid_down`)."""
    return np.exp(np.ceil(np.log(x) / log_tick - eps) * log_tick)


@njit(cache=True)
def backtest_nb(
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    bid_depth: np.ndarray,
    ask_depth: np.ndarray,
    bid_size: np.ndarray,
    ask_size: np.ndarray,
    A: np.ndarray,
    k: np.ndarray,
    uniforms: np.ndarray,
    levels: int,
    level_spacing: float,
    level_size_mult: float,
    tick: float,
    base_size: float,
    max_inventory: float,
    requote_ticks: float,
    delay: int,
    gas_eth: float,
    fee_rate: float,
    taker_fee_rate: float,
    fill_model: int,
    through_ticks: float,
    bar_seconds: float,
    max_drawdown: float,
    funding: np.ndarray,
    log_tick: float,
    book: np.ndarray,
    fills: np.ndarray,
) -> int:
    """Run the book over ``n`` bars; returns the number of fills written.

    ``bid_depth[t] = (d0, s)`` gives the level-0 bid ``close − d0 − s·q`` and
    ``ask_depth[t] = (d0, s)`` the ask ``close + d0 − s·q`` for inventory ``q``
    (in order sizes), rounded to the tick away from the close; NaN ``d0``
    means no decision at that bar (the live quote stays). Level ``l`` sits
    ``l·level_spacing`` further out with ``level_size_mult^l`` times the size.
    ``book`` (n × 13, :data:`BOOK_COLUMNS`) and ``fills`` (≥ 2·n·levels × 5,
    :data:`FILL_COLUMNS`) are written in place; cumulative book columns.
    """
    n = c.shape[0]
    # quotes submitted but not yet live: a ring of delay + 1 slots (a quote
    # submitted at bar j goes live at bar j + 1 + delay, the same slot)
    ring = delay + 1
    sub_bid = np.full((ring, levels), np.nan)
    sub_ask = np.full((ring, levels), np.nan)
    sub_bsz = np.zeros((ring, levels))
    sub_asz = np.zeros((ring, levels))
    pending = np.zeros(ring, dtype=np.bool_)
    live_bid = np.full(levels, np.nan)
    live_ask = np.full(levels, np.nan)
    live_bsz = np.zeros(levels)
    live_asz = np.zeros(levels)
    last_bid = np.nan
    last_ask = np.nan
    pos = 0.0
    cash = 0.0
    peak = 0.0
    halted = False
    n_f = 0
    cum_spread = 0.0
    cum_inv = 0.0
    cum_fees = 0.0
    cum_gas = 0.0
    cum_fund = 0.0
    geo = log_tick > 0.0
    grow = np.exp(log_tick) - 1.0
    n_upd = 0
    n_fills = 0
    for j in range(n):
        prev_close = c[j - 1] if j > 0 else o[j]
        slot = j % ring
        if pending[slot]:
            pending[slot] = False
            if not halted:
                for lv in range(levels):
                    live_bid[lv] = sub_bid[slot, lv]
                    live_ask[lv] = sub_ask[slot, lv]
                    live_bsz[lv] = sub_bsz[slot, lv]
                    live_asz[lv] = sub_asz[slot, lv]
        # ---- fills in bar j
        tk = prev_close * grow if geo else tick
        if not halted:
            asks_first = (h[j] - o[j]) < (o[j] - lo[j])
            for phase in range(2):
                do_ask = (phase == 0) == asks_first
                for lv in range(levels):
                    if do_ask:
                        px = live_ask[lv]
                        sz = live_asz[lv]
                        if np.isnan(px) or sz <= 0.0:
                            continue
                        if fill_model == FILL_TOUCH:
                            hit = h[j] >= px + through_ticks * tk
                        else:
                            lam = A[j] * np.exp(-k[j] * max(px - prev_close, 0.0))
                            hit = uniforms[j, 2 * lv + 1] < 1.0 - np.exp(
                                -lam * bar_seconds
                            )
                        if hit and (pos - sz) >= -max_inventory * base_size - 1e-9:
                            pos, cash, fee, sp = _fill(fills, n_f, j, -1.0, px, sz, lv, pos,
                                                       cash, fee_rate, prev_close)  # fmt: skip
                            n_f += 1
                            n_fills += 1
                            cum_fees += fee
                            cum_spread += sp
                    else:
                        px = live_bid[lv]
                        sz = live_bsz[lv]
                        if np.isnan(px) or sz <= 0.0:
                            continue
                        if fill_model == FILL_TOUCH:
                            hit = lo[j] <= px - through_ticks * tk
                        else:
                            lam = A[j] * np.exp(-k[j] * max(prev_close - px, 0.0))
                            hit = uniforms[j, 2 * lv] < 1.0 - np.exp(-lam * bar_seconds)
                        if hit and (pos + sz) <= max_inventory * base_size + 1e-9:
                            pos, cash, fee, sp = _fill(fills, n_f, j, 1.0, px, sz, lv, pos,
                                                       cash, fee_rate, prev_close)  # fmt: skip
                            n_f += 1
                            n_fills += 1
                            cum_fees += fee
                            cum_spread += sp
        cum_inv += pos * (c[j] - prev_close)
        if funding[j] != 0.0:
            fund = -pos * c[j] * funding[j]
            cum_fund += fund
            cash += fund
        equity = cash + pos * c[j]
        # ---- risk limit: flatten and stop
        if not halted and max_drawdown > 0.0:
            peak = max(peak, equity)
            if peak - equity > max_drawdown:
                fee = taker_fee_rate * abs(pos) * c[j]
                cash -= fee - pos * c[j]
                cum_fees += fee
                pos = 0.0
                cum_gas += gas_eth * c[j]
                cash -= gas_eth * c[j]
                n_upd += 1
                halted = True
                for lv in range(levels):
                    live_bid[lv] = np.nan
                    live_ask[lv] = np.nan
                equity = cash
        # ---- decision at the close
        if not halted and not np.isnan(bid_depth[j, 0]):
            q = pos / base_size
            can_bid = q < max_inventory - 1e-9
            can_ask = q > -max_inventory + 1e-9
            bid = c[j] - bid_depth[j, 0] - bid_depth[j, 1] * q
            ask = c[j] + ask_depth[j, 0] - ask_depth[j, 1] * q
            if geo:  # the pool's grid; NaN (or ≤ 0) stays NaN
                tk = c[j] * grow
                b0 = min(
                    _grid_down(bid, log_tick, 0.0), _grid_down(c[j], log_tick, -1e-9)
                )
                a0 = max(_grid_up(ask, log_tick, 0.0), _grid_up(c[j], log_tick, -1e-9))
            else:
                tk = tick
                b0 = np.floor(bid / tick) * tick
                a0 = np.ceil(ask / tick) * tick
                b0 = min(b0, c[j] - tick)  # never at or through the mid
                a0 = max(a0, c[j] + tick)
            if not can_bid:
                b0 = np.nan
            if not can_ask:
                a0 = np.nan
            moved = (
                (np.isnan(b0) != np.isnan(last_bid))
                or (np.isnan(a0) != np.isnan(last_ask))
                or (
                    not np.isnan(b0) and abs(b0 - last_bid) >= requote_ticks * tk - 1e-9
                )
                or (
                    not np.isnan(a0) and abs(a0 - last_ask) >= requote_ticks * tk - 1e-9
                )
            )
            if moved:
                pending[slot] = True
                mult = 1.0
                for lv in range(levels):
                    if geo:
                        step = lv * level_spacing
                        sub_bid[slot, lv] = _grid_down(b0 - step, log_tick, 1e-9)
                        sub_ask[slot, lv] = _grid_up(a0 + step, log_tick, 1e-9)
                    else:
                        step = np.round(lv * level_spacing / tick) * tick
                        sub_bid[slot, lv] = b0 - step
                        sub_ask[slot, lv] = a0 + step
                    sub_bsz[slot, lv] = bid_size[j] * mult
                    sub_asz[slot, lv] = ask_size[j] * mult
                    mult *= level_size_mult
                last_bid = b0
                last_ask = a0
                cum_gas += gas_eth * c[j]
                cash -= gas_eth * c[j]
                equity -= gas_eth * c[j]
                n_upd += 1
        book[j, 0] = pos
        book[j, 1] = cash
        book[j, 2] = equity
        book[j, 3] = live_bid[0]
        book[j, 4] = live_ask[0]
        book[j, 5] = cum_spread
        book[j, 6] = cum_inv
        book[j, 7] = cum_fees
        book[j, 8] = cum_gas
        book[j, 9] = n_upd
        book[j, 10] = n_fills
        book[j, 11] = 1.0 if halted else 0.0
        book[j, 12] = cum_fund
    return n_f


@njit(cache=True)
def average_cost_nb(
    fill_bar: np.ndarray,
    fill_side: np.ndarray,
    fill_price: np.ndarray,
    fill_size: np.ndarray,
    close: np.ndarray,
    flatten_bar: int,
    avg_out: np.ndarray,
    realized_out: np.ndarray,
    unrealized_out: np.ndarray,
) -> None:
    """Average-cost accounting of the fills, per bar.

    Adding to a position moves the average entry to the size-weighted mean;
    reducing it realises ``closed size × (price − average) × sign(position)``;
    a trade through zero realises the old position and opens the rest at its
    price. ``flatten_bar`` (−1: none) closes the position at that bar's close
    (the drawdown stop). Unrealised = position × (close − average). Trading
    PnL (realised + unrealised) equals spread + inventory PnL of the book.
    Slow reference: the loop written with Python floats in the tests.
    """
    pos = 0.0
    avg = np.nan
    realized = 0.0
    f = 0
    for j in range(close.shape[0]):
        while f < fill_bar.shape[0] and fill_bar[f] == j:
            signed = fill_side[f] * fill_size[f]
            price = fill_price[f]
            if pos == 0.0 or (pos > 0) == (signed > 0):
                avg = (
                    price
                    if pos == 0.0
                    else (avg * abs(pos) + price * abs(signed))
                    / (abs(pos) + abs(signed))
                )
                pos += signed
            else:
                closed = min(abs(pos), abs(signed))
                realized += closed * (price - avg) * (1.0 if pos > 0 else -1.0)
                new = pos + signed
                if abs(new) < 1e-12:
                    pos, avg = 0.0, np.nan
                elif (new > 0) != (pos > 0):
                    pos, avg = new, price
                else:
                    pos = new
            f += 1
        if j == flatten_bar and pos != 0.0:
            realized += pos * (close[j] - avg)
            pos, avg = 0.0, np.nan
        avg_out[j] = avg
        realized_out[j] = realized
        unrealized_out[j] = pos * (close[j] - avg) if pos != 0.0 else 0.0
