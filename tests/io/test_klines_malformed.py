"""Every malformed kline input gives one clear error naming file, line, column."""

from __future__ import annotations

import gzip
import zipfile

import pytest

from ethpredict.errors import DataValidationError
from ethpredict.io.bars import assemble_bars
from ethpredict.io.binance import read_kline_files
from ethpredict.testing.builders import kline_rows, write_csv


def load(path, on_gap="flag", interval=None):
    return assemble_bars(
        read_kline_files(path), on_gap=on_gap, expected_interval=interval
    )


def edit(rows, i, col, value):
    rows = [r[:] for r in rows]
    rows[i][col] = value
    return rows


# (case id, rows or raw text, header, expected line, expected column, words in message)
ROWS = kline_rows(20)
CASES = [
    (
        "bad-number",
        edit(ROWS, 4, 2, "12x.5"),
        False,
        5,
        "high",
        "'12x.5' is not a number",
    ),
    ("bad-number-header", edit(ROWS, 4, 5, "abc"), True, 6, "volume", "not a number"),
    ("empty-required", edit(ROWS, 7, 4, ""), False, 8, "close", "is empty"),
    (
        "negative-price",
        edit(edit(ROWS, 3, 3, "-1"), 3, 1, "-1"),
        False,
        4,
        "open",
        "not > 0",
    ),
    ("zero-price", edit(edit(ROWS, 3, 3, "0"), 3, 1, "0"), False, 4, "open", "not > 0"),
    ("high-below-close", edit(ROWS, 9, 2, "1.0"), False, 10, "high", "high must be ≥"),
    ("low-above-open", edit(ROWS, 9, 3, "99999"), False, 10, "low", "low must be ≤"),
    ("negative-volume", edit(ROWS, 2, 5, "-3"), False, 3, "volume", "negative"),
    ("negative-trades", edit(ROWS, 2, 8, "-1"), False, 3, "trades", "negative"),
    (
        "taker-exceeds-volume",
        edit(ROWS, 2, 9, "1e9"),
        False,
        3,
        "taker_buy_volume",
        "exceeds",
    ),
    (
        "duplicate-row",
        ROWS[:6] + [ROWS[5]] + ROWS[6:],
        False,
        7,
        "open_time",
        "duplicate bar",
    ),
    (
        "unsorted",
        ROWS[:3] + [ROWS[4], ROWS[3]] + ROWS[5:],
        False,
        5,
        "open_time",
        "not sorted",
    ),
    (
        "bad-timestamp",
        edit(ROWS, 6, 0, "2024-01-01"),
        False,
        7,
        "open_time",
        "not a number",
    ),
    (
        "fractional-timestamp",
        edit(ROWS, 6, 0, "1704067560000.5"),
        False,
        7,
        "open_time",
        "not an epoch timestamp",
    ),
    (
        "mixed-units",
        edit(ROWS, 6, 0, str(int(ROWS[6][0]) * 1000)),
        False,
        7,
        "open_time",
        "in µs but the file's first row is in ms",
    ),
    (
        "mixed-interval-close-time",
        edit(ROWS, 8, 6, str(int(ROWS[8][0]) + 299_999)),
        False,
        9,
        "close_time",
        "mixed intervals",
    ),
    (
        "extra-field",
        edit(ROWS, 11, 11, "0,7"),
        False,
        12,
        None,
        "13 fields; expected 12",
    ),
]


@pytest.mark.parametrize(
    ("rows", "header", "line", "column", "words"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_malformed_rows(tmp_path, rows, header, line, column, words):
    path = write_csv(tmp_path / "k.csv", rows, header=header)
    with pytest.raises(DataValidationError) as exc:
        load(path)
    msg = str(exc.value)
    assert str(path) in msg
    assert f"line {line}" in msg
    assert exc.value.row == line
    assert exc.value.column == column
    assert words in msg


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataValidationError, match="empty.csv: file is empty"):
        load(path)


def test_header_without_rows(tmp_path):
    path = write_csv(tmp_path / "h.csv", [], header=True)
    with pytest.raises(DataValidationError, match="header but no rows"):
        load(path)


def test_missing_column_in_header(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("open_time,open,high,low,volume\n1704067200000,1,2,0.5,3\n")
    with pytest.raises(DataValidationError) as exc:
        load(path)
    assert exc.value.column == "close"
    assert "missing column(s) close" in str(exc.value)


def test_too_few_columns_without_header(tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("1704067200000,1,2,0.5\n")
    with pytest.raises(DataValidationError, match="4 column"):
        load(path)


def test_mixed_intervals_across_files(tmp_path):
    write_csv(tmp_path / "a-1m.csv", kline_rows(10))
    write_csv(
        tmp_path / "b-5m.csv", kline_rows(10, step_ms=300_000, t0_ms=1_704_153_600_000)
    )
    with pytest.raises(DataValidationError, match="mixed intervals across files"):
        load(tmp_path)


def test_mixed_intervals_without_close_time(tmp_path):
    rows = [r[:6] for r in kline_rows(10)]
    rows[5][0] = str(int(rows[4][0]) + 90_000)  # 1.5 bars after the previous one
    path = write_csv(tmp_path / "k.csv", rows)
    with pytest.raises(DataValidationError, match="not a multiple") as exc:
        load(path)
    assert exc.value.row == 6


def test_overlapping_files(tmp_path):
    rows = kline_rows(20)
    write_csv(tmp_path / "a.csv", rows[:12])
    write_csv(tmp_path / "b.csv", rows[10:])
    with pytest.raises(DataValidationError, match="overlaps .*a.csv") as exc:
        load(tmp_path)
    assert "b.csv" in str(exc.value)


def test_gap_fails_when_on_gap_is_fail(tmp_path):
    rows = kline_rows(20)
    path = write_csv(tmp_path / "k.csv", rows[:8] + rows[11:])
    with pytest.raises(DataValidationError, match="gap of 3 missing bar") as exc:
        load(path, on_gap="fail")
    assert exc.value.row == 9
    assert "data.on_gap=flag" in str(exc.value)


def test_wrong_expected_interval(tmp_path):
    path = write_csv(tmp_path / "k.csv", kline_rows(5))
    with pytest.raises(
        DataValidationError, match="bars are 1m but data.interval is '1h'"
    ):
        load(path, interval="1h")


def test_corrupt_zip_and_gzip(tmp_path):
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(DataValidationError, match="x.zip: not a valid zip archive"):
        load(tmp_path / "z")
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "x.csv.gz").write_bytes(b"not gzip")
    with pytest.raises(DataValidationError, match="x.csv.gz: not a valid gzip"):
        load(tmp_path / "g")


def test_bad_row_inside_zip_names_member(tmp_path):
    rows = edit(kline_rows(10), 3, 4, "nan?")
    with zipfile.ZipFile(tmp_path / "ETHUSDT-1m-2024-01.zip", "w") as zf:
        zf.writestr("ETHUSDT-1m-2024-01.csv", "\n".join(",".join(r) for r in rows))
    with pytest.raises(DataValidationError) as exc:
        load(tmp_path)
    assert (
        "ETHUSDT-1m-2024-01.zip:ETHUSDT-1m-2024-01.csv, line 4, column 'close'"
        in str(exc.value)
    )


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(DataValidationError, match="does not exist"):
        load(tmp_path / "nope")
    with pytest.raises(DataValidationError, match="holds no kline files"):
        load(tmp_path)


def test_gzip_file_loads(tmp_path):
    text = "\n".join(",".join(r) for r in kline_rows(10))
    (tmp_path / "k.csv.gz").write_bytes(gzip.compress(text.encode()))
    assert len(load(tmp_path).bars) == 10
