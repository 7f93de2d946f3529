"""The Uniswap v3 LP venue on a per-block year: 2,628,000 blocks of 12 s.

Goal (issue #14): a per-block year through the pool venue in <= 2 s per
trial on this 2-core machine (both books of a trial — with and without the
signal — and the passive baselines), so that a 1000-trial sweep of it fits
in 10 minutes.

    python benchmarks/bench_pool.py [--days 365] [--repeat 5] [--sweep 1000]

The year is built in memory: a GBM pool price with 0.84 swaps per block on
average (the shared 0.05 % pool day has 6,046 swaps in 7,199 blocks), each
swap's input implied by a constant active liquidity, and GLFT-like quotes
(a half spread recalibrated every hour and an inventory skew). Timed, after one untimed
call that compiles the kernels:

* ``kernel``: ``pool_book_nb`` alone on prepared arrays;
* ``book``: :func:`ethpredict.lp.run_pool_book` (the wrapper: swap arrays,
  grid, fills, orders and markout tables);
* ``baselines``: :func:`ethpredict.lp.lp_baselines` (full range, static
  range, hold);
* ``trial``: two books and the baselines, what a sweep trial of the
  backtest computes for the LP venue besides its quotes and metrics.

``--sweep N`` then runs the real command, ``kedro run --pipeline=backtest``
with ``sweep.n_trials=N``, ``sweep.n_jobs=2`` (TPE over ``mm.gamma``,
``mm.spread_scale``, ``mm.skew_scale``, ``mm.alpha_weight`` and
``backtest.range_requote``), timed from process start to exit, in a scratch
project whose upstream outputs (bars, swaps, predictions, a data manifest and
model metrics) are this year's stand-ins written to its catalog — the
modeling of 2.6 M blocks is not what is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.lp import lp_baselines, run_pool_book
from ethpredict.params import BacktestParams, MMParams, RiskParams
from ethpredict.testing.project import model_metrics, scratch_project
from ethpredict.timeaxis import bar_seconds

BLOCK_S = 12


def pool_year(days: int, seed: int = 0):
    """Bars, swaps (the ``trades`` of a pool source) and quotes of ``days``
    days of 12-s blocks."""
    rng = np.random.default_rng(seed)
    n = days * 86_400 // BLOCK_S
    per_block = rng.poisson(0.84, n)
    m = int(per_block.sum())
    sigma_swap = 0.65 / np.sqrt(365 * 86_400 / BLOCK_S * 0.84)
    price = 2300.0 * np.exp(np.cumsum(rng.normal(0, sigma_swap, m)))
    L = 3e16 / 1e12  # whole-token active liquidity
    s = np.sqrt(price)
    s_prev = np.r_[s[0], s[:-1]]
    up = s > s_prev
    qty = L * np.abs(1 / s - 1 / s_prev)
    quote = L * np.abs(s - s_prev)
    block = np.repeat(np.arange(n), per_block)
    t0 = pd.Timestamp("2024-01-01", tz="UTC").value
    t = t0 + block * BLOCK_S * 10**9 + 10**9
    trades = pd.DataFrame(
        {
            "price": price,
            "qty": qty,
            "quote_qty": quote,
            "side": np.where(up, 1, -1),
            "liquidity": np.full(m, L * 1e12),
        },
        index=pd.DatetimeIndex(pd.to_datetime(t, utc=True), name="time"),
    )
    close = pd.Series(price).groupby(block).last().reindex(range(n)).ffill().bfill()
    close = close.to_numpy()
    open_ = np.r_[close[0], close[:-1]]
    hi = np.maximum(
        open_, pd.Series(price).groupby(block).max().reindex(range(n)).to_numpy()
    )
    lo = np.minimum(
        open_, pd.Series(price).groupby(block).min().reindex(range(n)).to_numpy()
    )
    vol = np.bincount(block, qty, n)
    idx = pd.date_range(
        pd.Timestamp(t0, tz="UTC"), periods=n, freq=f"{BLOCK_S}s", name="time"
    )
    bars = pd.DataFrame(
        {
            "open": open_,
            "high": np.fmax(hi, open_),
            "low": np.fmin(lo, open_),
            "close": close,
            "volume": vol,
            "is_filled": False,
            "is_stale": False,
        },
        index=idx,
    )
    bars.attrs.update(
        venue="uniswap_v3",
        fee_bps=5.0,
        tick_spacing=10,
        block_time_s=float(BLOCK_S),
        eth_token="token1",
        decimals0=6,
        decimals1=18,
    )
    # a half spread recalibrated every 300 blocks (an hour), as GLFT's is
    half = np.repeat(0.6 + 0.4 * rng.random(n // 300 + 1), 300)[:n]
    quotes = pd.DataFrame(
        {
            "bid_depth": half,
            "ask_depth": half,
            "skew": np.full(n, 0.3),
            "bid_size": np.ones(n),
            "ask_size": np.ones(n),
            "valid": np.ones(n, bool),
        },
        index=idx,
    )
    return bars, trades, quotes


ROOT = Path(__file__).resolve().parents[1]
SPACE = {
    "mm.gamma": {"type": "float", "low": 0.005, "high": 1.0, "log": True},
    "mm.spread_scale": {"type": "float", "low": 0.5, "high": 3.0},
    "mm.skew_scale": {"type": "float", "low": 0.0, "high": 3.0},
    "mm.alpha_weight": {"type": "float", "low": 0.0, "high": 3.0},
    "backtest.range_requote": {"type": "int", "low": 1, "high": 40},
}


def sweep_project(root: Path, bars, trades) -> Path:
    """A scratch project with the year's stand-in upstream outputs."""
    from ethpredict.datasets import JSONDataset, ParquetDataset

    project = scratch_project(root, ROOT)
    data = project / "data"
    rng = np.random.default_rng(1)
    n = len(bars)
    train = n // 6
    p_up = rng.uniform(0.2, 0.5, n - train)
    preds = pd.DataFrame(
        {
            "p_up": p_up,
            "p_down": 0.7 - p_up,
            "bet_size": rng.uniform(-1, 1, n - train),
            "bet_source": "meta",
        },
        index=bars.index[train:],
    )
    liq = pd.DataFrame(
        {"liquidity": [3e16], "price": [bars["open"].iat[0]]}, index=bars.index[:1]
    )
    for name, layer, frame in (
        ("bars", "02_intermediate", bars),
        ("trades", "02_intermediate", trades),
        ("pool_liquidity", "02_intermediate", liq),
        ("predictions", "07_model_output", preds),
    ):
        ParquetDataset(filepath=str(data / layer / f"{name}.parquet")).save(frame)
    manifest = {
        "source": "uniswap_v3",
        "synthetic": True,
        "symbol": "ETHUSDT",
        "interval": "12s",
        "venue": "uniswap_v3",
        "interval_s": 12,
        "start": str(bars.index[0]),
        "end": str(bars.index[-1]),
        "bars": n,
        "filled_bars": 0,
        "gaps": 0,
        "stale_bars": 0,
        "trades": len(trades),
        "files": [],
        "notice": "benchmark stand-ins",
    }
    JSONDataset(filepath=str(data / "02_intermediate" / "data_manifest.json")).save(
        manifest
    )
    JSONDataset(filepath=str(data / "07_model_output" / "model_metrics.json")).save(
        model_metrics()
    )
    (project / "conf" / "local" / "parameters.yml").write_text(
        json.dumps(
            {
                "sweep": {"space": SPACE},
                "model": {"progress": False},
                "mm": {"calib_window": 7200, "calib_every": 300},
            }
        )
    )
    return project


def run_sweep(project: Path, trials: int) -> None:
    exe = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    r = subprocess.run(
        [
            exe,
            "run",
            "--pipeline=backtest",
            f"--params=sweep.n_trials={trials},sweep.n_jobs=2,sweep.sampler=tpe",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if r.returncode:
        sys.exit(f"the sweep failed:\n{r.stderr[-3000:]}")
    out = r.stderr + r.stdout
    m = re.search(r"Sweep: (\d+) trial\(s\) here in ([\d.]+) s", out)
    print(
        f"sweep: {trials} trials (tpe, n_jobs 2) in {wall:.0f} s wall "
        f"(goal <= 600 s); trials {float(m.group(2)):.0f} s, "
        f"{float(m.group(2)) / int(m.group(1)) * 2:.2f} s per trial per worker"
    )


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sweep", type=int, default=0, help="trials of a real sweep")
    args = ap.parse_args()
    t0 = time.perf_counter()
    bars, trades, quotes = pool_year(args.days)
    print(
        f"built {len(bars):,} blocks, {len(trades):,} swaps in "
        f"{time.perf_counter() - t0:.1f} s (untimed)"
    )
    mp, bp, rp = (
        MMParams(),
        BacktestParams(range_requote=2.0),
        RiskParams(max_drawdown=None),
    )
    bar_s = bar_seconds(bars)

    def book():
        return run_pool_book(bars, trades, None, quotes, mp, bp, rp, bar_s)

    def baselines():
        return lp_baselines(bars, trades, None, quotes, mp, bp)

    b, f, o = book()  # compile
    baselines()
    print(
        f"one book: {len(f):,} fills, {len(o):,} range orders, "
        f"{int(b['updates'].iat[-1]):,} LP actions"
    )
    t_book = timed(book, args.repeat)
    t_base = timed(baselines, args.repeat)
    t_trial = 2 * t_book + t_base
    print(f"book (wrapper + kernel): {t_book:.3f} s")
    print(f"baselines:               {t_base:.3f} s")
    print(f"trial (2 books + baselines): {t_trial:.3f} s  (goal <= 2 s)")
    print(
        f"1000 trials at that rate, one worker: {1000 * t_trial / 60:.1f} min "
        "(goal <= 10 min)"
    )
    if args.sweep:
        with tempfile.TemporaryDirectory() as tmp:
            run_sweep(sweep_project(Path(tmp) / "p", bars, trades), args.sweep)


if __name__ == "__main__":
    main()
