"""The whole modeling pipeline on the default data (90 days of 1-minute bars).

Goal (issue #3): <= 90 s on 2 cores.

    python benchmarks/bench_modeling.py [--days 90] [--arch mlp]

data_engineering and labeling run first (not timed); then the modeling
pipeline (every model on every walk-forward fold, meta model, metrics) runs
through Kedro's SequentialRunner with the project's default parameters.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from ethpredict.params import validate_parameters
from ethpredict.pipelines.data_engineering import create_pipeline as data_engineering
from ethpredict.pipelines.labeling import create_pipeline as labeling
from ethpredict.pipelines.modeling import create_pipeline as modeling

CONF = Path(__file__).resolve().parents[1] / "conf" / "base"


class Kept(MemoryDataset):
    def _release(self) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--arch", default="mlp", choices=["mlp", "conv", "gru"])
    ap.add_argument("--tmp", default="/tmp/ethpredict-bench")
    args = ap.parse_args()
    raw = {}
    for f in sorted(CONF.glob("parameters*.yml")):
        raw.update(yaml.safe_load(f.read_text()))
    raw["data"]["synthetic"]["days"] = args.days
    raw["data"]["path"] = args.tmp
    raw["model"]["net"]["arch"] = args.arch
    raw["model"]["progress"] = False
    params = validate_parameters(raw)
    names = set(
        data_engineering().all_outputs()
        | labeling().all_outputs()
        | modeling().all_outputs()
    )
    catalog = DataCatalog(
        {
            **{
                f"params:{k}": MemoryDataset(getattr(params, k))
                for k in ("data", "features", "labels", "model")
            },
            **{n: Kept() for n in names},
        }
    )
    t0 = time.perf_counter()
    SequentialRunner().run(data_engineering() + labeling(), catalog)
    print(
        f"upstream (data_engineering + labeling, untimed goal): {time.perf_counter() - t0:.1f} s"
    )
    t0 = time.perf_counter()
    SequentialRunner().run(modeling(), catalog)
    wall = time.perf_counter() - t0
    folds = catalog["folds"].load()
    metrics = catalog["model_metrics"].load()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{len(catalog['bars'].load()):,} bars, {len(catalog['labels'].load()):,} events, "
        f"{len(folds)} folds, primary = {args.arch}"
    )
    print(f"modeling pipeline: {wall:.1f} s (goal <= 90 s), peak RSS {peak:.0f} MB")
    ll = {m: round(v["overall"]["log_loss"], 4) for m, v in metrics["models"].items()}
    print(f"out-of-sample log-loss: {ll}")


if __name__ == "__main__":
    main()
