"""Kline files load in every form users have them; gaps are flagged, not hidden."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from ethpredict.io.bars import assemble_bars
from ethpredict.io.binance import read_kline_files
from ethpredict.testing.builders import kline_rows, write_csv


def load(path, on_gap="flag"):
    return assemble_bars(read_kline_files(path), on_gap=on_gap)


def test_header_and_no_header_give_the_same_bars(tmp_path):
    rows = kline_rows(30)
    a = load(write_csv(tmp_path / "a.csv", rows, header=True)).bars
    b = load(write_csv(tmp_path / "b.csv", rows, header=False)).bars
    pd.testing.assert_frame_equal(a, b)
    assert a.index.tz is not None and str(a.index.tz) == "UTC"
    assert a.index[0] == pd.Timestamp("2024-01-01", tz="UTC")


def test_optional_columns_empty_and_only_six_columns(tmp_path):
    rows = [r[:6] + [""] * 6 for r in kline_rows(10)]
    bars = load(write_csv(tmp_path / "a.csv", rows)).bars
    assert bars["taker_buy_volume"].isna().all()
    six = load(write_csv(tmp_path / "b.csv", [r[:6] for r in kline_rows(10)])).bars
    assert len(six) == 10 and six["trades"].isna().all()


def test_microsecond_timestamps(tmp_path):
    rows = kline_rows(10)
    for r in rows:
        r[0], r[6] = str(int(r[0]) * 1000), str(int(r[6]) * 1000 + 999)
    a = load(write_csv(tmp_path / "us.csv", rows))
    assert a.interval_s == 60
    assert a.bars.index[0] == pd.Timestamp("2024-01-01", tz="UTC")


def test_folder_of_zips_in_any_order_is_one_series(tmp_path):
    rows = kline_rows(30)
    for name, part in (("2024-01-02", rows[15:]), ("2024-01-01", rows[:15])):
        with zipfile.ZipFile(tmp_path / f"ETHUSDT-1m-{name}.zip", "w") as zf:
            zf.writestr(f"ETHUSDT-1m-{name}.csv", "\n".join(",".join(r) for r in part))
    (tmp_path / "ETHUSDT-1m-2024-01-01.zip.CHECKSUM").write_text("ignored")
    a = load(tmp_path)
    assert len(a.bars) == 30 and a.bars.index.is_monotonic_increasing
    assert [f["bars"] for f in a.files] == [15, 15]


def test_gaps_are_filled_with_flat_bars_marked_as_filled(tmp_path):
    rows = kline_rows(20)
    a = load(write_csv(tmp_path / "k.csv", rows[:8] + rows[11:]))
    bars = a.bars
    assert len(bars) == 20
    filled = bars[bars["is_filled"]]
    assert list(filled.index) == list(bars.index[8:11])
    prev_close = bars["close"].iloc[7]
    for col in ("open", "high", "low", "close"):
        assert (filled[col] == prev_close).all()
    assert (filled[["volume", "trades", "quote_volume"]] == 0).all().all()
    assert not bars["is_filled"].iloc[[7, 11]].any()
    assert a.gaps == [
        {
            "after": "2024-01-01 00:07:00+00:00",
            "before": "2024-01-01 00:11:00+00:00",
            "missing_bars": 3,
            "file": str(tmp_path / "k.csv"),
            "line": 9,
            "column": "open_time",
        }
    ]


def test_numbers_in_any_precision(tmp_path):
    rows = kline_rows(5)
    rows[2][1:5] = ["3000", "3001.123456789", "2999.5", "3000.10"]
    bars = load(write_csv(tmp_path / "k.csv", rows)).bars
    assert bars["high"].iloc[2] == pytest.approx(3001.123456789)


REAL_KLINES = {
    "ETHUSDT-15m.csv": (900, 1363),
    "ETHUSDT-1h.csv": (3600, 722),
    "ETHUSDT-4h.csv": (14400, 556),
    "ETHUSDT-1d.csv": (86400, 509),
}


@pytest.mark.real_data
@pytest.mark.parametrize("name", sorted(REAL_KLINES))
def test_real_kline_files_load_as_they_are(real_data, name):
    a = load(real_data / name, on_gap="fail")
    interval_s, n = REAL_KLINES[name]
    assert (a.interval_s, len(a.bars)) == (interval_s, n)
    b = a.bars
    assert (b["low"] <= b[["open", "close"]].min(axis=1)).all()
    assert b["taker_buy_volume"].isna().mean() > 0.5  # real quirk kept: mostly empty
    assert np.isfinite(b[["open", "high", "low", "close", "volume"]].to_numpy()).all()
