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


@pytest.fixture
def halted(tmp_path):
    """72 frozen zero-volume bars (200–271), then 80 gap-filled (272–351)."""
    from ethpredict.params import DataParams
    from ethpredict.pipelines.data_engineering.nodes import ingest_market_data
    from ethpredict.testing.builders import halted_klines

    bars, *_ = ingest_market_data(
        DataParams(source="binance_klines", path=halted_klines(tmp_path))
    )
    return bars


@pytest.mark.parametrize(
    ("p", "bites"),
    [
        (LabelsParams(vol_span=20, cusum_vol_mult=4), True),
        (LabelsParams(vol_span=20, cusum_threshold=1e-9), False),
        (LabelsParams(vol_span=20, events="all"), True),
    ],
)
def test_no_event_starts_on_stale_or_filled_bars(halted, p, bites):
    ev = sample_events(halted, p)["t0_idx"].to_numpy()
    assert len(ev) > 10 and not ((ev >= 200) & (ev < 352)).any()
    assert (ev > 352).any()  # trading again, events again
    # the same bars unflagged: events do start there (the test bites)
    calm = halted.assign(is_stale=False, is_filled=False)
    unflagged = sample_events(calm, p)["t0_idx"].to_numpy()
    assert ((unflagged >= 200) & (unflagged < 352)).any() == bites


def test_volatility_treats_stale_and_filled_bars_as_missing(halted):
    from ethpredict.volatility import causal_volatility

    vol = causal_volatility(halted["close"], 20, halted)
    assert vol.iloc[200:352].isna().all() and vol.iloc[353:].notna().all()
    # the change over the halt is skipped: after it, the estimate carries on
    # from the returns before it, not from 72 zeros
    r = np.log(halted["close"]).diff()
    r.iloc[200:353] = np.nan
    expected = r.ewm(span=20, min_periods=20).std()
    np.testing.assert_allclose(vol.iloc[353:], expected.iloc[353:])
    assert vol.iat[353] > 0.5 * vol.iat[199]
    calm = causal_volatility(halted["close"], 20)  # unflagged: decays to ~0
    assert calm.iat[351] < 0.01 * calm.iat[199]
