"""The backtest: kernel throughput, speed-up over the Python reference, and
`kedro run --pipeline=backtest` on one year of 1-minute bars.

Goals (issue #4): kernel >= 20 million bar-steps/s on one core (a year of
1-minute bars in <= 26 ms after compilation) and >= 100x the plain-Python
reference; `kedro run --pipeline=backtest` on a year in <= 30 s.

    python benchmarks/bench_backtest.py [--skip-cli]

The kernel runs on the year with the default touch fill model and the
default policy shape (GLFT depths from a fixed calibration); the reference
(tests/core/test_backtest.py) runs on the first 50,000 bars and is scaled.
The CLI part makes a scratch project, runs the whole chain once on 365 days
(untimed), then times the backtest command (Python start-up included).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ethpredict.core import types as T  # noqa: E402
from ethpredict.core.glft import glft_terms  # noqa: E402
from ethpredict.io.synthetic import synthetic_klines  # noqa: E402
from ethpredict.params import SyntheticParams  # noqa: E402
from ethpredict.testing.backtest_reference import (  # noqa: E402
    kernel_args,
    reference,
    run_kernel,
)
from ethpredict.testing.project import scratch_project  # noqa: E402


def inputs(days: int):
    """A year of synthetic 1-minute bars and the default policy's shape."""
    df = synthetic_klines(SyntheticParams(days=days, seed=3))
    o, h, lo, c, vol = (
        df[k].to_numpy(np.float64) for k in ("open", "high", "low", "close", "volume")
    )
    n = len(c)
    half, skew, _ = glft_terms(0.05, 0.6, 0.025, 0.45, 0.0)
    bd = np.tile([float(half), float(skew)], (n, 1))
    ones = np.ones(n)
    u = np.random.default_rng(0).random((n, 2))
    p = {
        "levels": 1,
        "spacing": 0.0,
        "mult": 1.0,
        "tick": 0.01,
        "base_size": 1.0,
        "max_inventory": 5.0,
        "requote": 50.0,
        "delay": 1,
        "gas": 0.0015,
        "fee": 0.0,
        "taker": 5e-4,
        "fill_model": 0,
        "through": 1.0,
        "max_dd": 0.0,
        "log_tick": 0.0,
        "post_only": True,
        "part": 0.1,
    }
    ok = np.ones(n, bool)
    args = (
        o,
        h,
        lo,
        c,
        vol,
        ok,
        bd,
        bd.copy(),
        ones,
        ones,
        ones * 0.025,
        ones * 0.6,
        u,
        np.zeros(n),
    )
    return args, p


def outputs(n: int, levels: int = 1):
    """The wrapper allocates these once per run; not part of the fill loop.
    Column-major, as ``ethpredict.backtesting.run_book`` passes them (each
    column of the tables it builds is then contiguous)."""
    return (
        np.empty((len(T.BOOK_COLUMNS), n)).T,
        np.empty((len(T.FILL_COLUMNS), n * (2 * levels + 1))).T,
        np.empty((len(T.ORDER_COLUMNS), n * 2 * levels + 1)).T,
    )


def kernel(args, p, out=None, prepared=None):
    """The kernel on ``args``; ``out`` reuses preallocated outputs and
    ``prepared`` (``kernel_args(args, p)``) the split input columns, so
    that only the fill loop is timed."""
    return run_kernel(args, p, out, prepared)[0]


def bench_kernel() -> None:
    args, p = inputs(365)
    n = len(args[3])
    t0 = time.perf_counter()
    kernel(args, p)
    print(f"first call (compile or load cache): {time.perf_counter() - t0:.2f} s")
    out = outputs(n)
    ready = kernel_args(args, p)
    best = min(_timed(lambda: kernel(args, p, out, ready)) for _ in range(20))
    print(
        f"kernel: {n:,} bars in {best * 1e3:.1f} ms = {n / best / 1e6:.1f} M bar-steps/s "
        f"(goals: <= 26 ms, >= 20 M/s)"
    )
    # a 0.05 % pool's grid (10 ticks), requoting at one grid step
    pool = {**p, "log_tick": 10 * np.log(1.0001), "requote": 1.0}
    ready_pool = kernel_args(args, pool)
    best = min(_timed(lambda: kernel(args, pool, out, ready_pool)) for _ in range(20))
    print(
        f"kernel on a Uniswap tick grid: {best * 1e3:.1f} ms = "
        f"{n / best / 1e6:.1f} M bar-steps/s"
    )
    m = 50_000
    small = tuple(a[:m] for a in args)
    slow = _timed(lambda: reference(*small, p))
    out_small = outputs(m)
    ready_small = kernel_args(small, p)
    fast = min(
        _timed(lambda: kernel(small, p, out_small, ready_small)) for _ in range(20)
    )
    np.testing.assert_allclose(
        kernel(small, p), reference(*small, p)[0], atol=1e-7, equal_nan=True
    )
    fills = run_kernel(args, p)[1]
    print(f"(the year: {len(fills):,} fills)")
    print(
        f"reference: {m:,} bars in {slow:.2f} s; kernel {fast * 1e3:.2f} ms: "
        f"{slow / fast:,.0f}x faster (goal >= 100x)"
    )


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_cli() -> None:
    exe = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        root = scratch_project(Path(tmp), ROOT)
        year = "--params=data.synthetic.days=365,model.progress=false"
        t0 = time.perf_counter()
        subprocess.run(
            [exe, "run", year], cwd=root, env=env, check=True, capture_output=True
        )
        print(
            f"setup: whole chain on 365 days: {time.perf_counter() - t0:.1f} s (untimed goal)"
        )
        for i in range(2):
            t0 = time.perf_counter()
            r = subprocess.run(
                [exe, "run", "--pipeline=backtest", year],
                cwd=root,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            wall = time.perf_counter() - t0
            inner = re.search(r"successfully in ([\d.]+) sec", r.stdout + r.stderr)
            print(
                f"kedro run --pipeline=backtest, 525,600 bars, run {i + 1}: {wall:.1f} s wall"
                f" ({inner.group(1) if inner else '?'} s in the pipeline) (goal <= 30 s)"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-cli", action="store_true")
    args = ap.parse_args()
    bench_kernel()
    if not args.skip_cli:
        bench_cli()


if __name__ == "__main__":
    main()
