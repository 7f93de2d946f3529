"""The order book's record operations, shared by the fill loops: placing,
ending and using up an order, writing a fill, filling a live order, the
pool's price grid. Numba inlines them into the kernels (``inline="always"``).

Schema (columns of ``fills`` and ``orders``; enums): :mod:`ethpredict.core.types`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ethpredict.core.types import (
    BID,
    END_OPEN,
    F_BAR,
    F_KIND,
    F_LEVEL,
    F_ORDER,
    F_PRICE,
    F_SIDE,
    F_SIZE,
    O_END,
    O_FILLED,
    O_LEVEL,
    O_LIVE,
    O_PRICE,
    O_REASON,
    O_SIDE,
    O_SIZE,
    O_SUBMIT,
    O_TYPE,
)

EPS = 1e-9


@njit(cache=True)
def grid_down(x, log_tick, eps):
    """The highest point of the grid ``e^(m·log_tick)`` at or below ``x``
    (``eps`` in grid steps: + forgives rounding, − keeps strictly beyond ``x``);
    NaN for ``x`` ≤ 0 or NaN."""
    if not x > 0.0:
        return np.nan
    return np.exp(np.floor(np.log(x) / log_tick + eps) * log_tick)


@njit(cache=True)
def grid_up(x, log_tick, eps):
    """The lowest grid point at or above ``x`` (``eps`` as in :func:`grid_down`)."""
    return np.exp(np.ceil(np.log(x) / log_tick - eps) * log_tick)


@njit(cache=True, inline="always")
def new_order(orders, oid, sign, level, kind, bar, price, size):
    orders[oid, O_SIDE] = sign
    orders[oid, O_LEVEL] = level
    orders[oid, O_TYPE] = kind
    orders[oid, O_SUBMIT] = bar
    orders[oid, O_LIVE] = -1.0
    orders[oid, O_END] = -1.0
    orders[oid, O_PRICE] = price
    orders[oid, O_SIZE] = size
    orders[oid, O_FILLED] = 0.0
    orders[oid, O_REASON] = END_OPEN


@njit(cache=True, inline="always")
def end_order(orders, oid, bar, reason):
    orders[oid, O_END] = bar
    orders[oid, O_REASON] = reason


@njit(cache=True, inline="always")
def use_up(orders, live_id, latest, used, alive, s, lv, j, reason):
    """End the live order at side ``s``, level ``lv`` (filled or rejected) and
    empty its slot; if it belongs to the side's latest submission, the side
    counts one more order used up (so it is re-posted at the next decision)."""
    oid = live_id[s, lv]
    end_order(orders, oid, j, reason)
    live_id[s, lv] = -1
    if oid >= latest[s]:
        used[s] += 1
        alive[s, lv] = False


@njit(cache=True, inline="always")
def write_fill(fills, n_f, bar, sign, price, size, level, oid, kind):
    fills[n_f, F_BAR] = bar
    fills[n_f, F_SIDE] = sign
    fills[n_f, F_PRICE] = price
    fills[n_f, F_SIZE] = size
    fills[n_f, F_LEVEL] = level
    fills[n_f, F_ORDER] = oid
    fills[n_f, F_KIND] = kind


@njit(cache=True, inline="always")
def fill_order(
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
    rate,
    prev_close,
    pos,
    cash,
    cum_fees,
    cum_spread,
    budget,
):
    """Fill ``x`` of the live order at side ``s``, level ``lv`` at ``px``: the
    one fill routine of both sides. Returns the updated book scalars, the
    fill count and whether the order is used up (the caller then ends it).

    Straight-line on purpose: with a branch inside, Numba's inlining keeps
    reference-count updates (atomic increments and decrements) of the arrays
    passed in, on every fill."""
    oid = live_id[s, lv]
    sign = 1.0 if s == BID else -1.0
    write_fill(fills, n_f, j, sign, px, x, lv, oid, kind)
    fee = rate * px * x
    live_rem[s, lv] -= x
    orders[oid, O_FILLED] += x
    done = live_rem[s, lv] <= EPS
    return (
        pos + sign * x,
        cash - sign * x * px - fee,
        cum_fees + fee,
        cum_spread + sign * x * (prev_close - px),
        budget - x,
        n_f + 1,
        done,
    )


@njit(cache=True, inline="always")
def any_set(flags, s, levels) -> bool:
    """Whether any level of side ``s`` is set (no view of the row; a loop, not
    a generator, which Numba would build as an object)."""
    for lv in range(levels):  # noqa: SIM110
        if flags[s, lv]:
            return True
    return False


@njit(cache=True)
def idle(pend, stop_pend, live_id) -> bool:
    """No submission in flight and no order live."""
    return not (pend.any() or stop_pend.any() or (live_id >= 0).any())
