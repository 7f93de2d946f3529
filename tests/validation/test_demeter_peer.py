"""demeter's per-minute fee rule (validation/demeter_fee_rule.py) on its own,
and, where zelos-demeter can be run, against demeter itself
(validation/demeter_peer.py).

zelos-demeter is not a project dependency: the peer test runs where demeter
imports, or with ``DEMETER_PYTHON`` pointing at an interpreter that has it
(e.g. ``/work/venv-demeter/bin/python``), and skips otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

VALIDATION = Path(__file__).resolve().parents[2] / "validation"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, VALIDATION / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


rule = _load("demeter_fee_rule")


def test_bar_weight_cases():
    lo, hi = 100, 200
    last = np.array([150, 50, 250, 50, 150, 150, 50, 250, 199, 200, 99])
    close = np.array([160, 60, 260, 150, 250, 50, 250, 50, 200, 199, 100])
    want = [
        1,
        0,
        0,
        50 / 100,
        50 / 100,
        50 / 100,
        100 / 200,
        100 / 200,
        1 / 1,
        1 / 1,
        0,
    ]
    # both in | both below | both above | below->in | in->above | in->below |
    # below->above | above->below | in->upper edge (upper is outside) |
    # upper->in | below->lower edge (the move's in-range length is 0)
    np.testing.assert_allclose(rule.bar_weight(last, close, lo, hi), want)


def test_mint_minute_uses_its_own_close():
    m = {
        "closeTick": np.array([150.0, 250.0, 150.0]),
        "inAmount0": np.full(3, 1e6),
        "inAmount1": np.zeros(3),
        "currentLiquidity": np.full(3, 999.0),
    }
    f0, _, w = rule.demeter_fees(m, 100, 200, 1, start=1)
    # minute 1: last = its own close (250, above), not minute 0's 150
    np.testing.assert_allclose(w, [0.0, 0.0, 0.5])
    np.testing.assert_allclose(f0, [0.0, 0.0, 0.5 * 1.0 * (1 / 1000) * rule.FEE_RATE])


def _demeter_python() -> list[str] | None:
    if importlib.util.find_spec("demeter") is not None:
        return [sys.executable]
    exe = os.environ.get("DEMETER_PYTHON")
    return [exe] if exe and Path(exe).is_file() else None


@pytest.mark.real_data
def test_demeter_and_the_numpy_rule_agree(tmp_path):
    peer = _load("demeter_peer")
    if not peer.minute_file(peer.DATA).is_file():
        pytest.skip(f"the shared pool day {peer.DATA} is absent")
    python = _demeter_python()
    if python is None:
        pytest.skip(
            "zelos-demeter is not importable (pip install zelos-demeter==1.3.0 "
            "in its own virtualenv and set DEMETER_PYTHON)"
        )
    out = tmp_path / "peer.json"
    subprocess.run(
        [*python, str(VALIDATION / "demeter_peer.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    cases = {c["case"]: c for c in json.loads(out.read_text())["cases"]}
    assert set(cases) == {"range_5pct", "range_0.5pct", "full_range"}
    for c in cases.values():
        b = c["bridge"]
        assert b["rel_diff_fees0"] < 1e-9 and b["rel_diff_fees1"] < 1e-9
        assert abs(c["value_minted"] / 10_000 - 1) < 1e-6
        assert c["net_value"] == pytest.approx(c["liquidity_value"] + c["fees_value"])
    # narrower range, more liquidity per dollar, more fees while in range
    assert (
        cases["range_0.5pct"]["liquidity"]
        > cases["range_5pct"]["liquidity"]
        > cases["full_range"]["liquidity"]
    )
    assert cases["range_0.5pct"]["bridge"]["minutes_partial_weight"] > 0
