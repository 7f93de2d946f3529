"""Plausibility rules of market data (docs/data.md, "Plausibility"): each bad
input is refused with one line naming the file, the line and the column and
the option that lets it through; each override lets it through."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from ethpredict.testing.builders import (
    T0_MS,
    epoch_candles,
    kline_rows,
    rpc_logs,
    synthetic_pool,
    write_csv,
)
from ethpredict.testing.ingest import ingest, klines, ohlcv, refused

DAY_MS = 86_400_000


def moved(rows, i, ms):
    """``rows`` with row ``i`` (and its close_time) at ``ms``."""
    rows = [list(r) for r in rows]
    rows[i][0], rows[i][6] = str(ms), str(ms + 59_999)
    return rows


# 1. dates in ETH's era -------------------------------------------------------


@pytest.mark.parametrize("year", [2099, 2100])
def test_a_bar_dated_after_tomorrow_is_refused(tmp_path, year):
    ms = int(pd.Timestamp(f"{year}-01-01", tz="UTC").value // 10**6)
    e = refused(
        lambda: klines(tmp_path, moved(kline_rows(40), 39, ms)),
        "k.csv, line 40, column 'open_time'",
        f"{year}-01-01",
        "data.allow_any_dates",
    )
    assert e.row == 40 and e.column == "open_time"


def test_a_bar_dated_1970_is_refused_and_the_override_lets_it_through(tmp_path):
    df = epoch_candles()
    text = pd.to_datetime(df["time"], unit="ms").dt.strftime("%Y-%m-%d %H:%M:%S")
    df["time"] = text.where(df.index > 0, "1970-01-01 00:00:00")
    df.to_csv(tmp_path / "c.csv", index=False)
    refused(
        lambda: ohlcv(tmp_path / "c.csv"),
        "c.csv, line 2, column 'time'",
        "1970-01-01",
        "data.allow_any_dates",
    )
    # allowed, the 54-year step is a gap: refused as such, never filled
    refused(
        lambda: ohlcv(tmp_path / "c.csv", allow_any_dates=True),
        "data.max_gap_fill",
        "1970-01-01 00:00:00",
        "2024-01-01 00:01:00",
    )


def test_a_whole_file_before_eth_loads_with_allow_any_dates(tmp_path):
    epoch_candles(t0_ms=0).to_csv(tmp_path / "c.csv", index=False)
    refused(lambda: ohlcv(tmp_path / "c.csv"), "line 2", "data.allow_any_dates")
    bars = ohlcv(tmp_path / "c.csv", allow_any_dates=True)[0]
    assert bars.index[0] == pd.Timestamp("1970-01-01", tz="UTC")


def test_2099_row_is_refused_as_a_gap_not_filled_with_millions_of_bars(tmp_path):
    ms = int(pd.Timestamp("2099-01-01", tz="UTC").value // 10**6)
    rows = moved(kline_rows(40), 39, ms)
    refused(
        lambda: klines(tmp_path, rows, allow_any_dates=True),
        "k.csv, line 40",
        "data.max_gap_fill",
        "2099-01-01 00:00:00",
    )


# 2. epoch units --------------------------------------------------------------


def test_milliseconds_from_zero_are_not_read_as_seconds(tmp_path):
    epoch_candles(t0_ms=0).to_csv(tmp_path / "c.csv", index=False)
    bars, _, m, _ = ohlcv(tmp_path / "c.csv", allow_any_dates=True)
    assert m["interval"] == "1m" and len(bars) == 40
    assert bars.index[-1] == pd.Timestamp("1970-01-01 00:39", tz="UTC")
    rows = [
        [str(int(r[0]) - T0_MS), *r[1:6], str(int(r[6]) - T0_MS), *r[7:]]
        for r in kline_rows(40)
    ]
    bars = klines(tmp_path, rows, allow_any_dates=True)[0]
    assert bars.index[1] - bars.index[0] == pd.Timedelta("1min")


def test_an_ambiguous_epoch_unit_is_refused_and_time_unit_settles_it(tmp_path):
    epoch_candles(t0_ms=0, step_ms=7_000).to_csv(tmp_path / "c.csv", index=False)
    refused(
        lambda: ohlcv(tmp_path / "c.csv", allow_any_dates=True),
        "c.csv, line 2, column 'time'",
        "ambiguous",
        "data.ohlcv.time_unit",
    )
    m = ohlcv(tmp_path / "c.csv", allow_any_dates=True, ohlcv={"time_unit": "ms"})[2]
    assert m["interval_s"] == 7


def test_units_of_real_eras_are_still_found_by_magnitude(tmp_path):
    df = epoch_candles(step_ms=7_000)  # 2024: no interval needed to tell the unit
    for unit, div in (("s", 1000), ("ms", 1), ("us", 1e-3)):
        df.assign(time=(df["time"] / div).astype("int64")).to_csv(
            tmp_path / "c.csv", index=False
        )
        assert ohlcv(tmp_path / "c.csv")[2]["interval_s"] == 7, unit


# 3. gap fill limit -----------------------------------------------------------


def test_a_gap_longer_than_max_gap_fill_is_refused_not_filled(tmp_path):
    rows = kline_rows(40)
    rows = rows[:20] + [
        moved(rows, i, int(rows[i][0]) + 2 * DAY_MS)[i] for i in range(20, 40)
    ]
    e = refused(
        lambda: klines(tmp_path, rows),
        "k.csv, line 21, column 'open_time'",
        "2,880 missing bar(s)",
        "2024-01-01 00:19:00+00:00",
        "2024-01-03 00:20:00+00:00",
        "data.max_gap_fill (1 days",
    )
    assert e.row == 21
    refused(lambda: klines(tmp_path, rows, max_gap_fill="1 day"), "data.max_gap_fill")
    for limit in ("3 days", None):
        bars = klines(tmp_path, rows, max_gap_fill=limit)[0]
        assert bars["is_filled"].sum() == 2 * 1440


# 4. prices ---------------------------------------------------------------------


def edit(rows, i, j, value):
    rows = [list(r) for r in rows]
    rows[i][j] = value
    return rows


def test_an_absurd_price_is_refused(tmp_path):
    rows = edit(edit(kline_rows(40), 9, 2, "1e300"), 9, 4, "1e300")
    refused(
        lambda: klines(tmp_path, rows),
        "k.csv, line 10, column 'high'",
        "absurd",
        "data.max_price",
    )
    # allowed, it is still a one-bar jump
    refused(
        lambda: klines(tmp_path, rows, max_price=None),
        "line 10, column 'high'",
        "data.max_bar_jump",
    )
    assert (
        klines(tmp_path, rows, max_price=None, max_bar_jump=None)[0]["close"].max()
        == 1e300
    )


@pytest.mark.parametrize(
    ("value", "words"),
    [("inf", "finite"), ("nan", "empty"), ("0", "not > 0"), ("-5", "not > 0")],
)
def test_non_finite_and_non_positive_prices_are_refused(tmp_path, value, words):
    rows = edit(kline_rows(40), 4, 1, value)
    refused(lambda: klines(tmp_path, rows), "k.csv, line 5, column 'open'", words)


def test_a_one_bar_jump_is_refused_and_max_bar_jump_lets_it_through(tmp_path):
    rows = kline_rows(40)
    c = float(rows[19][4])
    rows = edit(edit(rows, 20, 2, str(round(2 * c, 2))), 20, 4, str(round(2 * c, 2)))
    e = refused(
        lambda: klines(tmp_path, rows),
        "k.csv, line 21, column 'high'",
        "log return +0.69",
        "line 20",
        "data.max_bar_jump (0.5)",
    )
    assert e.row == 21
    assert len(klines(tmp_path, rows, max_bar_jump=1.0)[0]) == 40


# 5. numeric volume ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_boolean_volume_is_refused(tmp_path, fmt):
    df = epoch_candles().assign(vol_eth=lambda d: d["volume"], volume=True)
    path = tmp_path / f"c.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path)
    line = "line 2" if fmt == "csv" else "line 1"
    refused(
        lambda: ohlcv(path),
        f"c.{fmt}, {line}, column 'volume'",
        "boolean",
        "data.ohlcv.columns.volume",
    )
    bars = ohlcv(path, ohlcv={"columns": {"volume": "vol_eth"}})[0]
    np.testing.assert_allclose(bars["volume"], df["vol_eth"])


# 6. duplicate columns ---------------------------------------------------------


def test_duplicate_column_names_are_refused(tmp_path):
    df = epoch_candles()
    text = df.to_csv(index=False).replace("volume", "close", 1)
    (tmp_path / "c.csv").write_text(text)
    refused(
        lambda: ohlcv(tmp_path / "c.csv"),
        "c.csv, line 1, column 'close'",
        "twice",
        "columns 5 and 6",
    )
    (tmp_path / "c.csv").unlink()
    from ethpredict.io.binance import KLINE_COLUMNS

    header = ",".join(KLINE_COLUMNS).replace("ignore", "Close")
    path = tmp_path / "k.csv"
    path.write_text(header + "\n" + "\n".join(",".join(r) for r in kline_rows(5)))
    refused(
        lambda: ingest({"source": "binance_klines", "path": str(path)}),
        "k.csv, line 1, column 'close'",
        "twice",
    )


# 7. funding rates -------------------------------------------------------------


def perp(tmp_path, rate, **data):
    k = write_csv(tmp_path / "k.csv", kline_rows(600))
    f = tmp_path / "funding.csv"
    f.write_text(
        f"time,funding_rate\n{T0_MS + 60 * 60_000},0.0001\n"
        f"{T0_MS + 480 * 60_000},{rate}\n"
    )
    return ingest(
        {
            "source": "binance_klines",
            "path": str(k),
            "market": "perpetual",
            "funding_path": str(f),
            **data,
        }
    )


def test_a_funding_rate_in_percent_is_refused(tmp_path):
    refused(
        lambda: perp(tmp_path, 0.05),
        "funding.csv, line 3, column 'funding_rate'",
        "data.max_funding_rate",
        "percent",
    )
    bars = perp(tmp_path, 0.05, max_funding_rate=0.1)[0]
    assert bars["funding_rate"].max() == 0.05
    assert perp(tmp_path, -0.01)[0]["funding_rate"].min() == -0.01  # the bound holds


# 8. re-orged logs -------------------------------------------------------------


def test_removed_logs_are_dropped_and_counted(tmp_path, caplog):
    path, frame = synthetic_pool(tmp_path)
    logs = rpc_logs(frame, removed=False)
    # a re-org: three logs first seen with other contents, then withdrawn
    gone = [
        {**logs[i], "data": logs[i + 1]["data"], "removed": True} for i in (5, 6, 7)
    ]
    (tmp_path / "json").mkdir()
    (tmp_path / "json" / "logs.json").write_text(json.dumps(gone + logs))
    want = ingest({"source": "uniswap_v3", "path": str(path)})
    with caplog.at_level(logging.WARNING):
        got = ingest({"source": "uniswap_v3", "path": str(tmp_path / "json")})
    pd.testing.assert_frame_equal(want[0], got[0])
    assert got[2]["removed_logs"] == 3 and want[2]["removed_logs"] == 0
    assert any(
        "Dropped 3 log(s)" in r.getMessage() and "re-orged" in r.getMessage()
        for r in caplog.records
    )
    # the CSV layout, with a removed column
    csv = frame.assign(removed="false")
    csv = pd.concat(
        [csv.iloc[[5]].assign(removed="true", data=csv["data"].iat[6]), csv]
    )
    csv.to_csv(path, index=False)
    got = ingest({"source": "uniswap_v3", "path": str(path)})
    pd.testing.assert_frame_equal(want[0], got[0])
    assert got[2]["removed_logs"] == 1


# 9. a market without trading ---------------------------------------------------


def test_a_market_without_volume_is_refused(tmp_path):
    rows = kline_rows(40)
    for j in (5, 7, 9, 10):  # volume, quote volume, taker volumes
        rows = [edit([r], 0, j, "0")[0] if i >= 2 else r for i, r in enumerate(rows)]
    refused(
        lambda: klines(tmp_path, rows),
        "k.csv, line 3, column 'volume'",
        "38 of 40 bars (95%) have zero volume",
        "data.max_zero_volume_share",
    )
    for share in (0.96, None):
        bars = klines(tmp_path, rows, max_zero_volume_share=share)[0]
        assert (bars["volume"] == 0).sum() == 38


def test_a_frozen_market_without_volume_is_a_halt(tmp_path):
    rows = kline_rows(40)
    c = rows[9][4]
    for i in range(10, 40):
        rows[i] = (
            rows[i][:1] + [c] * 4 + ["0"] + rows[i][6:7] + ["0", "0", "0", "0", "0"]
        )
    refused(lambda: klines(tmp_path, rows), "data.max_zero_volume_share")
    bars = klines(tmp_path, rows, max_zero_volume_share=None)[0]
    assert bars["is_stale"].sum() == 30
    refused(
        lambda: klines(tmp_path, rows, max_zero_volume_share=None, on_stale="fail"),
        "30 stale bar(s)",
        "data.on_stale",
    )
