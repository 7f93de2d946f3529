"""The power curve: planted signal strength -> probability that a run finds it.

For each `data.synthetic.signal_ic` in the grid and each seed, one whole
default chain (`kedro run`, the embedded market with that strength and seed)
in a scratch project; a run *detects* the signal when the 95 % block-bootstrap
interval of `signal_added.total_pnl` lies above 0 (the report's "Yes"), and
its model *finds* it when the calibrated primary beats the class prior on
log-loss and has an ROC-AUC above 0.5. Strength 0 gives the false-positive
rate (the noise traders' bounce is real predictability, so the model may beat
the prior there; the book should not gain from it).

    python benchmarks/bench_power.py [--strengths 0,0.05,0.1,0.15] [--seeds 42,7,3]
                                     [--days 90] [--project DIR]

One chain takes about 2 minutes on this 2-core machine: the default grid
(4 strengths x 3 seeds) about 25 minutes. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ethpredict.testing.project import scratch_project  # noqa: E402

EXE = str(Path(sys.executable).with_name("kedro"))
ENV = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "PYTHONWARNINGS": "ignore"}
KEYS = (
    "signal_added.total_pnl",
    "signal_added.total_pnl_lo",
    "signal_added.total_pnl_hi",
    "signal.primary.log_loss",
    "signal.prior.log_loss",
    "signal.primary.roc_auc",
    "backtest.total_pnl",
    "backtest.halted",
)


def chain(project: Path, ic: float, seed: int, days: int) -> dict:
    params = (
        f"data.synthetic.signal_ic={ic},data.synthetic.seed={seed},"
        f"data.synthetic.days={days},model.progress=false"
    )
    t0 = time.perf_counter()
    r = subprocess.run(
        [EXE, "run", f"--params={params}"],
        cwd=project,
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode:
        sys.exit(f"kedro run --params={params} failed:\n{r.stderr[-3000:]}")
    m = json.loads((project / "data/08_reporting/metrics.json").read_text())
    return {**{k: m.get(k) for k in KEYS}, "wall_s": time.perf_counter() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strengths", default="0,0.05,0.1,0.15")
    ap.add_argument("--seeds", default="42,7,3")
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--project", type=Path, default=None)
    a = ap.parse_args()
    project = a.project or scratch_project(Path(tempfile.mkdtemp()) / "p", ROOT)
    seeds = [int(s) for s in a.seeds.split(",")]
    print(f"project {project}; {a.days} days per chain; seeds {seeds}")
    print(
        "| signal_ic | P(detect) | P(model beats prior) | signal_added, USD (mean ± sd) "
        "| runs: signal_added [95 % interval] |"
    )
    print("|---|---|---|---|---|")
    for ic in (float(s) for s in a.strengths.split(",")):
        runs = [chain(project, ic, s, a.days) for s in seeds]
        added = [r["signal_added.total_pnl"] for r in runs]
        detect = sum(r["signal_added.total_pnl_lo"] > 0 for r in runs) / len(runs)
        model = sum(
            r["signal.primary.log_loss"] < r["signal.prior.log_loss"]
            and r["signal.primary.roc_auc"] > 0.5
            for r in runs
        ) / len(runs)
        mean = sum(added) / len(added)
        sd = (sum((x - mean) ** 2 for x in added) / max(len(added) - 1, 1)) ** 0.5
        each = "; ".join(
            f"{r['signal_added.total_pnl']:+,.0f} [{r['signal_added.total_pnl_lo']:+,.0f}, "
            f"{r['signal_added.total_pnl_hi']:+,.0f}]"
            for r in runs
        )
        print(
            f"| {ic:g} | {detect:.2f} | {model:.2f} | {mean:+,.0f} ± {sd:,.0f} | {each} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
