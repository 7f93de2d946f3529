"""Our static Uniswap v3 position against zelos-demeter's, on the shared
0.05 % pool day, through the committed fixture (no demeter needed): the
tolerances of docs/validation.md, "Uniswap v3 LP accounting against demeter".
Skips when the shared pool day is absent."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

VALIDATION = Path(__file__).resolve().parents[2] / "validation"
pytestmark = pytest.mark.real_data
WIDE = ("range_5pct", "full_range")  # in range every minute of the day
NARROW = "range_0.5pct"  # in range 292 of 1,440 minutes (demeter's weights)


def _load():
    spec = importlib.util.spec_from_file_location(
        "demeter_crosscheck", VALIDATION / "demeter_crosscheck.py"
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def res() -> dict:
    mod = _load()
    if not (mod.DATA / mod.MINUTE_FILE).is_file():
        pytest.skip(f"the shared pool day {mod.DATA} is absent")
    out = mod.crosscheck()
    return {c["case"]: c for c in out["cases"]}


def _rel(a: float, b: float) -> float:
    return abs(a / b - 1)


def test_fixture_records_demeter_and_its_command():
    meta = json.loads((VALIDATION / "demeter_2024-01-05.json").read_text())["meta"]
    assert meta["peer"] == "zelos-demeter" and meta["version"] == "1.3.0"
    assert meta["command"].startswith("python validation/demeter_peer.py --fixture")


def test_same_positions(res):
    """Ticks → ETH bounds, raw → whole-token L and the amounts math agree:
    the position's tokens at demeter's end price are demeter's to 1e-9."""
    assert set(res) == {*WIDE, NARROW}
    for c in res.values():
        for form in ("raw", "minute"):
            assert (
                _rel(c[form]["liquidity_value"], c["demeter"]["liquidity_value"]) < 1e-9
            )


def test_wide_ranges_fees_within_2pct_and_the_gap_is_the_dilution(res):
    for name in WIDE:
        c = res[name]
        d, raw = c["demeter"], c["raw"]
        for k in ("fees0", "fees1", "fees_value"):
            assert _rel(raw[k], d[k]) < 0.01  # measured 0.47-0.58 %
        # demeter dilutes a minute's fees by its closing liquidity; with each
        # swap's own liquidity its rule gives the swap-by-swap fees (the WETH
        # rest is the day's first swap, 0.01 ETH, before our mint price)
        step = {s["step"]: s for s in c["ladder"]}["+ swaps' own liquidity"]
        assert _rel(step["fees0"], raw["fees0"]) < 1e-9
        assert _rel(step["fees1"], raw["fees1"]) < 1e-6
        # our minute rule (lp.swap_path) on demeter's inputs is demeter's rule
        # when the range holds every minute's path, but for the minutes whose
        # price never left its tick: demeter books their inputs, our minute
        # form cannot place them and books none (measured −1.1 % / −1.6 %)
        for k in ("fees0", "fees1"):
            assert -0.02 < (c["minute"][k] - d[k]) / d[k] < 0
        # net value at demeter's price and minute: within 1 bp
        assert _rel(raw["net_value"], d["net_value"]) < 1e-4


def test_narrow_range_gap_is_demeters_two_tick_weight(res):
    c = res[NARROW]
    d, raw, steps = c["demeter"], c["raw"], {s["step"]: s for s in c["ladder"]}
    gap = raw["fees_value"] - d["fees_value"]
    assert gap / d["fees_value"] > 0.10  # not within 2 %: demeter misses 13.6 %
    # the weight over the minute's path with its highs and lows closes it
    path = steps["+ intra-minute path (highs, lows)"]["fees_value"]
    liq = steps["+ swaps' own liquidity"]["fees_value"]
    assert (path - liq) / gap > 0.9
    assert _rel(path, raw["fees_value"]) < 0.01  # measured +0.49 %
    # our minute rule (lp.swap_path) is within 2.5 % of the swaps (+1.98 %),
    # demeter's 13.6 % below them
    assert _rel(c["minute"]["fees_value"], raw["fees_value"]) < 0.025
    assert _rel(c["minute"]["fees_value"], raw["fees_value"]) < _rel(
        d["fees_value"], raw["fees_value"]
    )
    # net value at demeter's price: the fee gap and nothing else (12.4 bp)
    assert raw["net_value"] - d["net_value"] == pytest.approx(
        raw["fees_value"] - d["fees_value"], abs=1e-6
    )
    assert _rel(raw["net_value"], d["net_value"]) < 15e-4


def test_lp_swap_path_minute_form_fees_within_2pct_of_the_swaps(res):
    for c in res.values():
        # measured +0.53 % (wide ranges) and +1.98 % (±0.5 %)
        assert _rel(c["minute"]["fees_value"], c["raw"]["fees_value"]) < 0.02
