"""``data.source: synthetic_pool``: the v3 swap math, the pool tracking its
exchange through arbitrage, the files read back by the uniswap reader, and a
sliced data_engineering run."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest

from ethpredict.core.synthetic import (
    SWAP_ARB,
    SWAP_NOISE,
    _swap_nb,
    latent_flow,
    simulate_pool_nb,
)
from ethpredict.errors import ParameterError
from ethpredict.io import synthetic_pool as sp
from ethpredict.io.synthetic import simulate_exchange, synthetic_klines
from ethpredict.io.uniswap import read_pool
from ethpredict.params import DataParams, SyntheticParams, validate_parameters
from ethpredict.testing.data_engineering import catalog, run
from ethpredict.testing.project import kedro, project_root, scratch_project

PROJECT = project_root(__file__)

L, FEE = 1.2e19, 5e-4


@pytest.fixture(scope="module")
def pool():
    return sp.generate_pool(DataParams(synthetic_pool={"days": 3}))


def test_swap_math_is_uniswap_v3_inside_constant_liquidity():
    sq = math.sqrt(1e12 / 2300.0)
    # token1 (WETH) in, exact input: Δ√P = net Δy / L, fee taken from the input
    new, a0, a1 = _swap_nb(sq, L, FEE, False, 0.0, 5e18)
    assert a1 == 5e18 and new - sq == pytest.approx(5e18 * (1 - FEE) / L, rel=1e-9)
    assert a0 == -math.floor(L * (1 / sq - 1 / new)) and a0 < 0
    # token0 (USDC) in to a target: Δ(1/√P) = net Δx / L, gross = net / (1 − fee)
    target = math.sqrt(1e12 / 2301.0)
    new, a0, a1 = _swap_nb(sq, L, FEE, True, target, 0.0)
    assert new == target and a1 == -math.floor(L * (sq - target))
    assert a0 * (1 - FEE) == pytest.approx(L * (1 / target - 1 / sq), abs=1.0)
    # the pool's ETH price moved up by the buy, the ETH paid out ≈ value in
    assert 1e12 / new**2 == pytest.approx(2301.0)
    assert -a1 / 1e18 * 2300.5 == pytest.approx(a0 / 1e6 * (1 - FEE), rel=1e-4)


def test_pool_kernel_equals_its_python_loop():
    ref = 3000 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 4e-4, 800)))
    out = [np.empty((3000, 7)) for _ in range(2)]
    args = (ref, 3, FEE, L, 1e12, 0.7, 2.0, 1.0, 1e18, 1e6)
    n = simulate_pool_nb(*args, out[0])
    assert n == simulate_pool_nb.py_func(*args, out[1]) > 800
    np.testing.assert_allclose(out[0][:n], out[1][:n], rtol=1e-12)


def test_exchange_path_is_the_synthetic_market_sampled_per_block():
    p = SyntheticParams(days=2, seed=3)
    klines, path = simulate_exchange(p, 2, 5)
    pd.testing.assert_frame_equal(klines, synthetic_klines(p))  # same draws
    per = path.reshape(-1, 5)
    np.testing.assert_allclose(per[:, -1], klines["close"], atol=0.006)
    assert (per <= klines[["high"]].to_numpy() + 0.006).all()
    assert (per >= klines[["low"]].to_numpy() - 0.006).all()


def test_pool_tracks_its_exchange_through_arbitrage(pool):
    s = pool.swaps
    block = s[:, 0].astype(np.int64)
    ref, before = pool.block_ref[block], s[:, 6]
    after = 1e12 / s[:, 4] ** 2
    arb = s[:, 1] == SWAP_ARB
    assert set(np.unique(s[:, 1])) == {SWAP_ARB, SWAP_NOISE}
    # arbitrage only outside the band, buying ETH (USDC in) when the pool is
    # cheap and selling it when dear, to the band's edge
    cheap = before[arb] < ref[arb] * (1 - FEE)
    assert (cheap | (before[arb] > ref[arb] * (1 + FEE))).all()
    assert ((s[arb, 2] > 0) == cheap).all() and ((s[arb, 3] < 0) == cheap).all()
    edge = np.where(cheap, ref[arb] * (1 - FEE), ref[arb] * (1 + FEE))
    np.testing.assert_allclose(after[arb], edge, rtol=1e-9)
    # at most one arbitrage per block, first in it
    assert np.unique(block[arb]).size == arb.sum()
    first = np.r_[True, block[1:] != block[:-1]]
    assert first[arb].all()
    # after each block the pool is within the fee band plus the noise
    basis = 1e4 * np.abs(np.log(after / ref))
    assert basis.mean() < 5.0 + 1.0 and pool.stats["mean_abs_basis_bp"] < 6.0
    # every swap follows the v3 math: tick = floor(log_1.0001 P), and the
    # input net of the fee moves √P (token1) or 1/√P (token0) by amount / L
    tick = np.floor(np.log(s[:, 4] ** 2) / np.log(1.0001))
    np.testing.assert_array_equal(s[:, 5], tick)
    prev = np.r_[math.sqrt(1e12 / pool.block_ref[0]), s[:-1, 4]]
    in1 = s[:, 3] > 0
    np.testing.assert_allclose(
        (s[in1, 4] - prev[in1]) * L, s[in1, 3] * (1 - FEE), rtol=1e-6
    )
    d_inv = (1 / s[~in1, 4] - 1 / prev[~in1]) * L
    np.testing.assert_allclose(d_inv, s[~in1, 2] * (1 - FEE), rtol=1e-6)
    # noise: about half buys; its count per block is Poisson(0.5)
    noise = s[:, 1] == SWAP_NOISE
    assert 0.45 < (s[noise, 2] > 0).mean() < 0.55
    assert noise.sum() / pool.stats["blocks"] == pytest.approx(0.5, rel=0.05)


def test_files_read_back_through_the_uniswap_reader(tmp_path, pool):
    data = DataParams(
        source="synthetic_pool", path=str(tmp_path), synthetic_pool={"days": 3}
    )
    files = sp.ensure_synthetic_pool(data)
    got = read_pool(files.pool, sp.pool_params(data), None)
    assert got.form == "raw" and got.pool.fee_bps == 5.0 and got.pool.tick_spacing == 10
    assert got.pool.block_time_s == 12.0 and got.events == len(pool.swaps) + 1
    sw = got.swaps
    np.testing.assert_allclose(sw["price"], 1e12 / pool.swaps[:, 4] ** 2, rtol=1e-12)
    np.testing.assert_array_equal(sw["side"], np.where(pool.swaps[:, 3] < 0, 1, -1))
    np.testing.assert_allclose(sw["qty"], np.abs(pool.swaps[:, 3]) / 1e18, rtol=1e-12)
    epoch = sw["time"].astype("int64") // 10**9
    assert epoch.is_monotonic_increasing
    np.testing.assert_array_equal(epoch, pool.block_time[pool.swaps[:, 0].astype(int)])
    # the liquidity series: the full-range Mint, then L reported by each swap
    liq = got.liquidity
    assert liq["event"].iat[0] == "MINT" and liq["liquidity_delta"].iat[0] == int(L)
    assert (liq["liquidity"].iloc[1:] == int(L)).all()
    # one bar per 12 s block from the first swap to the last
    bars = got.bars[0]
    assert np.all(np.diff(bars.time_ns) == 12 * 10**9)
    assert bars.values["volume"].sum() == pytest.approx(sw["qty"].sum())
    # written once per setting, then re-used
    stamp = files.pool.stat().st_mtime_ns
    assert sp.ensure_synthetic_pool(data).pool.stat().st_mtime_ns == stamp
    assert "SYNTHETIC" in files.sidecar.read_text()
    # the reference: gzip-compressed generic OHLCV, one candle per block
    assert files.reference.name.endswith(".reference-12s.csv.gz")
    written = pd.read_csv(files.reference)
    pd.testing.assert_frame_equal(written, pool.candles, check_dtype=False)


def test_reference_candles_close_at_the_price_each_blocks_arbitrage_saw(pool):
    c = pool.candles
    # candle j ends at block j's timestamp and closes at the exchange price
    # that block's arbitrageur traded against (to the cent)
    np.testing.assert_array_equal(c["time"] + 12_000, pool.block_time * 1000)
    np.testing.assert_allclose(c["close"], pool.block_ref, atol=0.005 + 1e-9)
    np.testing.assert_array_equal(c["open"].iloc[1:], c["close"].iloc[:-1])
    assert (c["high"] >= c[["open", "close"]].max(axis=1)).all()
    assert (c["low"] <= c[["open", "close"]].min(axis=1)).all()
    assert (c["high"] > c[["open", "close"]].max(axis=1)).mean() > 0.3  # intra-block
    # each minute's volume, spread over its five candles
    k = simulate_exchange(SyntheticParams(), 3)[0]
    per_minute = c["volume"].to_numpy().reshape(-1, 5).sum(axis=1)
    np.testing.assert_allclose(per_minute, k["volume"], atol=5e-4)
    assert (c["taker_buy_volume"] <= c["volume"]).all() and (c["volume"] > 0).all()


#: sha256 of one day's logs and candles (seed 9) as the pool generator wrote
#: them before the planted flow existed; data.synthetic.signal_ic = 0 gives them.
OLD_POOL_SHA256 = "894c39835237d8d2af960b6a797ee9565f3dd6acf5128a7e87ce9ddc8eba4d15"


def test_without_a_signal_the_pool_is_the_one_before_it_bit_for_bit():
    g = sp.generate_pool(
        DataParams(
            synthetic={"seed": 9, "signal_ic": 0, "noise_impact": 0},
            synthetic_pool={"days": 1},
        )
    )
    text = g.logs.to_csv(index=False) + g.candles.to_csv(index=False)
    assert hashlib.sha256(text.encode()).hexdigest() == OLD_POOL_SHA256


def test_the_reference_carries_the_planted_flow(pool):
    # the default signal: the exchange's flow is in its candles' taker share
    # (each minute's, spread over its candles) and the pool follows the drift
    p = SyntheticParams()
    flow = latent_flow(3 * 1440 + 1, p.seed, p.signal_half_life)[1:]
    c = pool.candles
    share = (c["taker_buy_volume"] / c["volume"]).to_numpy().reshape(-1, 5)[:, 0]
    assert np.corrcoef(share, flow)[0, 1] > 0.2  # c / sd(share) ≈ 0.29


def test_block_time_must_divide_a_minute():
    with pytest.raises(ParameterError, match="block_time_s = 7: must divide a minute"):
        sp.generate_pool(DataParams(synthetic_pool={"days": 1, "block_time_s": 7}))


def test_sliced_data_engineering_run_on_the_synthetic_pool(tmp_path):
    data = {
        "source": "synthetic_pool",
        "path": str(tmp_path),
        "synthetic_pool": {"days": 2},
    }
    features = {"zscore_window": 120, "sets": ["base", "advanced", "reference"]}
    out = run(catalog(data, features))
    bars, m = out["bars"], out["data_manifest"]
    assert len(bars) > 14_000 and bars.attrs["venue"] == "uniswap_v3"
    assert bars.attrs["source"] == "synthetic_pool" and bars.attrs["synthetic"] is True
    assert bars.attrs["reference"].endswith(".reference-12s.csv.gz")
    assert m["reference"]["source"] == "ohlcv" and m["reference"]["interval"] == "12s"
    assert m["reference"]["age_s"] == {"median": 0.0, "p95": 0.0, "max": 0.0}
    assert (
        m["synthetic"]
        and "SYNTHETIC" in m["notice"]
        and m["reference"]["stale_bars"] == 0
    )
    assert bars["reference_price"].notna().all()
    # after each block the pool is back within the fee band of the price
    # its arbitrageurs saw, but for the noise traders
    basis = 1e4 * np.log(bars["close"] / bars["reference_price"])
    assert abs(basis.mean()) < 0.5 and (basis.abs() <= 5.0).mean() > 0.75
    assert out["pool_liquidity"]["liquidity"].iloc[1:].eq(int(L)).all()
    ref = out["features_reference"]
    assert ref["ref_basis_bp"].iloc[5:].notna().all() and "ref_volume_z_60" in ref
    # the pool follows its exchange: their 15-bar returns move together, and
    # the exchange leads: the basis at a block's open is what its swaps close
    pool_ret = np.log(bars["close"]).diff(15)
    assert ref["ref_ret_15"].corr(pool_ret) > 0.7
    assert (-ref["ref_basis_bp"]).corr(np.log(bars["close"] / bars["open"])) > 0.7
    # perpetual markets do not apply to a pool
    with pytest.raises(ParameterError, match="does not apply to a Uniswap pool"):
        validate_parameters(
            {"data": {**data, "market": "perpetual", "funding_path": "x"}}
        )


@pytest.mark.cli
def test_kedro_command_line_data_engineering_on_the_synthetic_pool(tmp_path):
    import json

    project = scratch_project(tmp_path / "p", PROJECT)
    r = kedro(
        project,
        "run",
        "--pipeline=data_engineering",
        "--params=data.source=synthetic_pool,data.synthetic_pool.days=1,"
        "features.sets=[base,reference],features.zscore_window=120",
    )
    assert r.returncode == 0, r.stderr[-3000:]
    manifest = json.loads(
        (project / "data/02_intermediate/data_manifest.json").read_text()
    )
    assert manifest["source"] == "synthetic_pool" and manifest["bars"] > 7000
    assert manifest["reference"]["coverage"] > 0.99
    assert list((project / "data/01_raw/synthetic_pool").glob("*.raw.csv.gz"))
    ref = pd.read_parquet(project / "data/04_feature/features_reference.parquet")
    assert "ref_basis_bp" in ref and len(ref) == manifest["bars"]
    # without a reference the reference set is refused before any node runs
    r = kedro(
        project,
        "run",
        "--pipeline=data_engineering",
        "--params=features.sets=[base,reference]",
    )
    assert (
        r.returncode == 1
        and "features.sets includes 'reference'" in r.stdout + r.stderr
    )
    assert "Running node" not in r.stdout + r.stderr
