"""What tracking costs per run: `kedro run --pipeline=backtest` with
kedro-mlflow tracking to SQLite, and with tracking switched off.

    python benchmarks/bench_tracking.py [--days 30] [--repeat 3]

A scratch project runs the whole chain once on ``--days`` of synthetic data
(setup), then times the backtest command ``--repeat`` times each way, Python
start-up included. "Off" uses a config environment whose ``mlflow.yml``
disables tracking for the pipeline (kedro-mlflow's own switch).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ethpredict.testing.project import scratch_project  # noqa: E402

OFF = "tracking:\n  disable_tracking:\n    pipelines: [backtest]\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    exe = str(Path(sys.executable).with_name("kedro"))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        root = scratch_project(Path(tmp), ROOT)
        (root / "conf" / "notrack").mkdir()
        (root / "conf" / "notrack" / "mlflow.yml").write_text(OFF)
        params = (
            f"--params=data.synthetic.days={args.days},model.cv.train_bars=14400,"
            "model.cv.test_bars=7200,model.progress=false"
        )
        subprocess.run(
            [exe, "run", params], cwd=root, env=env, check=True, capture_output=True
        )
        times: dict[str, list[float]] = {"tracked": [], "off": []}
        for _ in range(args.repeat):
            for mode, extra in (("tracked", []), ("off", ["--env", "notrack"])):
                t0 = time.perf_counter()
                subprocess.run(
                    [exe, "run", "--pipeline=backtest", params, *extra],
                    cwd=root,
                    env=env,
                    check=True,
                    capture_output=True,
                )
                times[mode].append(time.perf_counter() - t0)
        on, off = statistics.median(times["tracked"]), statistics.median(times["off"])
        print(
            f"kedro run --pipeline=backtest on {args.days} days, median of {args.repeat}: "
            f"tracked {on:.2f} s, untracked {off:.2f} s: tracking costs {on - off:.2f} s "
            f"per run ({(on - off) / off:.0%})"
        )


if __name__ == "__main__":
    main()
