"""download_pool: a day of the busy USDC/WETH 0.05 % pool from a local node.

Goal (issue #17): the day's logs (6,234) and its 7,100 block headers
downloaded, checked and written in <= 10 s.

    python benchmarks/bench_download_pool.py [--real ../shared/data/real] [--repeat 3]

The node is ethpredict.testing.fake_node on 127.0.0.1 (no network), serving
the real day's raw logs when the folder exists, else 6,234 synthetic swap
logs over the same blocks. Each run downloads into a fresh folder with the
default parameters (max_range 2000, batch_size 100) and a node that refuses
spans over 1,000 blocks, so the halving is part of the figure.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ethpredict.io.pool_download import download_pool
from ethpredict.io.uniswap import encode_log
from ethpredict.params import RpcParams
from ethpredict.testing.fake_node import FakeChain, FakeNode, chain_from_raw_csv

POOL = "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"
DAY = "uniswap-v3/ethereum-usdc-weth-005-2024-01-05"
T0 = 1_704_412_823  # 2024-01-05 00:00:23 UTC


def synthetic_chain(n: int = 6234, seed: int = 0) -> FakeChain:
    rng = np.random.default_rng(seed)
    block = 18_937_382 + np.sort(rng.integers(0, 7099, n))
    logs = []
    for i, b in enumerate(block):
        topics, data = encode_log(
            "SWAP",
            amount0=-1000,
            amount1=10**15,
            sqrt_price_x96=1 << 96,
            liquidity=10**18,
            tick=0,
        )
        logs.append(
            {
                "blockNumber": int(b),
                "timestamp": T0 + 12 * int(b - block[0]),
                "logIndex": i,
                "transactionIndex": 0,
                "transactionHash": "0x" + f"{i:064x}",
                "topics": topics,
                "data": data,
            }
        )
    return FakeChain(logs, POOL)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--real",
        default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "real"),
    )
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    raw = Path(args.real) / DAY / f"ethereum-{POOL}-2024-01-05.raw.csv.gz"
    chain = chain_from_raw_csv(raw, POOL) if raw.exists() else synthetic_chain()
    print(
        f"node: {'real day' if raw.exists() else 'synthetic day'}, "
        f"{len(chain.logs):,} logs"
    )
    best = float("inf")
    with FakeNode(chain) as node:
        node.range_limit = 1000
        for i in range(args.repeat):
            with tempfile.TemporaryDirectory() as d:
                p = RpcParams(
                    url=node.url,
                    pool=POOL,
                    start="2024-01-05",
                    end="2024-01-05",
                    dest=d,
                )
                t = time.perf_counter()
                m = download_pool(p, p.url)
                wall = time.perf_counter() - t
            best = min(best, wall)
            print(
                f"run {i + 1}: {m['logs_fetched']:,} logs, "
                f"{m['end_block'] - m['start_block'] + 1:,} blocks, "
                f"{m['http_requests']} HTTP requests  wall {wall:.2f} s"
            )
    print(f"download_pool: best {best:.2f} s (goal <= 10 s)")


if __name__ == "__main__":
    main()
