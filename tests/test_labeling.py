"""Event sampling, sided barriers, meta-labels, time decay."""

from __future__ import annotations

import numpy as np
import pytest

from ethpredict.labeling import meta_labels, sample_events, time_decay, triple_barrier
from ethpredict.params import LabelsParams


def test_every_bar_or_cusum_events(small):
    bars = small["bars"]
    every = sample_events(bars, LabelsParams(events="all", vol_span=50))
    assert len(every) == len(bars) - 50  # the volatility needs 50 returns
    cusum = sample_events(bars, LabelsParams(vol_span=50, cusum_vol_mult=3))
    assert 0 < len(cusum) < len(every) / 4
    fixed = sample_events(bars, LabelsParams(vol_span=50, cusum_threshold=0.002))
    assert set(fixed["t0_idx"]) <= set(every["t0_idx"])


def test_barriers_scale_with_both_multipliers(small):
    bars = small["bars"]
    ev = sample_events(bars, LabelsParams(vol_span=50)).iloc[:300]
    wide_stop = triple_barrier(bars, ev, LabelsParams(vol_span=50, pt=1.0, sl=50.0))
    assert (wide_stop["touch"] == -1).sum() == 0  # a 50-vol stop is never hit
    assert (wide_stop["touch"] == 1).sum() > 0
    wide_profit = triple_barrier(bars, ev, LabelsParams(vol_span=50, pt=50.0, sl=1.0))
    assert (wide_profit["touch"] == 1).sum() == 0


def test_sided_barriers_and_meta_labels(small):
    bars = small["bars"]
    p = LabelsParams(vol_span=50, pt=1.0, sl=3.0)
    ev = sample_events(bars, p).iloc[:200]
    longs = triple_barrier(bars, ev, p, side=np.ones(len(ev)))
    shorts = triple_barrier(bars, ev, p, side=-np.ones(len(ev)))
    # for a short the profit barrier (1 vol) is the lower one
    np.testing.assert_allclose(shorts["vol"] * 1.0, shorts["vol"])
    short_profit = shorts["touch"] == -1
    assert np.allclose(
        shorts.loc[short_profit, "ret"] <= -shorts.loc[short_profit, "vol"] + 1e-12,
        True,
    )
    m_long = meta_labels(longs, np.ones(len(ev)))
    m_short = meta_labels(shorts, -np.ones(len(ev)))
    resolved = longs["touch"] != -2
    assert set(np.unique(m_long[resolved])) <= {0.0, 1.0}
    assert (m_long[resolved] == (longs["ret"][resolved] > 0)).all()
    assert (
        m_short[resolved.to_numpy() & (shorts["touch"] != -2).to_numpy()] <= 1
    ).all()


def test_vertical_label_sign_rule():
    import pandas as pd

    idx = pd.date_range("2024-01-01", periods=6, freq="1min", tz="UTC")
    close = [100, 100.01, 100.02, 100.01, 100.03, 100.02]
    bars = pd.DataFrame(
        {"open": close, "high": close, "low": close, "close": close}, index=idx
    )
    ev = pd.DataFrame({"t0_idx": [0], "vol": [0.01]}, index=idx[:1])
    zero = triple_barrier(bars, ev, LabelsParams(horizon=3))
    sign = triple_barrier(bars, ev, LabelsParams(horizon=3, vertical_label="sign"))
    assert zero["label"].iat[0] == 0 and sign["label"].iat[0] == 1


def test_time_decay():
    u = np.array([1.0, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(time_decay(u, 1.0), 1.0)
    w = time_decay(u, 0.0)
    assert w[-1] == pytest.approx(1.0) and np.all(np.diff(w) > 0)
    np.testing.assert_allclose(w, np.cumsum(u) / u.sum())
    assert (time_decay(u, -0.5)[:2] == 0).all()  # the oldest half is forgotten
