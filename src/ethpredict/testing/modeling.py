"""A small synthetic market through data_engineering and labeling, and the
small model settings the modeling tests train with."""

from __future__ import annotations

import pandas as pd

from ethpredict.features import advanced_features, base_features
from ethpredict.io.synthetic import synthetic_klines
from ethpredict.labeling import average_uniqueness, sample_events, triple_barrier
from ethpredict.params import FeaturesParams, LabelsParams, ModelParams, SyntheticParams

FP = FeaturesParams(
    zscore_window=120, fracdiff_window=32, vol_window=30, micro_window=20
)
LP = LabelsParams(cusum_vol_mult=1.5, vol_span=50, horizon=10)
MP = ModelParams(
    progress=False,
    gbt_iter=20,
    cv={"train_bars": 1440, "test_bars": 720, "embargo_bars": 10},
    net={"hidden": [16], "max_epochs": 4, "patience": 2, "batch_size": 128},
    meta={"min_events": 50},
)


def make_bars(days: int = 4, seed: int = 5) -> pd.DataFrame:
    """One-minute synthetic bars indexed by UTC ``time``, none filled.

    Args:
        days: Length of the market in days.
        seed: Seed of the synthetic market.

    Returns:
        OHLCV and the other kline columns as float64, plus ``is_filled``.
    """
    df = synthetic_klines(SyntheticParams(days=days, seed=seed))
    bars = df.drop(columns=["open_time", "close_time", "ignore"]).astype("float64")
    times = pd.to_datetime(df["open_time"], unit="ms", utc=True)
    bars.index = pd.DatetimeIndex(times, name="time")
    bars["is_filled"] = False
    return bars


def upstream(bars: pd.DataFrame, lp: LabelsParams = LP) -> dict:
    """What the modeling pipeline reads: ``bars``, both feature sets (``FP``)
    and the triple-barrier labels with their uniqueness."""
    labels = triple_barrier(bars, sample_events(bars, lp), lp)
    labels["uniqueness"] = average_uniqueness(labels, len(bars), lp.horizon)
    return {
        "bars": bars,
        "features_base": base_features(bars, FP),
        "features_advanced": advanced_features(bars, FP),
        "labels": labels,
    }
