"""kedro-viz builds the project's graph offline (``kedro graph``), with layers
and node names."""

from __future__ import annotations

import json
import re

import pytest

from ethpredict.testing.project import kedro, project_root, scratch_project

PROJECT = project_root(__file__)


@pytest.mark.cli
def test_kedro_graph_builds_an_offline_site(tmp_path):
    r = kedro(scratch_project(tmp_path, PROJECT), "graph", timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    site = tmp_path / "build"
    page = (site / "index.html").read_text()
    assert "serve it with: python -m http.server --bind 127.0.0.1 -d build" in r.stdout
    # nothing the page loads comes from another host (kedro-viz links Google Fonts)
    assert not re.findall(r"<(?:link|script|img)\b[^>]*(?:href|src)=\"https?://", page)
    assert "<script" in page
    api = json.loads((site / "api" / "main").read_text())
    # layers in data-flow order (a cycle between layers would leave this empty)
    layers = api["layers"]
    order = [
        ("intermediate", "primary"),
        ("primary", "model_input"),
        ("model_input", "model_output"),
        ("model_output", "reporting"),
    ]
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
