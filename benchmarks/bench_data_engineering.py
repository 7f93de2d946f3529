"""data_engineering on one year of 1-minute bars (525,600): wall time and peak RSS.

Goal (issue #2): <= 20 s and <= 2 GB peak memory on the 2-core CI machine.

    python benchmarks/bench_data_engineering.py [--days 365] [--repeat 3]

The year is written once as a Binance kline CSV (the embedded generator's
output), then each repeat runs the whole pipeline in a fresh child process —
read + validate + assemble bars, both feature sets, atomic Parquet writes —
so that peak memory is the pipeline's own (ru_maxrss of the child).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(csv: Path, out: Path) -> None:
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    from ethpredict.datasets import JSONDataset, ParquetDataset
    from ethpredict.params import DataParams, FeaturesParams
    from ethpredict.pipelines.data_engineering import create_pipeline

    catalog = DataCatalog(
        {
            "params:data": MemoryDataset(
                DataParams(source="binance_klines", path=str(csv))
            ),
            "params:features": MemoryDataset(FeaturesParams()),
            "bars": ParquetDataset(filepath=str(out / "bars.parquet")),
            "trades": ParquetDataset(filepath=str(out / "trades.parquet")),
            "pool_liquidity": ParquetDataset(filepath=str(out / "pool.parquet")),
            "data_manifest": JSONDataset(filepath=str(out / "manifest.json")),
            "features_base": ParquetDataset(
                filepath=str(out / "features_base.parquet")
            ),
            "features_advanced": ParquetDataset(
                filepath=str(out / "features_adv.parquet")
            ),
        }
    )
    t0 = time.perf_counter()
    SequentialRunner().run(create_pipeline(), catalog)
    wall = time.perf_counter() - t0
    bars = json.loads((out / "manifest.json").read_text())["bars"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "peak_mb": peak_mb, "bars": bars}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", nargs=2, metavar=("CSV", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return

    from ethpredict.io.synthetic import ensure_synthetic_klines
    from ethpredict.params import DataParams

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        csv = ensure_synthetic_klines(
            DataParams(path=tmp, synthetic={"days": args.days, "seed": 1})
        )
        gen = time.perf_counter() - t0
        size_mb = csv.stat().st_size / 1e6
        print(
            f"generate {args.days} days of 1m klines: {gen:.2f} s ({size_mb:.0f} MB CSV)"
        )
        runs = []
        for i in range(args.repeat):
            out = Path(tmp) / f"out{i}"
            out.mkdir()
            env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
            r = subprocess.run(
                [sys.executable, __file__, "--child", str(csv), str(out)],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            runs.append(json.loads(r.stdout.strip().splitlines()[-1]))
            print(
                f"run {i + 1}: {runs[-1]['bars']:,} bars  wall {runs[-1]['wall_s']:.2f} s"
                f"  peak RSS {runs[-1]['peak_mb']:.0f} MB"
            )
        best = min(r["wall_s"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        print(
            f"data_engineering: best {best:.2f} s (goal <= 20 s), "
            f"peak {peak:.0f} MB (goal <= 2048 MB)"
        )


if __name__ == "__main__":
    main()
