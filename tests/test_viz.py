"""kedro-viz builds the project's graph offline, with layers and node names."""

from __future__ import annotations

import json

import pytest

from tests.conftest import kedro, scratch_project


@pytest.mark.cli
def test_kedro_viz_build(tmp_path):
    r = kedro(scratch_project(tmp_path), "viz", "build", timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    site = tmp_path / "build"
    assert (site / "index.html").exists()
    api = json.loads((site / "api" / "main").read_text())
    # layers in data-flow order (a cycle between layers would leave this empty)
    layers = api["layers"]
    order = [("intermediate", "primary"), ("primary", "model_input"),
             ("model_input", "model_output"), ("model_output", "reporting")]  # fmt: skip
    for before, after in order:
        assert layers.index(before) < layers.index(after)
    tasks = {n["name"] for n in api["nodes"] if n["type"] == "task"}
    assert {
        "ingest_market_data",
        "fit_models",
        "run_backtest",
        "build_run_report",
    } <= tasks
    pipelines = {p.name for p in (site / "api" / "pipelines").iterdir()}
    assert {"__default__", "backtest", "data_engineering", "modeling"} <= pipelines
