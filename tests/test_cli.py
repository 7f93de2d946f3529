"""The project's `kedro run`: key:value and key=value, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest

from ethpredict.cli import normalise_param_item, run, split_params
from ethpredict.testing.project import kedro, project_root, scratch_project

PROJECT = project_root(__file__)

FAST = "data.synthetic.days=2,features.zscore_window=60"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mm.gamma:0.3", {"mm": {"gamma": 0.3}}),
        ("mm.gamma=0.3", {"mm": {"gamma": 0.3}}),
        ("a.b:1,c.d=2", {"a": {"b": 1}, "c": {"d": 2}}),
        (
            "sweep.storage:postgresql://u@host:5432/db",
            {"sweep": {"storage": "postgresql://u@host:5432/db"}},
        ),
        ("sweep.storage=sqlite:///x.db", {"sweep": {"storage": "sqlite:///x.db"}}),
        ("data.path:/tmp/a:b", {"data": {"path": "/tmp/a:b"}}),
        ("x:a=b", {"x:a": "b"}),
        ("features.sets:[base]", {"features": {"sets": ["base"]}}),
        # commas inside brackets belong to the value: lists and maps
        (
            "features.sets=[base,reference],mm.gamma:0.3",
            {"features": {"sets": ["base", "reference"]}, "mm": {"gamma": 0.3}},
        ),
        (
            "a.b:1,features.sets:[base, advanced],a.c=2",
            {"a": {"b": 1, "c": 2}, "features": {"sets": ["base", "advanced"]}},
        ),
        ("x.m={k: [1,2], j: 3}", {"x": {"m": {"k": [1, 2], "j": 3}}}),
    ],
)
def test_split_params(value, expected):
    ctx = click.Context(run)
    param = next(p for p in run.params if p.name == "params")
    assert split_params(ctx, param, value) == expected


def test_normalise_leaves_equals_items_alone():
    assert normalise_param_item("a=b:c") == "a=b:c"
    assert normalise_param_item("a:b=c") == "a:b=c"


def test_an_item_without_separator_is_refused():
    ctx = click.Context(run)
    param = next(p for p in run.params if p.name == "params")
    with pytest.raises(click.UsageError, match="must contain a key and a value"):
        split_params(ctx, param, "gamma")
    with pytest.raises(click.UsageError, match="must contain a key and a value"):
        split_params(ctx, param, "a=1,=[1,2]")


def test_run_keeps_every_kedro_option():
    from kedro.framework.cli.project import run as kedro_run

    assert [p.name for p in run.params] == [p.name for p in kedro_run.params]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project's configuration in a scratch folder."""
    return scratch_project(tmp_path_factory.mktemp("project"), PROJECT)


@pytest.mark.cli
def test_colon_and_equals_forms_both_reach_the_nodes(project):
    out = project / "data" / "04_feature" / "features_base.parquet"
    r = kedro(
        project,
        "run",
        "--pipeline=data_engineering",
        f"--params={FAST},features.vol_window:17",
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "rv_cc_17" in pd.read_parquet(out).columns
    assert "deprecated" not in (r.stdout + r.stderr).lower()  # --pipeline is quiet
    r = kedro(
        project,
        "run",
        "--pipeline",
        "data_engineering",
        f"--params={FAST},features.vol_window=23",
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "rv_cc_23" in pd.read_parquet(out).columns
    manifest = json.loads(
        (project / "data/02_intermediate/data_manifest.json").read_text()
    )
    assert manifest["synthetic"] is True and manifest["bars"] == 2 * 1440


@pytest.mark.cli
def test_bad_parameter_stops_before_any_node_with_one_message(project):
    r = kedro(project, "run", "--params=data.on_gap:sometimes")
    assert r.returncode == 1
    assert "parameter data.on_gap = 'sometimes'" in r.stderr + r.stdout
    assert "Traceback" not in r.stderr + r.stdout
    assert "Running node" not in r.stderr + r.stdout


@pytest.mark.cli
def test_bad_data_is_one_message_and_earlier_outputs_stay(project, tmp_path):
    out = project / "data" / "02_intermediate" / "bars.parquet"
    if not out.exists():
        assert kedro(project, "run", f"--params={FAST}").returncode == 0
    before = out.read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text("1704067200000,3000,2990,2995,2996,1\n")
    r = kedro(project, "run", f"--params=data.source:binance_klines,data.path:{bad}")
    assert r.returncode == 1
    text = r.stderr + r.stdout
    assert "line 1, column 'high'" in text and "Traceback" not in text
    assert out.read_bytes() == before


CHAIN = (
    f"{FAST},model.cv.train_bars=1440,model.cv.test_bars=720,mm.calib_window=240,"
    "model.net.max_epochs=3,model.gbt_iter=20,model.meta.min_events=50"
)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """Another scratch project, in which nothing has run yet."""
    return scratch_project(tmp_path_factory.mktemp("fresh"), PROJECT)


@pytest.mark.cli
def test_backtest_before_any_run_names_the_command(fresh):
    r = kedro(fresh, "run", "--pipeline=backtest")
    text = r.stderr + r.stdout
    assert r.returncode == 1
    assert (
        "Error: missing upstream output(s) bars, data_manifest, model_metrics, "
        "pool_liquidity, predictions" in text
    )
    assert "`kedro run`" in text and "Traceback" not in text


@pytest.mark.cli
def test_backtest_gamma_changes_quotes_and_metrics(fresh):
    r = kedro(fresh, "run", f"--params={CHAIN}")
    assert r.returncode == 0, r.stderr[-3000:]
    out = fresh / "data"
    before_q = pd.read_parquet(out / "07_model_output" / "quotes.parquet")
    before_m = json.loads((out / "08_reporting" / "backtest_metrics.json").read_text())
    preds = (out / "07_model_output" / "predictions.parquet").read_bytes()
    r = kedro(fresh, "run", "--pipeline=backtest", f"--params={CHAIN},mm.gamma:0.3")
    assert r.returncode == 0, r.stderr[-3000:]
    after_q = pd.read_parquet(out / "07_model_output" / "quotes.parquet")
    after_m = json.loads((out / "08_reporting" / "backtest_metrics.json").read_text())
    valid = before_q["valid"]
    assert not np.allclose(
        before_q.loc[valid, "half_spread"], after_q.loc[valid, "half_spread"]
    )
    assert before_m["with_signal"] != after_m["with_signal"]
    # upstream outputs were read, not remade
    assert (out / "07_model_output" / "predictions.parquet").read_bytes() == preds
    # and the run is tracked: dotted parameters, metrics as in metrics.json, artefacts
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{fresh / 'mlflow.db'}")
    exp = client.get_experiment_by_name("ethpredict")
    runs = [  # kedro-mlflow marks the aborted run of the test before FINISHED, empty
        r
        for r in client.search_runs(
            [exp.experiment_id], order_by=["attributes.start_time DESC"]
        )
        if r.data.params
    ]
    last, first = runs[0], runs[-1]
    assert (
        last.data.params["mm.gamma"] == "0.3"
        and first.data.params["mm.gamma"] == "0.05"
    )
    flat = json.loads((out / "08_reporting" / "metrics.json").read_text())
    assert last.data.metrics["backtest.total_pnl"] == pytest.approx(
        flat["backtest.total_pnl"]
    )
    numeric = {k for k, v in flat.items() if isinstance(v, int | float)}
    assert set(last.data.metrics) == numeric  # all of them, in one batch
    from ethpredict.testing.invariants import check_metrics

    assert not check_metrics(flat, max_inventory=5.0)  # the default mm.max_inventory
    # the store was put in WAL mode (each MLflow write is a transaction)
    import sqlite3

    with sqlite3.connect(fresh / "mlflow.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {a.path for a in client.list_artifacts(last.info.run_id, "report")} == {
        "report/metrics.json",  # report.html only with report.mlflow_copy
    }
    assert {a.path for a in client.list_artifacts(first.info.run_id, "model")} == {
        "model/primary_model.pt",
        "model/meta_model.skops",
    }
