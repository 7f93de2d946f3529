"""Generic OHLCV files: formats, timestamps and their time zone rule, column
maps, the kline validation, funding rates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ethpredict.errors import DataValidationError
from ethpredict.io.bars import assemble_bars
from ethpredict.io.funding import funding_per_bar, read_funding
from ethpredict.io.ohlcv import read_ohlcv_files
from ethpredict.params import OHLCVParams
from ethpredict.testing.builders import dated_candles
from ethpredict.testing.ingest import ingest


def load(path, **kw) -> pd.DataFrame:
    sources = read_ohlcv_files(path, OHLCVParams(**kw))
    return assemble_bars(sources, on_gap="fail").bars


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet", "feather", "json"])
def test_every_format_gives_the_same_bars(tmp_path, fmt):
    df = dated_candles()
    path = tmp_path / f"c.{fmt}"
    if fmt.startswith("csv"):
        df.to_csv(path, index=False)
    elif fmt == "parquet":
        df.set_index("date").to_parquet(path)  # a datetime index, not a column
    elif fmt == "feather":
        df.to_feather(path)
    else:  # freqtrade: [ms, o, h, l, c, v]
        ms = df["date"].dt.as_unit("ms").astype("int64")
        rows = df.assign(date=ms).to_numpy().tolist()
        path.write_text(json.dumps(rows))
    bars = load(path)
    assert bars.index.equals(pd.DatetimeIndex(df["date"], name="time"))
    np.testing.assert_allclose(bars["close"], df["close"], rtol=1e-12)
    assert bars.index.tz is not None and str(bars.index.tz) == "UTC"


@pytest.mark.parametrize(
    ("unit", "mult"), [("s", 1), ("ms", 10**3), ("us", 10**6), ("ns", 10**9)]
)
def test_epoch_units_are_detected(tmp_path, unit, mult):
    df = dated_candles()
    df["date"] = df["date"].dt.as_unit("s").astype("int64") * mult
    df.to_csv(tmp_path / "c.csv", index=False)
    bars = load(tmp_path / "c.csv")
    assert bars.index[0] == pd.Timestamp("2024-03-01", tz="UTC")
    assert load(tmp_path / "c.csv", time_unit=unit).index.equals(bars.index)


def test_time_zone_rule(tmp_path):
    df = dated_candles()
    text = df.assign(date=df["date"].dt.strftime("%Y-%m-%d %H:%M:%S"))
    text.to_csv(tmp_path / "naive.csv", index=False)
    # without an offset: data.ohlcv.timezone (UTC unless set)
    assert load(tmp_path / "naive.csv").index[0] == pd.Timestamp("2024-03-01", tz="UTC")
    berlin = load(tmp_path / "naive.csv", timezone="Europe/Berlin")
    assert berlin.index[0] == pd.Timestamp("2024-02-29 23:00", tz="UTC")
    # with an offset: converted, whatever the timezone parameter says
    off = df.assign(
        date=df["date"].dt.tz_convert("Asia/Tokyo").dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    )
    off.to_csv(tmp_path / "offset.csv", index=False)
    for zone in ("UTC", "America/New_York"):
        assert load(tmp_path / "offset.csv", timezone=zone).index[0] == pd.Timestamp(
            "2024-03-01", tz="UTC"
        )


def test_mixed_offsets_are_refused(tmp_path):
    df = dated_candles().astype({"date": str})
    df.loc[5, "date"] = "2024-03-01 00:05:00"  # the others end in +00:00
    df.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(DataValidationError) as exc:
        load(tmp_path / "c.csv")
    msg = str(exc.value)
    assert "c.csv" in msg and "line 7" in msg and "date" in msg and "offset" in msg


def test_column_map(tmp_path):
    df = dated_candles().rename(
        columns={"date": "Time", "close": "Last", "volume": "Vol"}
    )
    df.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(
        DataValidationError, match="missing column 'close'.*columns.close"
    ):
        load(tmp_path / "c.csv", columns={"time": "Time"})
    bars = load(
        tmp_path / "c.csv", columns={"time": "Time", "close": "Last", "volume": "Vol"}
    )
    np.testing.assert_allclose(bars["close"], df["Last"])
    with pytest.raises(
        DataValidationError, match="'Stamp'.*columns.time.*not in the file"
    ):
        load(tmp_path / "c.csv", columns={"time": "Stamp"})


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (
            lambda d: d.drop(index=10),
            ["gap of 1 missing bar", "line 12", "column 'date'"],
        ),
        (lambda d: pd.concat([d.iloc[:8], d.iloc[7:]]), ["duplicate bar", "line 9"]),
        (
            lambda d: d.assign(high=np.where(d.index == 4, d["low"] - 1, d["high"])),
            ["high must be ≥ open and close", "line 6", "column 'high'"],
        ),
        (
            lambda d: d.assign(
                volume=d["volume"].astype(object).where(d.index != 3, "x")
            ),
            ["'x' is not a number", "line 5", "column 'volume'"],
        ),
        (
            lambda d: d.assign(
                date=d["date"].astype(str).where(d.index != 2, "yesterday")
            ),
            ["'yesterday' is not an ISO date-time", "line 4", "column 'date'"],
        ),
    ],
    ids=["gap", "duplicate", "ohlc", "number", "time"],
)
def test_kline_validation_applies(tmp_path, edit, words):
    edit(dated_candles()).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(DataValidationError) as exc:
        load(tmp_path / "c.csv")
    for w in words:
        assert w in str(exc.value)
    assert "c.csv" in str(exc.value)


def test_folder_of_files_and_interval_check(tmp_path):
    df = dated_candles(60)
    df.iloc[:30].to_csv(tmp_path / "a.csv", index=False)
    df.iloc[30:].to_parquet(tmp_path / "b.parquet")
    out = ingest({"source": "ohlcv", "path": str(tmp_path)})
    assert len(out[0]) == 60 and out[2]["interval"] == "1m"
    with pytest.raises(
        DataValidationError, match="bars are 1m but data.interval is '5m'"
    ):
        ingest({"source": "ohlcv", "path": str(tmp_path), "interval": "5m"})
    window = ingest(
        {
            "source": "ohlcv",
            "path": str(tmp_path),
            "start": "2024-03-01 00:10",
            "end": "2024-03-01 00:20",
        }
    )
    assert len(window[0]) == 10 and window[0].index[0].minute == 10


def test_funding_rates_fall_on_the_bar_that_holds_the_settlement(tmp_path):
    bars = dated_candles(60 * 24, freq="1min")
    bars.to_csv(tmp_path / "c.csv", index=False)
    fund = pd.DataFrame(
        {
            "date": [
                "2024-03-01 08:00:00.000+00:00",
                "2024-03-01 16:00:00.000+00:00",
                "2024-03-05 00:00:00.000+00:00",
            ],
            "open": [1e-4, -2e-4, 3e-4],
            "high": 0,
            "low": 0,
            "close": 0,
        }
    )
    fund.to_csv(tmp_path / "f.csv", index=False)  # freqtrade: the rate in open
    s = read_funding(tmp_path / "f.csv", OHLCVParams())
    assert s.index[0] == pd.Timestamp("2024-03-01 08:00", tz="UTC")
    t = pd.date_range("2024-03-01", periods=1440, freq="1min", tz="UTC").as_unit("ns")
    per_bar = funding_per_bar(s, t.asi8, 60 * 10**9)
    # settled at 08:00: the position after the bar 07:59–08:00 pays it
    assert per_bar[479] == 1e-4 and per_bar[959] == -2e-4
    assert np.count_nonzero(per_bar) == 2  # the third is after the bars
    b, *_ = ingest(
        {
            "source": "ohlcv",
            "path": str(tmp_path / "c.csv"),
            "market": "perpetual",
            "funding_path": str(tmp_path / "f.csv"),
        }
    )
    assert b.attrs["venue"] == "perpetual" and b["funding_rate"].iat[479] == 1e-4
    fund.assign(open=[1e-4, 5.0, 0]).to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(DataValidationError, match=r"f\.csv, line 3, column 'open'"):
        read_funding(tmp_path / "f.csv", OHLCVParams())


def test_perpetual_needs_funding():
    from ethpredict.errors import ParameterError
    from ethpredict.params import validate_parameters

    with pytest.raises(ParameterError, match="data.funding_path is required"):
        validate_parameters(
            {"data": {"source": "ohlcv", "path": "x", "market": "perpetual"}}
        )


def test_real_one_minute_files(real_data):
    for f in sorted((real_data / "ohlcv-1m").glob("*.csv.gz"))[:2]:
        bars = load(f)
        assert bars.index.is_monotonic_increasing and len(bars) >= 43_000
        assert not bars["is_filled"].any()
    perp = sorted((real_data / "perp-1m").glob("ETHUSDT-PERP_1m_*.csv.gz"))[0]
    fund = sorted((real_data / "perp-1m").glob("*funding*"))[0]
    b, _, m, _ = ingest(
        {
            "source": "ohlcv",
            "path": str(perp),
            "market": "perpetual",
            "funding_path": str(fund),
        }
    )
    assert m["funding_settlements"] >= 80  # 8-hourly over a month
    assert (b["volume"] == 0).sum() == 3  # the file's zero-volume bars are kept


@pytest.mark.parametrize(
    ("write", "words"),
    [
        (
            lambda p: (
                dated_candles()
                .assign(
                    date=lambda d: np.where(
                        d.index == 3,
                        d["date"].dt.as_unit("s").astype("int64") * 1000,
                        d["date"].dt.as_unit("s").astype("int64"),
                    )
                )
                .to_csv(p / "c.csv", index=False)
            ),
            ["is in ms but the file's first row is in s", "line 5"],
        ),
        (lambda p: (p / "c.txt").write_text("x"), ["holds no OHLCV files"]),
        (
            lambda p: (p / "c.json").write_text("[[1, 2, 3]]"),
            ["3 values; a freqtrade candle has 6", "line 1"],
        ),
        (lambda p: (p / "c.json").write_text('{"a": 1}'), ["freqtrade's JSON candles"]),
        (
            lambda p: (
                dated_candles()
                .rename(columns={"date": "when"})
                .to_csv(p / "c.csv", index=False)
            ),
            ["no timestamp column", "data.ohlcv.columns.time"],
        ),
    ],
    ids=["mixed-units", "unknown-type", "json-width", "json-shape", "no-time"],
)
def test_documented_ohlcv_errors(tmp_path, write, words):
    write(tmp_path)
    with pytest.raises(DataValidationError) as exc:
        read_ohlcv_files(tmp_path, OHLCVParams())
    for w in words:
        assert w in str(exc.value)


def test_window_and_funding_outside_the_bars(tmp_path):
    dated_candles(60).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(DataValidationError, match="no bars between data.start"):
        ingest(
            {"source": "ohlcv", "path": str(tmp_path / "c.csv"), "start": "2025-01-01"}
        )
    pd.DataFrame({"date": ["2023-01-01 00:00:00"], "funding_rate": [1e-4]}).to_csv(
        tmp_path / "f.csv", index=False
    )
    with pytest.raises(DataValidationError, match="no funding settlement"):
        ingest(
            {
                "source": "ohlcv",
                "path": str(tmp_path / "c.csv"),
                "market": "perpetual",
                "funding_path": str(tmp_path / "f.csv"),
            }
        )
    pd.DataFrame({"date": ["2023-01-01"], "x": [1]}).to_csv(
        tmp_path / "f.csv", index=False
    )
    with pytest.raises(DataValidationError, match="a rate column"):
        read_funding(tmp_path / "f.csv", OHLCVParams())


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"start": "2024-02-01", "end": "2024-01-01"}, "data.end"),
        ({"ohlcv": {"timezone": "Mars/Olympus"}}, "not an IANA time zone"),
        ({"ohlcv": {"columns": {"stamp": "x"}}}, "unknown standard column(s) stamp"),
        (
            {
                "source": "uniswap_v3",
                "path": "x",
                "market": "perpetual",
                "funding_path": "f",
            },
            "does not apply to a Uniswap pool",
        ),
    ],
)
def test_bad_data_parameters_are_named(data, words):
    from ethpredict.errors import ParameterError
    from ethpredict.params import validate_parameters

    with pytest.raises(ParameterError) as exc:
        validate_parameters({"data": data})
    assert words in str(exc.value)


def test_perpetual_klines_take_funding_too(tmp_path):
    from ethpredict.testing.builders import kline_rows, write_csv

    write_csv(tmp_path / "k.csv", kline_rows(120))  # 2024-01-01 00:00 … 01:59
    # Binance's archive layout: calc_time (ms), funding_interval_hours, last_funding_rate
    (tmp_path / "f.csv").write_text(
        "calc_time,funding_interval_hours,last_funding_rate\n1704070800000,8,0.0001\n"
    )
    data = {
        "source": "binance_klines",
        "path": str(tmp_path / "k.csv"),
        "market": "perpetual",
        "funding_path": str(tmp_path / "f.csv"),
    }
    bars, *_ = ingest(data)
    assert bars["funding_rate"].iat[59] == 1e-4 and bars["funding_rate"].sum() == 1e-4
