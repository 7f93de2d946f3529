"""Labeling one year of 1-minute bars (525,600): events, triple barrier, uniqueness.

Goal (issue #3): <= 5 s on this machine.

    python benchmarks/bench_labeling.py [--days 365] [--repeat 3]

Numba compilation is done once on a small input first and reported apart
(it is cached on disk after the first run of a checkout).
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from ethpredict.io.synthetic import synthetic_klines
from ethpredict.params import LabelsParams, SyntheticParams
from ethpredict.pipelines.labeling.nodes import label_events, sample_events


def bars_of(days: int) -> pd.DataFrame:
    df = synthetic_klines(SyntheticParams(days=days, seed=1))
    bars = df[["open", "high", "low", "close", "volume"]].astype("float64")
    bars.index = pd.DatetimeIndex(pd.to_datetime(df["open_time"], unit="ms", utc=True))
    return bars


def label(bars: pd.DataFrame, p: LabelsParams) -> int:
    return len(label_events(bars, sample_events(bars, p), p))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    label(bars_of(2), LabelsParams())
    print(f"compile / load cached kernels: {time.perf_counter() - t0:.2f} s")
    bars = bars_of(args.days)
    for name, p in (
        ("every bar", LabelsParams(events="all")),
        ("CUSUM 3 vol (default)", LabelsParams()),
        ("every bar, horizon 240", LabelsParams(events="all", horizon=240)),
    ):
        best, n = float("inf"), 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            n = label(bars, p)
            best = min(best, time.perf_counter() - t0)
        print(
            f"{len(bars):,} bars, {name}: {n:,} events labelled in {best:.3f} s "
            f"(goal <= 5 s)"
        )


if __name__ == "__main__":
    main()
