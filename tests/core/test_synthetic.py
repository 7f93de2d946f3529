"""The embedded market: deterministic, consistent, and realistic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ethpredict.core.flow import flow_ic, flow_load, flow_phi
from ethpredict.core.synthetic import FLOW_FOOTPRINT, latent_flow, noise_flow
from ethpredict.io.synthetic import simulate_bars, synthetic_klines
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


# --- the planted order-flow signal (docs/data.md, "A planted signal") -------

#: sha256 of the klines CSV (seed 5, 3 days) written by the generator before
#: the planted flow existed (GENERATOR_VERSION 2); signal_ic = 0 with no
#: noise-trader impact must give it.
OLD_KLINES_SHA256 = "31a339aa9b8af6654c1ebf8d520c9b4efb322d5a81fa8d39874e7f29bf349ec2"
YEAR = 365


def forward_sum(u: np.ndarray, start: int, h: int) -> np.ndarray:
    """Row t: u[t + start] + … + u[t + start + h − 1], for the t where it exists."""
    c = np.r_[0.0, np.cumsum(u)]
    n = u.size - start - h + 1
    return c[start + h : start + h + n] - c[start : start + n]


def ic_sd(n: int, h: int, half_life: float) -> float:
    """Standard error of a sample correlation of the flow (AR(1)) with
    overlapping h-bar sums near zero correlation (Bartlett):
    Var ≈ (1/n)·Σ_k ρ_x(k)·ρ_S(k), ρ_S(k) = (h − |k|)/h."""
    phi = flow_phi(half_life)
    k = np.arange(1, h)
    return float(np.sqrt((1 + 2 * np.sum(phi**k * (h - k) / h)) / n))


def standardised(p: SyntheticParams, days: int):
    out, _, flow = simulate_bars(p, days)
    u = np.log(out[:, 3] / out[:, 0]) / out[:, 8]  # jumps aside: r / sigma
    return u, flow[1:], out  # flow[1:][t]: the flow traded in bar t


def test_without_a_signal_the_market_is_the_one_before_it_bit_for_bit():
    k = synthetic_klines(SyntheticParams(days=3, seed=5, signal_ic=0, noise_impact=0))
    assert hashlib.sha256(k.to_csv(index=False).encode()).hexdigest() == (
        OLD_KLINES_SHA256
    )
    _, _, flow = simulate_bars(SyntheticParams(days=2, signal_ic=0), 2)
    assert not flow.any()


def test_flow_kernel_equals_its_python_loop():
    x = latent_flow(5000, 3, 30.0)
    eta = np.random.default_rng([3, 0x0F10]).standard_normal(5000)
    ref, phi = [eta[0]], flow_phi(30.0)
    for e in eta[1:]:
        ref.append(phi * ref[-1] + np.sqrt(1 - phi * phi) * e)
    np.testing.assert_allclose(x, ref, rtol=1e-12)
    assert abs(x.std() - 1) < 0.15 and flow_phi(30.0) ** 30 == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("ic", "h", "half_life"),
    [(0.1, 15, 30.0), (0.1, 1, 30.0), (0.2, 60, 120.0), (0.05, 5, 5.0)],
)
def test_measured_ic_matches_the_closed_form(ic, h, half_life):
    p = SyntheticParams(
        days=YEAR,
        seed=21,
        jumps_per_day=0,
        signal_ic=ic,
        signal_horizon=h,
        signal_half_life=half_life,
        noise_impact=0,
    )
    u, x, _ = standardised(p, YEAR)
    s = forward_sum(u, 1, h)
    measured = np.corrcoef(x[: s.size], s)[0, 1]
    assert flow_ic(flow_load(ic, h, half_life), h, half_life) == pytest.approx(ic)
    assert abs(measured - ic) < 3 * ic_sd(s.size, h, half_life)


def test_without_a_signal_the_flow_predicts_nothing():
    h = 15
    p = SyntheticParams(
        days=YEAR, seed=21, jumps_per_day=0, signal_ic=0.1, noise_impact=0
    )
    u0, _, _ = standardised(p.model_copy(update={"signal_ic": 0.0}), YEAR)
    x = latent_flow(YEAR * 1440 + 1, p.seed, p.signal_half_life)[1:]
    s = forward_sum(u0, 1, h)
    assert abs(np.corrcoef(x[: s.size], s)[0, 1]) < 3 * ic_sd(s.size, h, 30.0)


def test_the_flow_predicts_later_returns_only_and_decays_as_built():
    """Bar t's flow is fixed at its close (a longer sample leaves the bars
    before unchanged); it drifts bar t + k by a·φ^(k−1), so the IC of the
    window after the horizon is φ^h of the horizon's."""
    a = SyntheticParams(days=2, seed=4)  # with the noise traders' impact
    out2, _, f2 = simulate_bars(a, 2)
    out3, _, f3 = simulate_bars(a, 3)
    np.testing.assert_array_equal(out2, out3[: len(out2)])
    np.testing.assert_array_equal(f2, f3[: f2.size])
    h, hl = 15, 30.0
    p = SyntheticParams(
        days=YEAR, seed=22, jumps_per_day=0, signal_ic=0.1, noise_impact=0
    )
    u, x, _ = standardised(p, YEAR)
    load, phi = flow_load(0.1, h, hl), flow_phi(hl)
    for k in (1, 15, 60, 240):  # one bar k bars ahead
        got = np.corrcoef(x[:-k], u[k:])[0, 1]
        assert abs(got - load * phi ** (k - 1)) < 3 * ic_sd(u.size - k, 1, hl)
    # the next h bars after the horizon: IC(h)·φ^h
    s2 = forward_sum(u, h + 1, h)
    got = np.corrcoef(x[: s2.size], s2)[0, 1]
    assert abs(got - 0.1 * phi**h) < 3 * ic_sd(s2.size, h, hl)


def test_the_taker_share_carries_the_flow(month):
    """share_t = … + FLOW_FOOTPRINT·x_t, the rest independent of the flow and
    of later returns: corr(share, x) = c / sd(share) and the share's IC is
    that times the flow's."""
    h, hl, ic = 15, 30.0, 0.1
    p = SyntheticParams(
        days=YEAR, seed=23, jumps_per_day=0, signal_ic=ic, noise_impact=0
    )
    u, x, out = standardised(p, YEAR)
    share = out[:, 7]
    c = FLOW_FOOTPRINT / share.std()
    assert np.corrcoef(share, x)[0, 1] == pytest.approx(c, abs=3 / np.sqrt(u.size))
    s = forward_sum(u, 1, h)
    got = np.corrcoef(share[: s.size], s)[0, 1]
    assert abs(got - c * ic) < 3 * ic_sd(s.size, h, hl)
    # as the klines give it (taker-buy volume / volume) on the default market
    k = month  # 30 days, the default signal, jumps included
    sh = (k["taker_buy_volume"] / k["volume"]).to_numpy()
    logc = np.log(k["close"].to_numpy())
    fwd = logc[h:] - logc[:-h]
    assert np.corrcoef(sh[:-h], fwd)[0, 1] > 0.0


# --- the noise traders' transient impact (docs/data.md, "Noise traders") ----

REAL_1M = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"


def lag1(r: np.ndarray) -> float:
    return float(np.corrcoef(r[1:], r[:-1])[0, 1])


def test_without_noise_traders_the_market_is_the_one_before_them_bit_for_bit():
    a = SyntheticParams(days=3, seed=6)  # the default planted signal
    out0, _, _ = simulate_bars(a.model_copy(update={"noise_impact": 0.0}), 3)
    out1, _, _ = simulate_bars(a, 3)
    before = simulate_bars(a.model_copy(update={"noise_impact": 0.0}), 3)[0]
    np.testing.assert_array_equal(out0, before)
    assert not np.array_equal(out0[:, 3], out1[:, 3])
    # the first close is the same efficient price plus its displacement (the
    # streams part after it: the trade counts' draws depend on the move)
    gap = np.log(out1[0, 3] / out0[0, 3]) / out1[0, 8]
    assert gap == pytest.approx(a.noise_impact * noise_flow(3 * 1440, a.seed)[0])


@pytest.mark.parametrize("impact", [0.1, 0.18, 0.3])
def test_noise_impact_gives_the_bounce_it_is_built_for(impact):
    """A displacement c·σ_t·n_t gone by the next close: the standardised
    1-bar return gains −c·n_{t−1} + c·n_t, so its lag-1 autocorrelation is
    −c² / (1 + 2c²) (no jumps; the GARCH variance varies, so 3 SE + 10 %)."""
    p = SyntheticParams(
        days=YEAR, seed=31, jumps_per_day=0, signal_ic=0, noise_impact=impact
    )
    out, _, _ = simulate_bars(p, YEAR)
    u = np.log(out[:, 3] / out[:, 0]) / out[:, 8]
    want = -(impact**2) / (1 + 2 * impact**2)
    assert abs(lag1(u) - want) < 3 / np.sqrt(u.size) + 0.1 * abs(want)
    # the transient is inside each bar's range, which stays consistent
    assert (out[:, 1] >= np.maximum(out[:, 0], out[:, 3])).all()
    assert (out[:, 2] <= np.minimum(out[:, 0], out[:, 3])).all()


def test_default_bounce_lies_in_the_range_of_real_eth_minutes():
    """The default market's lag-1 autocorrelation of 1-minute returns against
    the real Binance ETHUSDT files (spot and perpetual: −0.005 to −0.056)."""
    files = sorted((REAL_1M / "ohlcv-1m").glob("*.csv.gz")) + sorted(
        (REAL_1M / "perp-1m").glob("*_1m_*.csv.gz")
    )
    if not files:
        pytest.skip("../shared/data/real is absent")
    real = []
    for f in files:
        d = pd.read_csv(f)
        real.append(lag1(np.diff(np.log(d.loc[d["volume"] > 0, "close"].to_numpy()))))
    k = synthetic_klines(SyntheticParams(days=60))
    ours = lag1(np.diff(np.log(k["close"].to_numpy())))
    assert min(real) < ours < max(real) < 0
    assert abs(ours - np.mean(real)) < 0.015
