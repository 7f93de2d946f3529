"""The embedded market: deterministic, consistent, and realistic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ethpredict.io.synthetic import synthetic_klines
from ethpredict.params import SyntheticParams


@pytest.fixture(scope="module")
def month() -> pd.DataFrame:
    return synthetic_klines(SyntheticParams(days=30, seed=3))


def test_same_seed_same_market_other_seed_other_market():
    a = synthetic_klines(SyntheticParams(days=2, seed=11))
    b = synthetic_klines(SyntheticParams(days=2, seed=11))
    c = synthetic_klines(SyntheticParams(days=2, seed=12))
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(a["close"], c["close"])


def test_layout_and_consistency(month):
    assert list(month.columns)[:6] == [
        "open_time",
        "open",
        "high",
        "low",
        "close",
        "volume",
    ]
    assert len(month) == 30 * 1440
    assert (np.diff(month["open_time"]) == 60_000).all()
    assert (month["close_time"] - month["open_time"] == 59_999).all()
    assert (month["low"] <= month[["open", "close"]].min(axis=1)).all()
    assert (month["high"] >= month[["open", "close"]].max(axis=1)).all()
    assert (month["low"] > 0).all()
    assert (month["taker_buy_volume"] <= month["volume"]).all()
    assert (
        month["open"].iloc[1:].to_numpy() == month["close"].iloc[:-1].to_numpy()
    ).all()


def test_stylised_facts(month):
    r = np.diff(np.log(month["close"].to_numpy()))
    a = np.abs(r)
    ann_vol = r.std() * np.sqrt(525_600)
    assert 0.5 < ann_vol < 0.8  # annual_vol = 0.65
    kurt = pd.Series(r).kurt()
    assert kurt > 5  # fat tails
    assert pd.Series(a).autocorr(30) > 0.03  # volatility clustering
    assert abs(pd.Series(r).autocorr(1)) < 0.05  # no free lunch in returns
    assert (a > 8 * r.std()).sum() >= 5  # jumps
    hour = pd.to_datetime(month["open_time"][1:], unit="ms").dt.hour.to_numpy()
    us, night = (
        a[(hour >= 13) & (hour <= 16)].mean(),
        a[(hour >= 3) & (hour <= 6)].mean(),
    )
    assert us > 1.3 * night  # intraday seasonality of volatility
    vol = month["volume"].to_numpy()[1:]
    assert (
        vol[(hour >= 13) & (hour <= 16)].mean()
        > 1.1 * vol[(hour >= 3) & (hour <= 6)].mean()
    )
    assert np.corrcoef(vol, a)[0, 1] > 0.3  # volume rises with |return|
    assert np.corrcoef(month["trades"].to_numpy()[1:], a)[0, 1] > 0.3
    share = (month["taker_buy_volume"] / month["volume"]).to_numpy()[1:]
    assert np.corrcoef(share, r)[0, 1] > 0.3  # taker buys lean with the move
