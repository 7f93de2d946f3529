"""Runs that never mix: a run lock, stale temporary files removed, lineage
of every output, inputs of two versions refused, and the folds checked
against the data before the bars are saved."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ethpredict.io.atomic import atomic_path
from ethpredict.lineage import (
    STALE_S,
    Lineage,
    MixedRunsError,
    RunLock,
    clean_stale_temps,
)
from ethpredict.testing.project import (
    kedro,
    project_root,
    scratch_project,
)

PROJECT = project_root(__file__)


def _lineage(tmp_path: Path) -> Lineage:
    lin = Lineage(tmp_path)
    lin.start("r1", "kedro run", "__default__", "p1")
    for name, content in (("bars", "b1"), ("features", "f1"), ("predictions", "p1")):
        (tmp_path / name).write_text(content)
    lin.saved("r1", "bars", tmp_path / "bars", [])
    lin.saved("r1", "features", tmp_path / "features", ["bars"])
    lin.node_ran(
        ["features"],
        ["model_predictions"],
        persisted={"bars", "features", "predictions"},
    )
    lin.saved("r1", "predictions", tmp_path / "predictions", ["model_predictions"])
    lin.end("r1", "completed")
    return lin


def test_lineage_is_transitive_through_memory_datasets(tmp_path):
    lin = _lineage(tmp_path)
    out = lin.state["outputs"]
    assert set(out["predictions"]["from"]) == {"bars", "features"}
    assert out["predictions"]["from"]["bars"] == out["bars"]["hash"]
    lin.check(["bars", "predictions"])  # one version each: fine
    lin.save()
    again = Lineage(tmp_path)
    assert again.state == lin.state


def test_inputs_of_two_versions_are_refused_and_same_content_is_no_new_version(
    tmp_path,
):
    lin = _lineage(tmp_path)
    lin.start("r2", "kedro run --params=x", "data_engineering", "p2")
    lin.saved("r2", "bars", tmp_path / "bars", [])  # same content: same version
    lin.check(["bars", "predictions"])
    (tmp_path / "bars").write_text("b2")
    lin.saved("r2", "bars", tmp_path / "bars", [])
    lin.end("r2", "failed")
    with pytest.raises(MixedRunsError) as info:
        lin.check(["bars", "predictions"])
    text = str(info.value)
    assert "bars was remade by `kedro run --params=x`" in text and "(failed)" in text
    assert "but predictions was made from its earlier version" in text
    assert "ETHPREDICT_ALLOW_MIXED_RUNS=1" in text and "\n" not in text
    lin.check(["predictions", "features"])  # consistent among themselves
    with pytest.raises(MixedRunsError, match="bars was remade"):
        lin.check(["features", "bars"])


def test_a_killed_run_is_marked_interrupted_when_the_next_starts(tmp_path):
    lin = Lineage(tmp_path)
    lin.start("r1", "kedro run", "__default__", "p")
    lin.start("r2", "kedro run", "__default__", "p")
    assert lin.state["runs"]["r1"]["status"] == "interrupted"
    assert lin.state["runs"]["r2"]["status"] == "running"


def test_stale_temporary_files_are_removed_and_live_ones_kept(tmp_path):
    data = tmp_path / "data"
    (data / "07_model_output").mkdir(parents=True)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dead = data / "07_model_output" / f".quotes.parquet.{gone}.k2j3.tmp"
    live = data / "07_model_output" / f".fills.parquet.{os.getpid()}.x9z1.tmp"
    old = data / ".bars.parquet.abcd1234.tmp"  # written before temp names had a pid
    new = data / ".labels.parquet.efgh5678.tmp"
    keep = data / "07_model_output" / "quotes.parquet"
    for f in (dead, live, old, new, keep):
        f.write_text("x")
    os.utime(old, (time.time() - STALE_S - 5,) * 2)
    removed = clean_stale_temps(data)
    assert sorted(removed) == sorted([dead, old])
    assert live.exists() and new.exists() and keep.exists()


def test_atomic_temporary_files_carry_the_writers_pid(tmp_path):
    with atomic_path(tmp_path / "x.json") as tmp:
        assert tmp.name.startswith(f".x.json.{os.getpid()}.") and tmp.name.endswith(
            ".tmp"
        )
        tmp.write_text("{}")


def test_a_second_run_waits_for_the_first_and_says_so(tmp_path):
    lock = RunLock(tmp_path)
    lock.acquire("kedro run --pipeline=modeling")
    code = (
        "from pathlib import Path; from ethpredict.lineage import RunLock; "
        f"RunLock(Path({str(tmp_path)!r})).acquire('kedro run'); print('got it')"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)
        assert other.poll() is None  # still waiting
        lock.release()
        out, err = other.communicate(timeout=30)
    finally:
        other.kill()
    assert out.strip() == "got it"
    assert err.count("\n") == 1
    assert f"Another run is using this project (pid {os.getpid()} since " in err
    assert "kedro run --pipeline=modeling); waiting for it to end" in err


# --- real runs ---------------------------------------------------------------

FAST = (
    "data.synthetic.days=2,features.zscore_window=60,model.cv.train_bars=1440,"
    "model.cv.test_bars=720,mm.calib_window=240,model.net.max_epochs=3,"
    "model.gbt_iter=20,model.meta.min_events=50"
)


@pytest.mark.cli
def test_a_run_that_cannot_model_its_data_replaces_nothing_and_mixes_are_refused(
    tmp_path,
):
    project = scratch_project(tmp_path / "p", PROJECT)
    r = kedro(project, "run", f"--params={FAST}")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    data = project / "data"
    lineage = json.loads((data / ".lineage.json").read_text())
    assert (
        lineage["outputs"]["predictions"]["from"]["bars"]
        == (lineage["outputs"]["bars"]["hash"])
    )
    (run,) = lineage["runs"].values()
    assert run["status"] == "completed" and run["command"].startswith(
        "kedro run --params="
    )
    bars = (data / "02_intermediate/bars.parquet").read_bytes()
    stale = data / "07_model_output" / ".quotes.parquet.abcd.tmp"
    stale.write_text("left by a killed run")
    os.utime(stale, (time.time() - STALE_S - 5,) * 2)

    # windows longer than the data: stopped as soon as the bars exist, before they are saved
    r = kedro(project, "run", f"--params={FAST},model.cv.train_bars=5000")
    text = r.stdout + r.stderr
    assert r.returncode == 1 and "Traceback" not in text
    assert (
        "model.cv.train_bars = 5000 leaves no bars to test: the data has 2880 bars"
        in text
    )
    assert (data / "02_intermediate/bars.parquet").read_bytes() == bars
    assert not stale.exists()

    # other data, then a pipeline that reads it beside predictions of the old data
    r = kedro(
        project,
        "run",
        "--pipeline=data_engineering",
        f"--params={FAST},data.synthetic.days=3",
    )
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    r = kedro(project, "run", "--pipeline=backtest", f"--params={FAST}")
    text = r.stdout + r.stderr
    assert r.returncode == 1 and "Traceback" not in text
    assert "the inputs come from different runs: bars was remade by `kedro run " in text
    assert "predictions" in text and "ETHPREDICT_ALLOW_MIXED_RUNS=1" in text
    r = kedro(
        project,
        "run",
        "--pipeline=backtest",
        f"--params={FAST}",
        ETHPREDICT_ALLOW_MIXED_RUNS="1",
    )
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
