"""Calibration recovers known parameters; the quoting policy does what it says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ethpredict.core.glft import glft_depths
from ethpredict.market_making import aligned_signal, calibrate, quote_policy
from ethpredict.params import LabelsParams, MMParams, RiskParams
from ethpredict.testing.market import SIGMA, A, K, simulate

TOLERANCE = 0.05  # relative, on 20,000 one-minute bars


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("source", ["bars", "trades"])
def test_calibration_recovers_sigma_a_and_k(seed, source):
    bars, trades = simulate(seed=seed)
    p = MMParams(calib_window=20_000, calib_every=20_000)
    cal = calibrate(bars, trades if source == "trades" else None, p, 60.0)
    last = cal.iloc[-1]
    assert last["source"] == source
    for name, true in (("sigma", SIGMA), ("A", A), ("k", K)):
        assert last[name] == pytest.approx(true, rel=TOLERANCE), name


def test_calibration_is_rolling_causal_and_fixed_values_win():
    bars, _ = simulate(n=3000)
    cal = calibrate(bars, None, MMParams(calib_window=500, calib_every=100), 60.0)
    assert (
        cal["sigma"].iloc[:499].isna().all() and cal["sigma"].iloc[499:].notna().all()
    )
    cut = calibrate(
        bars.iloc[:1500], None, MMParams(calib_window=500, calib_every=100), 60.0
    )
    pd.testing.assert_frame_equal(cal.iloc[:1500], cut)  # nothing from after a bar
    fixed = calibrate(bars, None, MMParams(calib_window=500, k=2.0), 60.0)
    assert (fixed["k"] == 2.0).all()


@pytest.mark.parametrize(
    ("q", "mu", "expected"),
    [
        (-2, 0.0, (0.567809, 0.774678)),
        (0, 0.0, (0.671244, 0.671244)),
        (3, 0.0, (0.826395, 0.516092)),
        (0, 0.05, (0.664779, 0.677708)),
    ],
)
def test_glft_worked_values(q, mu, expected):
    got = glft_depths(q, 0.1, 1.5, 140, 2.0, mu)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_glft_is_vectorised():
    q = np.arange(-3, 4)
    b, a = glft_depths(q, 0.1, 1.5, 140, 2.0, 0.0)
    assert b.shape == (7,) and np.all(np.diff(b) > 0) and np.all(np.diff(a) < 0)


def policy_inputs(n=300, seed=0):
    bars, _ = simulate(n=n, seed=seed)
    cal = pd.DataFrame({"sigma": 0.3, "A": 0.03, "k": 0.7}, index=bars.index)
    rng = np.random.default_rng(seed)
    up = rng.uniform(0.1, 0.6, n)
    pred = pd.DataFrame(
        {
            "p_up": up,
            "p_down": 0.7 - up,
            "p_flat": 0.3,
            "bet_size": rng.uniform(-1, 1, n),
            "bet_source": "meta",
        },
        index=bars.index,
    )
    pred.iloc[:100] = np.nan  # before the first test window
    return bars, pred, cal


def test_plain_glft_when_alpha_weight_is_zero():
    bars, pred, cal = policy_inputs()
    lp, rp = LabelsParams(vol_span=20), RiskParams()
    sig = aligned_signal(bars, pred, lp.vol_span)
    q0 = quote_policy(bars, sig, cal, MMParams(alpha_weight=0.0), lp, rp, 60.0)
    assert (q0["mu"] == 0).all() and (q0["drift_shift"] == 0).all()
    q1 = quote_policy(bars, sig, cal, MMParams(alpha_weight=1.0), lp, rp, 60.0)
    assert (q1["mu"] != 0).sum() > 100
    valid = q1[q1["valid"]]
    assert len(valid) == 200 and not q1["valid"].iloc[:100].any()
    assert (valid["bid"] < valid["mid"]).all() and (valid["ask"] > valid["mid"]).all()
    # a positive expected move shifts both quotes up
    up = valid["mu"] > 0
    assert (valid.loc[up, "reservation"] > valid.loc[up, "mid"]).all()
    half = glft_depths(0, 0.05, 0.7, 0.03, 0.3)[0]  # q = 0, no drift: the half spread
    assert q0["half_spread"].iloc[150] == pytest.approx(half)


def test_the_primary_s_probabilities_carry_their_own_confidence():
    """Where the meta model sizes the bet its |bet size| weighs the drift;
    where the primary's probabilities do, they are not shrunk a second time."""
    bars, pred, cal = policy_inputs()
    lp, rp = LabelsParams(vol_span=20), RiskParams()
    meta = quote_policy(
        bars, aligned_signal(bars, pred, lp.vol_span), cal, MMParams(), lp, rp, 60.0
    )
    prim = pred.assign(
        bet_source=pred["bet_source"].where(pred["p_up"].isna(), "primary")
    )
    primary = quote_policy(
        bars, aligned_signal(bars, prim, lp.vol_span), cal, MMParams(), lp, rp, 60.0
    )
    t = slice(100, None)
    np.testing.assert_allclose(
        meta["drift_shift"].iloc[t],
        primary["drift_shift"].iloc[t] * pred["bet_size"].abs().iloc[t],
        rtol=1e-12,
    )
    # the short-lived alpha moves the quotes by the edge, GLFT's term by less
    glft = quote_policy(
        bars,
        aligned_signal(bars, prim, lp.vol_span),
        cal,
        MMParams(drift="glft"),
        lp,
        rp,
        60.0,
    )
    edge = primary["mu"] * lp.horizon * 60.0
    np.testing.assert_allclose(primary["drift_shift"], edge, rtol=1e-12)
    assert (glft["drift_shift"].abs() <= primary["drift_shift"].abs() + 1e-12).all()


def test_sizing_rules_and_var_cap():
    bars, pred, cal = policy_inputs()
    lp = LabelsParams(vol_span=20)
    sig = aligned_signal(bars, pred, lp.vol_span)
    bet = quote_policy(
        bars, sig, cal, MMParams(sizing="bet_size"), lp, RiskParams(), 60.0
    )
    b = pred["bet_size"].iloc[150]
    assert bet["bid_size"].iloc[150] == pytest.approx(1 + b)
    assert bet["ask_size"].iloc[150] == pytest.approx(1 - b)
    vt = quote_policy(
        bars,
        sig,
        cal,
        MMParams(sizing="vol_target", vol_target_usd=500),
        lp,
        RiskParams(),
        60.0,
    )
    assert vt["bid_size"].iloc[150] == pytest.approx(500 / (0.3 * np.sqrt(86400)))
    capped = quote_policy(
        bars, sig, cal, MMParams(), lp, RiskParams(max_var=100.0), 60.0
    )
    cap = 100.0 / (2.3263478740408408 * 0.3 * np.sqrt(86400) * 5)
    assert capped["bid_size"].max() == pytest.approx(cap)


def quote_policy_reference(bars, predictions, calibration, p, lp, rp, bar_s, fee=0.0):
    """The policy in plain NumPy/pandas, vector by vector (the fused kernel
    ``quote_block_nb`` must equal it)."""
    from ethpredict.core.glft import Z99, glft_terms
    from ethpredict.volatility import causal_volatility

    close = bars["close"]
    pred = predictions.reindex(bars.index)
    vol = causal_volatility(close, lp.vol_span)
    # the meta model's |bet size| weighs the drift; the primary's is 1
    weight = pred["bet_size"].abs().where(pred["bet_source"] == "meta", 1.0)
    weight = weight.where(pred["bet_source"].notna())
    edge = (pred["p_up"] * lp.pt - pred["p_down"] * lp.sl) * vol * close
    edge = (p.alpha_weight * weight * edge).fillna(0.0)
    mu = edge / (lp.horizon * bar_s)
    sigma, A, k = calibration["sigma"], calibration["A"], calibration["k"]
    half, skew, shift = glft_terms(
        p.gamma, k.to_numpy(), A.to_numpy(), sigma.to_numpy(), mu.to_numpy()
    )
    if p.drift == "alpha":  # a short-lived alpha: the quotes move by its edge
        shift = edge.to_numpy()
    half, skew = half * p.spread_scale + fee * close.to_numpy(), skew * p.skew_scale
    size = np.full(len(bars), p.order_size)
    if p.sizing == "vol_target":
        size = np.minimum(
            p.vol_target_usd / (sigma.to_numpy() * np.sqrt(86400.0)), 10 * p.order_size
        )
    if rp.max_var is not None:
        per_eth = Z99 * sigma.to_numpy() * np.sqrt(86400.0) * p.max_inventory
        size = np.minimum(size, rp.max_var / per_eth)
    bet = pred["bet_size"].fillna(0.0).clip(-1, 1).to_numpy()
    lean = bet if p.sizing == "bet_size" else 0.0
    valid = (pred["p_up"].notna() & np.isfinite(half) & np.isfinite(skew)).to_numpy()
    mid = close.to_numpy()
    bid0 = np.floor((mid - half + shift) / p.tick) * p.tick
    ask0 = np.ceil((mid + half + shift) / p.tick) * p.tick
    nan = np.nan
    return pd.DataFrame(
        {
            "mid": close,
            "reservation": mid + shift,
            "bid": np.where(valid, bid0, nan),
            "ask": np.where(valid, ask0, nan),
            "sigma": sigma,
            "A": A,
            "k": k,
            "mu": mu,
            "half_spread": half,
            "skew": skew,
            "drift_shift": shift,
            "bid_depth": np.where(valid, half - shift, nan),
            "ask_depth": np.where(valid, half + shift, nan),
            "bid_size": size * (1 + lean),
            "ask_size": size * (1 - lean),
            "valid": valid,
        },
        index=bars.index,
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("seed", range(30))
def test_fused_quote_kernel_equals_the_numpy_policy(seed):
    rng = np.random.default_rng(seed)
    bars, _ = simulate(n=int(rng.integers(300, 1500)), seed=seed)
    n = len(bars)
    # predictions on a subset of the bars (NaN probabilities inside), calibration
    # with NaN warm-up and occasional degenerate values
    keep = np.sort(rng.choice(n, size=int(n * rng.uniform(0.3, 1.0)), replace=False))
    pu = rng.uniform(0, 1, keep.size)
    pred = pd.DataFrame(
        {
            "p_up": pu,
            "p_down": 1 - pu,
            "bet_size": rng.uniform(-1.2, 1.2, keep.size),
            "bet_source": rng.choice(["meta", "primary"], keep.size),
        },
        index=bars.index[keep],
    )
    pred.iloc[rng.integers(0, keep.size, 5), 0] = np.nan
    pred.iloc[rng.integers(0, keep.size, 5), 2] = np.nan
    cal = pd.DataFrame(
        {
            "sigma": rng.uniform(0.01, 0.2, n),
            "A": rng.uniform(0.005, 0.1, n),
            "k": rng.uniform(0.1, 3.0, n),
        },
        index=bars.index,
    )
    cal.iloc[: int(rng.integers(0, n // 3))] = np.nan
    cal.iloc[rng.integers(0, n, 3), 1] = 0.0  # A = 0: infinite spread, not valid
    p = MMParams(
        gamma=float(rng.uniform(0.005, 1.0)),
        spread_scale=float(rng.uniform(0.5, 2)),
        skew_scale=float(rng.uniform(0, 2)),
        alpha_weight=float(rng.uniform(0, 3)),
        sizing=["fixed", "vol_target", "bet_size"][seed % 3],
        tick=[0.01, 0.05, 1.0][seed % 3],
        drift=["alpha", "glft"][seed // 2 % 2],
        order_size=float(rng.uniform(0.1, 3)),
        max_inventory=float(rng.integers(1, 8)),
    )
    lp = LabelsParams(vol_span=int(rng.integers(5, 200)))
    rp = RiskParams(max_var=None if seed % 2 else float(rng.uniform(100, 10_000)))
    fee = [0.0, 1e-3, -2e-4, 5e-4, 2e-3][seed % 5]  # none, maker fees, a rebate
    sig = aligned_signal(bars, pred, lp.vol_span)
    fast = quote_policy(bars, sig, cal, p, lp, rp, 60.0, fee)
    slow = quote_policy_reference(bars, pred, cal, p, lp, rp, 60.0, fee)
    pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-12, atol=1e-12)


def test_calibration_treats_stale_bars_as_missing():
    bars, _ = simulate(seed=0)
    halt = slice(5000, 10_000)  # a quarter of the window frozen at zero volume
    cols = [bars.columns.get_loc(c) for c in ("open", "high", "low", "close")]
    frozen = bars.copy()
    frozen.iloc[halt, cols] = bars["close"].iat[halt.start - 1]
    frozen["is_stale"] = False
    frozen.iloc[halt, frozen.columns.get_loc("is_stale")] = True
    p = MMParams(calib_window=20_000, calib_every=20_000)
    last = calibrate(frozen, None, p, 60.0).iloc[-1]
    for name, true in (("sigma", SIGMA), ("A", A), ("k", K)):
        assert last[name] == pytest.approx(true, rel=TOLERANCE), name
    calm = calibrate(frozen.assign(is_stale=False), None, p, 60.0).iloc[-1]
    # the frozen bars passed off as calm: fills look rarer (A too low)
    assert calm["A"] < 0.8 * A


def test_trades_after_the_last_bar_are_not_calibrated_into_it():
    """A trade capture ends in a partial bar that bar assembly drops; its
    trades (here: every trade after bar 1499) are later than any bar and
    must not enter the calibration at the last bar."""
    bars, trades = simulate(n=3000)
    p = MMParams(calib_window=500, calib_every=100)  # a refit at bar 1499
    full = calibrate(bars, trades, p, 60.0)
    cut = calibrate(bars.iloc[:1500], trades, p, 60.0)
    pd.testing.assert_frame_equal(full.iloc[:1500], cut, check_exact=True)
