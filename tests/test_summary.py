"""The experiment matrix over many runs."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ethpredict.cli import cli


def write_run(folder, name, gamma, pnl, dd):
    run = folder / name
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(
        json.dumps(
            {
                "backtest.total_pnl": pnl,
                "backtest.max_drawdown": dd,
                "backtest.sharpe": 0.1,
                "data.bars": 100,
            }
        )
    )
    (run / "parameters.json").write_text(
        json.dumps({"mm.gamma": gamma, "mm.tick": 0.01})
    )
    (run / "report.html").write_text("<html></html>")


def test_summary_from_a_folder(tmp_path):
    for i, (g, pnl, dd) in enumerate(
        [(0.05, -10.0, 50.0), (0.3, 25.5, 20.0), (0.1, 3.0, 9.0)]
    ):
        write_run(tmp_path / "runs", f"run{i}", g, pnl, dd)
    out = tmp_path / "summary.html"
    r = CliRunner().invoke(
        cli, ["summary", "--runs", str(tmp_path / "runs"), "--output", str(out)]
    )
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert "ETHPredict runs (3)" in page
    assert ">mm.gamma ⇅</th>" in page and "mm.tick" not in page  # only what changed
    assert page.count(">report</a>") == 3 and "onclick='sortBy(" in page
    assert "Return against drawdown" in page and "<script src=" not in page


def test_summary_from_mlflow(tmp_path):
    mlflow = pytest.importorskip("mlflow")
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("ethpredict")
    try:
        for g, pnl in ((0.05, 1.0), (0.2, 2.0)):
            with mlflow.start_run(run_name="backtest"):
                mlflow.log_params(
                    {
                        "mm.gamma": g,
                        "mm.tick": 0.01,
                        "mm": f"gamma={g}",
                        "parameters.mm": f"gamma={g}",
                    }
                )  # kedro-mlflow's own
                mlflow.log_metrics(
                    {"backtest.total_pnl": pnl, "backtest.max_drawdown": 1.0}
                )
    finally:
        mlflow.set_tracking_uri("")
    out = tmp_path / "s.html"
    r = CliRunner().invoke(
        cli, ["summary", "--tracking-uri", uri, "--output", str(out)]
    )
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert "ETHPredict runs (2)" in page and ">mm.gamma ⇅</th>" in page
    assert ">mm ⇅</th>" not in page and "parameters.mm" not in page


def test_summary_without_runs_is_one_clear_error(tmp_path):
    r = CliRunner().invoke(cli, ["summary", "--runs", str(tmp_path)])
    assert r.exit_code == 1 and "no metrics.json under" in r.output
