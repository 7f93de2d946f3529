"""Halts: zero-volume bars at a frozen price are marked, dropped or refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ethpredict.errors import DataValidationError
from ethpredict.io.bars import (
    assemble_bars,
    describe_ranges,
    stale_mask,
    unobserved_change,
)
from ethpredict.io.binance import read_kline_files
from ethpredict.io.funding import funding_per_bar
from ethpredict.io.ohlcv import read_ohlcv_files
from ethpredict.params import OHLCVParams
from ethpredict.testing.builders import frozen, kline_rows, write_csv


def load(path, **kw):
    return assemble_bars(read_kline_files(path), on_gap="flag", **kw)


def slow_stale(o, h, lo, c, v, filled, n):
    """Reference: a plain loop over the bars."""
    flat = [
        t > 0 and v[t] == 0 and o[t] == h[t] == lo[t] == c[t] == c[t - 1]
        for t in range(len(c))
    ]
    out, t = [False] * len(c), 0
    while t < len(c):
        if not flat[t]:
            t += 1
            continue
        end = t
        while end + 1 < len(c) and flat[end + 1]:
            end += 1
        for j in range(t, end + 1):
            out[j] = end - t + 1 >= n and not filled[j]
        t = end + 1
    return np.array(out)


@pytest.mark.parametrize("seed", range(20))
def test_stale_mask_equals_the_loop(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 60))
    c = np.round(100 + np.cumsum(rng.choice([0.0, 0.0, 0.0, 1.0, -1.0], m)), 2)
    o = np.r_[c[0], c[:-1]]
    h, lo = np.maximum(o, c), np.minimum(o, c)
    h = np.where(rng.random(m) < 0.1, h + 1, h)  # a wick without a close move
    v = np.where(rng.random(m) < 0.6, 0.0, 1.0)
    filled = rng.random(m) < 0.1
    frame = pd.DataFrame({"open": o, "high": h, "low": lo, "close": c, "volume": v})
    for n in (1, 2, 3, 5):
        expected = slow_stale(o, h, lo, c, v, filled, n)
        np.testing.assert_array_equal(stale_mask(frame, filled, n), expected)


def test_a_halt_is_marked_and_short_pauses_are_not(tmp_path):
    rows = frozen(frozen(kline_rows(60), 10, 2), 30, 5)
    rows[50][5] = rows[50][9] = "0"  # no volume, but the price moved: not frozen
    a = load(write_csv(tmp_path / "k.csv", rows))
    stale = a.bars["is_stale"]
    assert stale.dtype == bool and stale.sum() == 5 and stale.iloc[30:35].all()
    assert not stale.iloc[10:12].any()  # two quiet minutes are no halt
    assert a.stale_bars == 5
    assert a.stale_ranges == [
        ["2024-01-01T00:30:00+00:00", "2024-01-01T00:34:00+00:00"]
    ]
    assert not load(tmp_path / "k.csv", stale_min_bars=6).bars["is_stale"].any()
    assert load(tmp_path / "k.csv", stale_min_bars=2).bars["is_stale"].sum() == 7


def test_filled_bars_count_towards_a_halt_but_stay_filled(tmp_path):
    rows = frozen(kline_rows(60), 20, 2)
    write_csv(tmp_path / "k.csv", rows[:22] + rows[25:])  # 3 missing after the 2
    a = load(tmp_path / "k.csv")
    assert a.bars["is_filled"].iloc[22:25].all() and a.bars["is_filled"].sum() == 3
    assert a.bars["is_stale"].iloc[20:22].all() and a.bars["is_stale"].sum() == 2
    assert not (a.bars["is_stale"] & a.bars["is_filled"]).any()
    assert a.filled_ranges == [
        ["2024-01-01T00:22:00+00:00", "2024-01-01T00:24:00+00:00"]
    ]


def test_on_stale_fail_names_the_file_line_count_and_ranges(tmp_path):
    write_csv(tmp_path / "k.csv", frozen(frozen(kline_rows(60), 10, 4), 40, 3))
    with pytest.raises(DataValidationError) as exc:
        load(tmp_path / "k.csv", on_stale="fail")
    msg = str(exc.value)
    assert "k.csv, line 11, column 'open_time': 7 stale bar(s)" in msg
    assert "in 2 run(s): 2024-01-01T00:10:00+00:00 – 2024-01-01T00:13:00+00:00, " in msg
    assert "--params=data.on_stale=flag" in msg and "data.stale_min_bars" in msg
    assert "\n" not in msg


def test_on_stale_drop_removes_them(tmp_path):
    write_csv(tmp_path / "k.csv", frozen(kline_rows(60), 10, 4))
    a = load(tmp_path / "k.csv", on_stale="drop")
    assert len(a.bars) == 56 and not a.bars["is_stale"].any()
    assert a.stale_bars == 4 and len(a.stale_ranges) == 1
    missing = pd.Timestamp("2024-01-01 00:10", tz="UTC")
    assert missing not in a.bars.index
    change = unobserved_change(a.bars)  # the change over the hole is no observation
    assert change[10] and change.sum() == 2  # and the first bar


def test_no_detection_when_disabled(tmp_path):
    write_csv(tmp_path / "k.csv", frozen(kline_rows(60), 10, 10))
    assert not load(tmp_path / "k.csv", stale_min_bars=None).bars["is_stale"].any()


def test_describe_ranges_lists_the_first_few():
    ranges = [[f"t{i}", f"u{i}"] for i in range(8)] + [["x", "x"]]
    assert describe_ranges(ranges[:2]) == "t0 – u0, t1 – u1"
    assert describe_ranges(ranges, shown=2) == "t0 – u0, t1 – u1 … and 7 more"
    assert describe_ranges([["x", "x"]]) == "x"


def test_funding_in_a_hole_falls_to_the_bar_before():
    t = pd.date_range("2024-03-01 07:50", periods=20, freq="1min", tz="UTC")
    kept = t.delete(range(9, 13)).as_unit("ns").asi8  # 07:59 … 08:02 dropped
    f = pd.Series([1e-4], index=pd.DatetimeIndex(["2024-03-01 08:00"], tz="UTC"))
    per_bar = funding_per_bar(f, kept, 60 * 10**9)
    assert per_bar[8] == 1e-4 and np.count_nonzero(per_bar) == 1  # 07:58's close on
    late = pd.Series([1.0], index=pd.DatetimeIndex(["2024-03-01 09:00"], tz="UTC"))
    assert not funding_per_bar(late, kept, 60 * 10**9).any()  # after the bars


@pytest.mark.real_data
def test_real_perpetual_has_no_halt_by_default(real_data):
    """The perpetual file has three zero-volume minutes (two in a row at
    2025-01-14 13:32, one at 15:01), each at the previous close: pauses, not
    a halt."""
    path = next((real_data / "perp-1m").glob("*_1m_2024-12-19_*.csv.gz"))
    a = assemble_bars(read_ohlcv_files(str(path), OHLCVParams()), on_gap="flag")
    assert (a.bars["volume"] == 0).sum() == 3 and a.stale_bars == 0
    quiet = a.bars.index[a.bars["volume"].to_numpy() == 0].strftime("%m-%d %H:%M")
    assert list(quiet) == ["01-14 13:32", "01-14 13:33", "01-14 15:01"]
    two = assemble_bars(
        read_ohlcv_files(str(path), OHLCVParams()), on_gap="flag", stale_min_bars=2
    )
    assert two.stale_bars == 2
