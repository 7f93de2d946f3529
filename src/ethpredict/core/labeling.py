"""Labeling kernels: CUSUM events, triple barrier, label uniqueness.

All prices are log prices; all returns are log returns (one return space
throughout, so a barrier at ``+pt·vol`` and a return of ``+pt·vol`` are the
same thing). Bars are positions on axis 0.

Slow references (plain Python, in ``tests/core/test_labeling.py``) must equal
each kernel on many random and edge cases.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: touch codes of :func:`triple_barrier_nb`
TOUCH_UPPER, TOUCH_LOWER, TOUCH_VERTICAL, TOUCH_NONE = 1, -1, 0, -2
#: rules for a bar that crosses both barriers
BOTH_NEAREST_TO_OPEN, BOTH_STOP_FIRST, BOTH_PROFIT_FIRST = 0, 1, 2


@njit(cache=True)
def cusum_events_nb(logp: np.ndarray, threshold: np.ndarray, out: np.ndarray) -> int:
    """Symmetric CUSUM filter (AFML 2.5.2.1) on log-price changes.

    ``s⁺ = max(0, s⁺ + r_t)``, ``s⁻ = min(0, s⁻ + r_t)`` from the first
    return on; when ``s⁺ > h_t`` an event fires at ``t`` and only ``s⁺``
    resets (likewise ``s⁻ < −h_t``). A NaN or non-positive threshold skips
    the test at that bar (the sums keep running).

    Args:
        logp: Log prices, one per bar.
        threshold: The threshold ``h_t`` per bar, a log return (NaN or ≤ 0:
            no test at that bar).
        out: Out, int64, at least as long as ``logp``; event bar positions
            are written into its head in place.

    Returns:
        How many events were written to ``out``.
    """
    s_pos = 0.0
    s_neg = 0.0
    n_ev = 0
    for t in range(1, logp.shape[0]):
        r = logp[t] - logp[t - 1]
        s_pos = max(0.0, s_pos + r)
        s_neg = min(0.0, s_neg + r)
        h = threshold[t]
        if not (h > 0.0):
            continue
        fired = False
        if s_pos > h:
            s_pos = 0.0
            fired = True
        if s_neg < -h:
            s_neg = 0.0
            fired = True
        if fired:
            out[n_ev] = t
            n_ev += 1
    return n_ev


@njit(cache=True)
def triple_barrier_nb(
    logo: np.ndarray,
    logh: np.ndarray,
    logl: np.ndarray,
    logc: np.ndarray,
    events: np.ndarray,
    up: np.ndarray,
    down: np.ndarray,
    side: np.ndarray,
    horizon: int,
    both_rule: int,
    t1_out: np.ndarray,
    touch_out: np.ndarray,
    ret_out: np.ndarray,
) -> None:
    """First barrier touch for each event.

    An event at bar ``t0`` enters at ``logc[t0]``; its upper barrier is at
    ``+up[i]`` and its lower at ``−down[i]`` (log distances; a value that is
    not > 0 disables that barrier). Bars ``t0+1 … t0+horizon`` are searched;
    a barrier is touched when the bar's high (low) goes strictly beyond it — a
    price exactly at a barrier is not a touch (as in AFML 3.2, so a vertical
    exit at exactly ``−down`` is vertical, not a stop). The exit is
    the barrier level, or the bar's open when the bar opened beyond it (a
    gap). A bar that reaches both barriers is resolved by ``both_rule``:
    nearest to the bar's open first (ties: the stop), the stop first, or the
    profit first, where ``side[i]`` (+1 long, −1 short) says which barrier
    is the stop (for side +1 the lower one). With no touch, the vertical
    barrier at ``t0+horizon`` exits at its close. An event whose window runs
    past the data without a touch is unresolved (``t1 = −1``, NaN return).

    Args:
        logo: Log opens, one per bar.
        logh: Log highs.
        logl: Log lows.
        logc: Log closes.
        events: int64 bar positions ``t0`` of the events.
        up: Per event, the upper barrier's log distance above the entry.
        down: Per event, the lower barrier's log distance below the entry.
        side: Per event, +1 long / −1 short (int64).
        horizon: The vertical barrier, in bars after ``t0``.
        both_rule: ``BOTH_NEAREST_TO_OPEN``, ``BOTH_STOP_FIRST`` or
            ``BOTH_PROFIT_FIRST``.
        t1_out: Out, int64 per event: the exit bar (−1: unresolved), in
            place.
        touch_out: Out, int64 per event: ``TOUCH_UPPER`` 1,
            ``TOUCH_LOWER`` −1, ``TOUCH_VERTICAL`` 0, ``TOUCH_NONE`` −2, in
            place.
        ret_out: Out, float64 per event: the log return entry→exit (NaN:
            unresolved), in place.
    """
    n = logc.shape[0]
    for i in range(events.shape[0]):
        t0 = events[i]
        entry = logc[t0]
        hi_lvl = entry + up[i] if up[i] > 0.0 else np.inf
        lo_lvl = entry - down[i] if down[i] > 0.0 else -np.inf
        t1_out[i] = -1
        touch_out[i] = TOUCH_NONE
        ret_out[i] = np.nan
        last = min(t0 + horizon, n - 1)
        for j in range(t0 + 1, last + 1):
            hit_up = logh[j] > hi_lvl  # strict: at the barrier is no touch
            hit_dn = logl[j] < lo_lvl
            if not (hit_up or hit_dn):
                continue
            if hit_up and hit_dn:
                stop_is_lower = side[i] >= 0
                if both_rule == BOTH_NEAREST_TO_OPEN:
                    d_up = hi_lvl - logo[j]
                    d_dn = logo[j] - lo_lvl
                    # the nearer barrier first; a tie goes to the stop
                    if d_dn < d_up or (d_dn == d_up and stop_is_lower):
                        hit_up = False
                    else:
                        hit_dn = False
                elif (both_rule == BOTH_STOP_FIRST) == stop_is_lower:
                    hit_up = False
                else:
                    hit_dn = False
            t1_out[i] = j
            if hit_up:
                touch_out[i] = TOUCH_UPPER
                ret_out[i] = max(logo[j], hi_lvl) - entry
            else:
                touch_out[i] = TOUCH_LOWER
                ret_out[i] = min(logo[j], lo_lvl) - entry
            break
        if t1_out[i] < 0 and t0 + horizon <= n - 1:
            t1_out[i] = t0 + horizon
            touch_out[i] = TOUCH_VERTICAL
            ret_out[i] = logc[t0 + horizon] - entry


@njit(cache=True)
def average_uniqueness_nb(t0: np.ndarray, t1: np.ndarray, n_bars: int) -> np.ndarray:
    """Average uniqueness of each label (AFML 4.4).

    Label ``i`` depends on the returns of bars ``t0[i]+1 … t1[i]``; the
    concurrency ``c_t`` of bar ``t`` is the number of labels whose span holds
    it, and the label's uniqueness is the mean of ``1/c_t`` over its span
    (1.0 for an empty span).

    Args:
        t0: int64 entry bar positions, one per label.
        t1: int64 exit bar positions (resolved: ≥ ``t0``, < ``n_bars``).
        n_bars: The number of bars.

    Returns:
        float64 uniqueness per label, in (0, 1].
    """
    conc = np.zeros(n_bars + 1, dtype=np.int64)
    for i in range(t0.shape[0]):
        conc[t0[i] + 1] += 1
        conc[t1[i] + 1] -= 1
    for t in range(1, n_bars + 1):
        conc[t] += conc[t - 1]
    inv = np.zeros(n_bars + 1)
    for t in range(n_bars):
        if conc[t] > 0:
            inv[t + 1] = inv[t] + 1.0 / conc[t]
        else:
            inv[t + 1] = inv[t]
    out = np.empty(t0.shape[0])
    for i in range(t0.shape[0]):
        span = t1[i] - t0[i]
        # prefix sums round: clamp to the mathematical range (0, 1]
        out[i] = min(1.0, (inv[t1[i] + 1] - inv[t0[i] + 1]) / span) if span > 0 else 1.0
    return out
