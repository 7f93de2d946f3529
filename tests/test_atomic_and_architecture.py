"""Outputs are never half-written; module boundaries hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ethpredict.datasets import JSONDataset, ParquetDataset
from ethpredict.io.atomic import atomic_path
from ethpredict.testing.project import project_root

PROJECT = project_root(__file__)


def test_failed_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_parquet_dataset_failed_save_keeps_previous(tmp_path):
    ds = ParquetDataset(filepath=str(tmp_path / "b.parquet"))
    good = pd.DataFrame({"a": [1.0, 2.0]})
    good.attrs["synthetic"] = True
    ds.save(good)
    with pytest.raises(Exception):  # noqa: B017 - any serialisation error
        ds.save(pd.DataFrame({"a": [object()]}))
    back = ds.load()
    pd.testing.assert_frame_equal(back, good)
    assert back.attrs["synthetic"] is True
    assert len(list(tmp_path.iterdir())) == 1


def test_json_dataset_roundtrip(tmp_path):
    ds = JSONDataset(filepath=str(tmp_path / "m.json"))
    ds.save({"a": 1})
    assert ds.load() == {"a": 1}


def test_import_contracts():
    exe = shutil.which("lint-imports") or str(
        Path(sys.executable).with_name("lint-imports")
    )
    r = subprocess.run([exe], cwd=PROJECT, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "4 kept, 0 broken" in r.stdout


def test_flatten_parameters_for_tracking():
    from ethpredict.hooks import flatten

    assert flatten({"mm": {"gamma": 0.3, "x": {"y": [1]}}, "a": 1}) == {
        "mm.gamma": 0.3,
        "mm.x.y": [1],
        "a": 1,
    }
