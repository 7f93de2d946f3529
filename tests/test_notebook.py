"""The exploration notebook runs against a real project run."""

from __future__ import annotations

import os
import shutil

import pytest

from ethpredict.testing.project import kedro, project_root, scratch_project

PROJECT = project_root(__file__)

CHAIN = (
    "--params=data.synthetic.days=2,features.zscore_window=60,model.cv.train_bars=1440,"
    "model.cv.test_bars=720,mm.calib_window=240,model.net.max_epochs=3,model.gbt_iter=20"
)


@pytest.mark.cli
def test_notebook_reproduces_report_figures(tmp_path):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    scratch_project(tmp_path, PROJECT)
    (tmp_path / "notebooks").mkdir()
    shutil.copy(PROJECT / "notebooks" / "explore_run.ipynb", tmp_path / "notebooks")
    r = kedro(tmp_path, "run", CHAIN)
    assert r.returncode == 0, r.stderr[-3000:]
    nb = nbformat.read(tmp_path / "notebooks" / "explore_run.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path / "notebooks")}},
    )
    os.environ["KEDRO_DISABLE_TELEMETRY"] = "1"
    client.execute()
    figures = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]
    assert len(figures) == 2  # the book and the ROC figures of the report
    titles = [
        f["data"]["application/vnd.plotly.v1+json"]["layout"].get("title", {})
        for f in figures
    ]
    assert "ROC" in str(titles[1])
