"""Sweeps: 1000 trials of the backtest pipeline on a year of 1-minute bars.

Goals (issue #6): 1000 trials of `kedro run --pipeline=backtest` over
>= 525,600 bars in <= 60 s wall on this 2-core machine (`sweep.n_jobs: 2`),
a measured speed-up from the second worker, and >= 60x faster per trial than
the naive way (a separate `kedro run` process per trial, measured on 20).

    python benchmarks/bench_sweep.py [--project DIR] [--naive 20] [--trials 1000]

Without --project it makes a scratch project and runs the whole chain once on
365 days (untimed, about 3 minutes). Each sweep is the real command, timed
from process start to exit: Kedro start-up, the fixed part (loads,
calibration), the trials, the sweep report and MLflow logging, and the final
ordinary run of the best trial are all inside the wall time.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ethpredict.testing.project import scratch_project  # noqa: E402

EXE = str(Path(sys.executable).with_name("kedro"))
ENV = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "PYTHONWARNINGS": "ignore"}
YEAR = "data.synthetic.days=365,model.progress=false"


def kedro(project: Path, *args: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(
        [EXE, "run", *args],
        cwd=project,
        env=ENV,
        capture_output=True,
        check=False,
        text=True,
    )
    wall = time.perf_counter() - t0
    if r.returncode:
        sys.exit(f"kedro run {' '.join(args)} failed:\n{r.stderr[-3000:]}")
    return wall, r.stderr + r.stdout


def sweep(project: Path, trials: int, jobs: int, sampler: str) -> dict:
    name = f"bench-{sampler}-{jobs}-{uuid.uuid4().hex[:6]}"
    wall, out = kedro(
        project,
        "--pipeline=backtest",
        f"--params=sweep.n_trials={trials},sweep.n_jobs={jobs},"
        f"sweep.sampler={sampler},sweep.study_name={name}",
    )
    m = re.search(r"Sweep: (\d+) trial\(s\) here in ([\d.]+) s", out)
    done = re.search(r"Sweep: done in ([\d.]+) s", out)
    if not (m and done):
        sys.exit(f"the sweep's summary lines are missing:\n{out[-3000:]}")
    # Kedro's start-up and the best trial's ordinary run: what is not the sweep
    rest = wall - float(done.group(1))
    return {
        "wall": wall,
        "trials_s": float(m.group(2)),
        "n": int(m.group(1)),
        "sweep_s": float(done.group(1)),
        "final_s": rest,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--project", type=Path, help="a project on which `kedro run` has run"
    )
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--naive", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = args.project
        if project is None:
            project = scratch_project(Path(tmp) / "p", ROOT)
            t0 = time.perf_counter()
            kedro(project, f"--params={YEAR}")
            print(
                f"setup: whole chain on 365 days: {time.perf_counter() - t0:.0f} s (untimed)"
            )
        bars = re.search(
            r'"bars": (\d+)',
            (project / "data" / "02_intermediate" / "data_manifest.json").read_text(),
        )
        print(f"bars: {int(bars.group(1)):,}")
        results = {}
        for sampler in ("tpe", "random"):
            r = sweep(project, args.trials, 2, sampler)
            results[sampler] = r
            rate = r["n"] / r["trials_s"]
            print(
                f"{args.trials} trials, {sampler}, n_jobs 2: {r['wall']:.1f} s wall "
                f"(goal <= 60 s): trials {r['trials_s']:.1f} s ({rate:.1f}/s), whole "
                f"sweep {r['sweep_s']:.1f} s, start-up and best-trial run "
                f"{r['final_s']:.1f} s"
            )
        one = sweep(project, 300, 1, "random")
        two = sweep(project, 300, 2, "random")
        print(
            f"300 trials, random: n_jobs 1 {one['n'] / one['trials_s']:.1f}/s, n_jobs 2 "
            f"{two['n'] / two['trials_s']:.1f}/s: speed-up "
            f"{one['trials_s'] / two['trials_s']:.2f}x"
        )
        if args.naive:
            naive_ratio(project, args.naive, results["tpe"]["wall"] / args.trials)
        mlflow_cost(project)


def naive_ratio(project: Path, n: int, per_trial: float) -> None:
    """A separate `kedro run` process per trial, as a shell loop would do."""
    t0 = time.perf_counter()
    for i in range(n):
        kedro(project, "--pipeline=backtest", f"--params=mm.gamma={0.01 + 0.02 * i}")
    naive = (time.perf_counter() - t0) / n
    print(
        f"naive: {n} separate `kedro run --pipeline=backtest` processes, "
        f"{naive:.1f} s per trial; the sweep {per_trial * 1e3:.0f} ms per trial "
        f"(whole command, tpe): {naive / per_trial:.0f}x (goal >= 60x)"
    )


def mlflow_cost(project: Path, n: int = 20) -> None:
    """What one nested MLflow run per trial would cost (why only the best
    sweep.mlflow_trials trials get one and the rest are batched)."""
    import mlflow
    from mlflow.entities import Metric, Param

    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    exp = client.search_experiments()[0].experiment_id
    parent = client.create_run(exp, run_name="bench-parent").info.run_id
    t0 = time.perf_counter()
    for i in range(n):
        cid = client.create_run(exp, tags={"mlflow.parentRunId": parent}).info.run_id
        client.log_batch(
            cid,
            metrics=[Metric(f"m{j}", j, 0, 0) for j in range(40)],
            params=[Param(f"p{j}", str(i)) for j in range(5)],
        )
        client.set_terminated(cid)
    each = (time.perf_counter() - t0) / n
    client.set_terminated(parent)
    print(
        f"mlflow: one nested run with 5 params and 40 metrics: {each * 1e3:.0f} ms "
        f"({each * 1000:.0f} s for 1000 trials)"
    )


if __name__ == "__main__":
    main()
