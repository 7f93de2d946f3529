"""Features are strictly causal and compute what their names say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ethpredict.core.features import fracdiff_ffd, fracdiff_weights
from ethpredict.features import advanced_features, base_features
from ethpredict.io.synthetic import synthetic_klines
from ethpredict.params import FeaturesParams, SyntheticParams

P = FeaturesParams(
    zscore_window=120, fracdiff_window=64, vol_window=30, micro_window=20
)


def bars_from(df: pd.DataFrame) -> pd.DataFrame:
    out = df.drop(columns=["open_time", "close_time", "ignore"]).astype("float64")
    out.index = pd.DatetimeIndex(
        pd.to_datetime(df["open_time"], unit="ms", utc=True), name="time"
    )
    out["is_filled"] = False
    return out


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return bars_from(synthetic_klines(SyntheticParams(days=2, seed=7)))


def all_features(b: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([base_features(b, P), advanced_features(b, P)], axis=1)


@pytest.mark.parametrize("t", [5, 300, 1500, 2870])
def test_perturbing_the_future_leaves_the_past_unchanged(bars, t):
    rng = np.random.default_rng(t)
    future = bars.copy()
    n = len(bars) - t - 1
    k = np.exp(rng.normal(0, 0.05, n))
    for col in ("open", "high", "low", "close"):
        future.iloc[t + 1 :, future.columns.get_loc(col)] *= k
    for col in ("volume", "quote_volume", "trades", "taker_buy_volume"):
        future.iloc[t + 1 :, future.columns.get_loc(col)] *= rng.uniform(0.1, 10, n)
    a, b = all_features(bars), all_features(future)
    pd.testing.assert_frame_equal(a.iloc[: t + 1], b.iloc[: t + 1], check_exact=True)
    assert not a.iloc[t + 1 :].equals(b.iloc[t + 1 :])  # the perturbation did bite


def test_feature_columns(bars):
    base = base_features(bars, P)
    assert {
        "ret_1",
        "ret_60",
        "rv_cc_30",
        "rv_parkinson_30",
        "rv_gk_30",
        "range",
        "volume_z",
        "trades_z",
        "rsi_14",
        "ema_spread_12_26",
        "tod_sin",
        "dow_cos",
    } <= set(base.columns)
    adv = advanced_features(bars, P)
    assert set(adv.columns) == {
        "fracdiff_0.4",
        "roll_spread_20",
        "amihud_20",
        "taker_imbalance_20",
        "flow_imbalance_5",
        "flow_imbalance_15",
        "ret_skew_20",
        "ret_kurt_20",
    }
    # the per-bar imbalance's mean: every bar weighs the same, whatever its volume
    per_bar = (2 * bars["taker_buy_volume"] - bars["volume"]) / bars["volume"]
    k = 5
    want = per_bar.iloc[100 - k + 1 : 101].mean()
    assert adv["flow_imbalance_5"].iloc[100] == pytest.approx(want, rel=1e-12)
    assert adv["flow_imbalance_5"].iloc[: k - 1].isna().all()


def test_taker_imbalance_only_when_every_bar_has_taker_volume(bars):
    partial = bars.copy()
    partial.iloc[5, partial.columns.get_loc("taker_buy_volume")] = np.nan
    assert not any(
        c.startswith("taker_imbalance") for c in advanced_features(partial, P)
    )


def test_formulas_against_hand_computation(bars):
    base, adv = base_features(bars, P), advanced_features(bars, P)
    t, w = 500, 30
    c = np.log(bars["close"].to_numpy())
    r = np.diff(c)[t - w : t]  # returns ending at bar t
    assert base["ret_5"].iat[t] == pytest.approx(c[t] - c[t - 5])
    assert base["rv_cc_30"].iat[t] == pytest.approx(np.std(r, ddof=1))
    hl = np.log(bars["high"] / bars["low"]).to_numpy()[t - w + 1 : t + 1]
    assert base["rv_parkinson_30"].iat[t] == pytest.approx(
        np.sqrt(np.mean(hl**2) / (4 * np.log(2)))
    )
    u = np.diff(c)[t - 20 : t]
    m, s = u.mean(), u.std()
    n = 20
    skew = np.sqrt(n * (n - 1)) / (n - 2) * np.mean((u - m) ** 3) / s**3
    assert adv["ret_skew_20"].iat[t] == pytest.approx(skew, rel=1e-6)
    # Roll: rolling cov over 20 bars of (dp_t, dp_{t-1}), dp in price units
    dp = np.diff(bars["close"].to_numpy())[t - 21 : t]
    cov = np.cov(dp[1:], dp[:-1], ddof=1)[0, 1]
    roll = 2 * np.sqrt(max(-cov, 0)) / bars["close"].iat[t]
    assert adv["roll_spread_20"].iat[t] == pytest.approx(roll)
    tod = base["tod_sin"]
    assert tod.iat[360] == pytest.approx(1.0)  # 06:00 UTC is a quarter of the day


def test_rsi_bounds_and_warm_up_is_nan(bars):
    base = base_features(bars, P)
    rsi = base["rsi_14"].dropna()
    assert rsi.between(0, 100).all()
    assert (
        base["rv_cc_30"].iloc[:30].isna().all()
        and base["rv_cc_30"].iloc[30:].notna().all()
    )
    assert base["volume_z"].iloc[:119].isna().all()


@pytest.mark.parametrize("d", [0.1, 0.4, 0.75, 1.0, 1.6])
@pytest.mark.parametrize("window", [2, 5, 33])
def test_fracdiff_equals_slow_reference(d, window):
    x = np.random.default_rng(int(d * 10) + window).normal(size=120).cumsum()
    w = [1.0]
    for k in range(1, window):
        w.append(-w[-1] * (d - k + 1) / k)
    slow = [np.nan] * (window - 1) + [
        sum(w[k] * x[t - k] for k in range(window)) for t in range(window - 1, len(x))
    ]
    np.testing.assert_allclose(fracdiff_ffd(x, d, window), slow, rtol=1e-12, atol=1e-12)


def test_fracdiff_d1_is_first_difference():
    np.testing.assert_allclose(fracdiff_weights(1.0, 4), [1, -1, 0, 0])
    x = np.arange(10.0) ** 2
    np.testing.assert_allclose(fracdiff_ffd(x, 1.0, 2)[1:], np.diff(x))


def with_reference(b: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Bars with an exchange reference that leads them, a gap in it, volumes."""
    rng = np.random.default_rng(seed)
    out = b.copy()
    ref = b["close"].shift(-1).ffill() * np.exp(rng.normal(0, 2e-4, len(b)))
    out["reference_price"] = ref.where(~np.isin(np.arange(len(b)), range(700, 720)))
    vol = rng.uniform(0, 50, len(b))
    out["reference_volume"] = np.where(out["reference_price"].notna(), vol, np.nan)
    out["reference_buy_volume"] = out["reference_volume"] * rng.uniform(0, 1, len(b))
    return out


@pytest.mark.parametrize("t", [5, 710, 1500, 2870])
def test_reference_features_are_causal(bars, t):
    from ethpredict.features import reference_features

    b = with_reference(bars)
    rng = np.random.default_rng(t)
    future = b.copy()
    n = len(b) - t - 1
    for col in (
        "open",
        "close",
        "reference_price",
        "reference_volume",
        "reference_buy_volume",
    ):
        future.iloc[t + 1 :, future.columns.get_loc(col)] *= rng.uniform(0.9, 1.1, n)
    a, c = reference_features(b, P), reference_features(future, P)
    pd.testing.assert_frame_equal(a.iloc[: t + 1], c.iloc[: t + 1], check_exact=True)
    assert not a.iloc[t + 1 :].equals(c.iloc[t + 1 :])


def test_reference_feature_values(bars):
    from ethpredict.errors import ParameterError
    from ethpredict.features import reference_features

    b = with_reference(bars)
    f = reference_features(b, P)
    assert set(f.columns) == {
        "ref_ret_1",
        "ref_ret_5",
        "ref_ret_15",
        "ref_ret_60",
        "ref_basis_bp",
        "ref_volume_z_20",
        "ref_taker_imbalance_20",
    }
    logref = np.log(b["reference_price"])
    pd.testing.assert_series_equal(f["ref_ret_5"], logref.diff(5), check_names=False)
    basis = 1e4 * np.log(b["open"] / b["reference_price"])
    np.testing.assert_allclose(f["ref_basis_bp"], basis, rtol=1e-8, atol=1e-9)
    # a stale reference is missing, and so is every window over it
    assert f["ref_ret_1"].iloc[700:721].isna().all()
    assert f["ref_taker_imbalance_20"].iloc[700:739].isna().all()
    assert f["ref_taker_imbalance_20"].iloc[760:].between(-1, 1).all()
    # the exchange leads: its return now predicts the bars' next return
    nxt = np.log(b["close"]).diff().shift(-1)
    assert f["ref_ret_1"].corr(nxt) > 0.5
    # no taker column: no imbalance; no volume: neither
    g = reference_features(b.drop(columns="reference_buy_volume"), P)
    assert "ref_volume_z_20" in g and "ref_taker_imbalance_20" not in g
    h = reference_features(
        b.drop(columns=["reference_buy_volume", "reference_volume"]), P
    )
    assert not any(c.startswith("ref_volume") for c in h)
    with pytest.raises(ParameterError, match="data.reference.path"):
        reference_features(bars, P)
