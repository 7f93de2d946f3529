"""Reading on-chain and generic OHLCV data: decode a day of raw Uniswap v3
logs, load the 130,708-bar 1-minute file.

Goals (issue #7): a day of raw Uniswap logs (6,000+ events) decoded in <= 1 s;
the 130,708-bar 1-minute file loaded in <= 2 s.

    python benchmarks/bench_onchain_data.py [--real ../shared/data/real] [--repeat 5]

Uses the real files when the folder exists; otherwise it writes files of the
same format and size (6,234 logs as eth_getLogs rows; 130,708 ISO-dated
1-minute candles) and times those. Times are the best of ``--repeat`` runs
in this process; the first, cold run (file cache and imports warm,
nothing else) is printed above each figure.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.io.uniswap import encode_log, read_pool
from ethpredict.params import DataParams, UniswapParams
from ethpredict.pipelines.data_engineering.nodes import ingest_market_data

POOL = "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"
DAY = "uniswap-v3/ethereum-usdc-weth-005-2024-01-05"
ONE_MINUTE = "ohlcv-1m/ETHUSDT_1m_2025-05-20_2025-08-18.csv.gz"


def fake_day(folder: Path, n: int = 6234, seed: int = 0) -> Path:
    """``n`` swap logs over one day in demeter-fetch's raw CSV layout."""
    rng = np.random.default_rng(seed)
    block = 18_937_382 + np.sort(rng.integers(0, 7200, n))
    tick = 199_045 + np.cumsum(rng.integers(-3, 4, n))
    rows = []
    for i in range(n):
        eth = int(rng.integers(1, 5 * 10**18)) * (1 if rng.random() < 0.5 else -1)
        topics, data = encode_log(
            "SWAP",
            amount0=-int(eth / 10**12 * 2270),
            amount1=eth,
            sqrt_price_x96=int(math.sqrt(1.0001 ** int(tick[i])) * 2**96),
            liquidity=10**19,
            tick=int(tick[i]),
        )
        rows.append((int(block[i]), i, str(topics), data))
    t = pd.to_datetime(1_704_412_800 + (block - block[0]) * 12, unit="s")
    frame = pd.DataFrame(
        {
            "block_number": [r[0] for r in rows],
            "block_timestamp": t.strftime("%Y-%m-%d %H:%M:%S"),
            "transaction_hash": "0x0",
            "transaction_index": 0,
            "log_index": [r[1] for r in rows],
            "topics": [r[2] for r in rows],
            "data": [r[3] for r in rows],
        }
    )
    path = folder / f"ethereum-{POOL}-2024-01-05.raw.csv.gz"
    frame.to_csv(path, index=False)
    return path


def fake_minutes(folder: Path, n: int = 130_708) -> Path:
    rng = np.random.default_rng(1)
    close = np.round(2500 * np.exp(np.cumsum(rng.normal(0, 8e-4, n))), 2)
    open_ = np.r_[close[0], close[:-1]]
    frame = pd.DataFrame(
        {
            "date": pd.date_range(
                "2025-05-20", periods=n, freq="1min", tz="UTC"
            ).strftime("%Y-%m-%d %H:%M:%S+00:00"),
            "open": open_,
            "high": np.maximum(open_, close) + 0.5,
            "low": np.minimum(open_, close) - 0.5,
            "close": close,
            "volume": np.round(rng.uniform(10, 900, n), 4),
        }
    )
    path = folder / "ETHUSDT_1m.csv.gz"
    frame.to_csv(path, index=False)
    return path


def best(fn, repeat: int) -> tuple[float, object]:
    """Best of ``repeat`` timed runs; the first (cold) run is printed too."""
    t0 = time.perf_counter()
    out = fn()
    print(f"  (first run, cold: {time.perf_counter() - t0:.3f} s)")
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
    ap.add_argument("--real", type=Path, default=here)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if (args.real / DAY).is_dir():
            day, minutes, kind = args.real / DAY, args.real / ONE_MINUTE, "real"
        else:
            day, minutes, kind = fake_day(tmp), fake_minutes(tmp), "generated"

        s, pool = best(
            lambda: read_pool(day, UniswapParams(form="raw"), None), args.repeat
        )
        print(
            f"Uniswap v3 raw logs, one day ({kind}): {pool.events:,} events "
            f"({len(pool.swaps):,} swaps) decoded into swaps, per-block bars and "
            f"liquidity in {s:.3f} s (goal <= 1 s)"
        )
        data = {"source": "uniswap_v3", "path": str(day), "uniswap": {"form": "raw"}}
        s, out = best(lambda: ingest_market_data(DataParams(**data)), args.repeat)
        print(
            f"  ... and the whole ingest node (validation, {len(out[0]):,} bars): "
            f"{s:.3f} s"
        )
        data = {"source": "ohlcv", "path": str(minutes)}
        s, out = best(lambda: ingest_market_data(DataParams(**data)), args.repeat)
        print(
            f"1-minute OHLCV file ({kind}, {minutes.stat().st_size / 1e6:.1f} MB gzip): "
            f"{len(out[0]):,} bars read, validated and assembled in {s:.3f} s "
            "(goal <= 2 s)"
        )


if __name__ == "__main__":
    main()
