"""Labeling kernels equal plain-Python references on random and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ethpredict.core.labeling import (
    average_uniqueness_nb,
    cusum_events_nb,
    triple_barrier_nb,
)


def cusum_ref(logp, thr):
    s_pos = s_neg = 0.0
    out = []
    for t in range(1, len(logp)):
        r = logp[t] - logp[t - 1]
        s_pos, s_neg = max(0.0, s_pos + r), min(0.0, s_neg + r)
        if not thr[t] > 0:
            continue
        fired = False
        if s_pos > thr[t]:
            s_pos, fired = 0.0, True
        if s_neg < -thr[t]:
            s_neg, fired = 0.0, True
        if fired:
            out.append(t)
    return out


def barrier_ref(o, h, lo, c, t0, up, down, side, horizon, rule):
    """Returns (t1, touch, ret) for one event, written the obvious way."""
    entry = c[t0]
    upper = entry + up if up > 0 else math.inf
    lower = entry - down if down > 0 else -math.inf
    for j in range(t0 + 1, min(t0 + horizon, len(c) - 1) + 1):
        a, b = h[j] > upper, lo[j] < lower
        if a and b:
            stop = "lower" if side >= 0 else "upper"
            if rule == 0:
                du, dd = upper - o[j], o[j] - lower
                first = "upper" if du < dd else "lower" if dd < du else stop
            elif rule == 1:
                first = stop
            else:
                first = "upper" if stop == "lower" else "lower"
            a, b = first == "upper", first == "lower"
        if a:
            return j, 1, max(o[j], upper) - entry
        if b:
            return j, -1, min(o[j], lower) - entry
    if t0 + horizon <= len(c) - 1:
        return t0 + horizon, 0, c[t0 + horizon] - entry
    return -1, -2, math.nan


def random_bars(rng, n, flat_share=0.0):
    c = np.cumsum(rng.normal(0, 0.01, n)) + 8.0
    o = np.r_[8.0, c[:-1]] + rng.normal(0, 0.002, n)
    h = np.maximum(o, c) + rng.exponential(0.004, n)
    lo = np.minimum(o, c) - rng.exponential(0.004, n)
    flat = rng.random(n) < flat_share
    o[flat] = h[flat] = lo[flat] = c[flat] = 8.0
    return o, h, lo, c


@pytest.mark.parametrize("seed", range(40))
def test_cusum_equals_reference(seed):
    rng = np.random.default_rng(seed)
    logp = np.cumsum(rng.standard_t(3, 500) * 0.01)
    thr = np.where(rng.random(500) < 0.1, np.nan, rng.uniform(0, 0.05, 500))
    out = np.empty(500, np.int64)
    n = cusum_events_nb(logp, thr, out)
    assert list(out[:n]) == cusum_ref(logp, thr)


def test_cusum_counts_the_first_return_and_resets_only_the_side_that_fired():
    logp = np.array([0.0, 0.03, 0.0, -0.02, -0.04])
    out = np.empty(5, np.int64)
    n = cusum_events_nb(logp, np.full(5, 0.025), out)
    # t=1: +0.03 fires up (first return counts). t=2: s- = -0.03 fires down;
    # t=3: s- restarted at 0 -> -0.02; t=4: -0.04 fires again.
    assert list(out[:n]) == [1, 2, 4]


@pytest.mark.parametrize("seed", range(60))
def test_triple_barrier_equals_reference(seed):
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(5, 200))
    o, h, lo, c = random_bars(rng, n, flat_share=0.2 if seed % 3 == 0 else 0.0)
    m = int(rng.integers(1, n))
    ev = np.sort(rng.choice(n, m, replace=False)).astype(np.int64)
    up = rng.uniform(-0.002, 0.03, m)  # some disabled (<= 0)
    down = rng.uniform(-0.002, 0.03, m)
    side = rng.choice([-1, 1], m).astype(np.int64)
    horizon = int(rng.integers(1, 30))
    for rule in (0, 1, 2):
        t1, touch, ret = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m)
        triple_barrier_nb(
            o, h, lo, c, ev, up, down, side, horizon, rule, t1, touch, ret
        )
        for i in range(m):
            rt1, rtouch, rret = barrier_ref(
                o, h, lo, c, ev[i], up[i], down[i], side[i], horizon, rule
            )
            assert (t1[i], touch[i]) == (rt1, rtouch)
            assert (math.isnan(ret[i]) and math.isnan(rret)) or ret[i] == rret


def run_one(o, h, lo, c, t0, up, down, side=1, horizon=5, rule=0):
    arr = [np.asarray(x, float) for x in (o, h, lo, c)]
    t1, touch, ret = np.empty(1, np.int64), np.empty(1, np.int64), np.empty(1)
    triple_barrier_nb(
        *arr,
        np.array([t0]),
        np.array([up]),
        np.array([down]),
        np.array([side]),
        horizon,
        rule,
        t1,
        touch,
        ret,
    )
    return int(t1[0]), int(touch[0]), float(ret[0])


def test_both_barriers_in_one_bar():
    # bar 1 spans both barriers; its open is nearer the upper one
    o, h, lo, c = [0, 0.009, 0], [0, 0.02, 0], [0, -0.02, 0], [0, 0, 0]
    assert run_one(o, h, lo, c, 0, 0.01, 0.01, rule=0)[1] == 1  # nearest to open
    assert run_one(o, h, lo, c, 0, 0.01, 0.01, rule=1)[1] == -1  # stop first (long)
    assert run_one(o, h, lo, c, 0, 0.01, 0.01, side=-1, rule=1)[1] == 1  # short's stop
    assert run_one(o, h, lo, c, 0, 0.01, 0.01, rule=2)[1] == 1  # profit first


def test_gap_through_a_barrier_exits_at_the_open():
    assert run_one([0, -0.05], [0, -0.04], [0, -0.06], [0, -0.05], 0, 0.01, 0.01) == (
        1,
        -1,
        -0.05,
    )


def test_touches_use_highs_and_lows_not_closes():
    # the close never reaches the barrier, the high does
    assert run_one([0, 0], [0, 0.011], [0, -0.001], [0, 0.0], 0, 0.01, 0.01)[:2] == (
        1,
        1,
    )


def test_a_price_exactly_at_a_barrier_is_no_touch():
    # the high reaches exactly +0.01 and the low exactly -0.01: no touch (strict, as
    # in AFML); the vertical exit at exactly -sl is labelled vertical, not a stop
    o, h, lo, c = [0, 0, 0, 0], [0, 0.01, 0, 0], [0, 0, -0.01, -0.01], [0, 0, 0, -0.01]
    assert run_one(o, h, lo, c, 0, 0.01, 0.01, horizon=3) == (3, 0, -0.01)
    # a hair beyond is a touch
    h[1] = np.nextafter(0.01, 1)
    assert run_one(o, h, lo, c, 0, 0.01, 0.01, horizon=3)[:2] == (1, 1)


def test_vertical_barrier_and_events_in_the_last_bars():
    flat = [0.0] * 6
    assert run_one(
        flat, flat, flat, [0, 0, 0, 0.001, 0, 0.002], 0, 0.01, 0.01, horizon=5
    ) == (5, 0, 0.002)
    t1, touch, ret = run_one(flat, flat, flat, flat, 3, 0.01, 0.01, horizon=5)
    assert (t1, touch) == (-1, -2) and math.isnan(ret)


def test_flat_prices_with_zero_volatility_give_vertical_labels():
    flat = [8.0] * 10
    assert run_one(flat, flat, flat, flat, 2, 0.0, 0.0, horizon=3) == (5, 0, 0.0)


def uniqueness_ref(t0, t1, n):
    conc = [sum(1 for a, b in zip(t0, t1, strict=True) if a < t <= b) for t in range(n)]
    return [
        float(np.mean([1 / conc[t] for t in range(a + 1, b + 1)])) if b > a else 1.0
        for a, b in zip(t0, t1, strict=True)
    ]


def test_uniqueness_hand_computed():
    # label A spans returns of bars 1-3, B bars 3-4, C bar 5:
    # concurrency: bar1 1, bar2 1, bar3 2, bar4 1, bar5 1
    u = average_uniqueness_nb(np.array([0, 2, 4]), np.array([3, 4, 5]), 6)
    np.testing.assert_allclose(u, [(1 + 1 + 0.5) / 3, (0.5 + 1) / 2, 1.0])


@pytest.mark.parametrize("seed", range(30))
def test_uniqueness_equals_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 80))
    t0 = np.sort(rng.integers(0, n, int(rng.integers(1, 40))))
    t1 = np.minimum(t0 + rng.integers(0, 10, t0.size), n - 1)
    np.testing.assert_allclose(
        average_uniqueness_nb(t0, t1, n), uniqueness_ref(t0, t1, n)
    )
