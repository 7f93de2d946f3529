"""Formats recognised (docs/data.md, "Formats recognised"): each variant of a
real export is read, or refused with one line naming the file and the line."""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import zipfile

import numpy as np
import pandas as pd
import pytest

from ethpredict.io.trades import read_trade_stream
from ethpredict.testing.builders import (
    T0_MS,
    capture,
    epoch_candles,
    kline_rows,
    rpc_logs,
    synthetic_pool,
    trade_line,
    write_csv,
)
from ethpredict.testing.ingest import klines, ohlcv, refused

T0 = 1_704_067_200_000


def csv_text(frame: pd.DataFrame, **kw) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, **kw)
    return buf.getvalue()


def same_bars(a, b):
    pd.testing.assert_frame_equal(a[0], b[0], check_exact=False, rtol=1e-12)


@pytest.fixture
def reference(tmp_path):
    """The candles as a plain CSV, and what they read as."""
    (tmp_path / "ref").mkdir()
    path = tmp_path / "ref" / "c.csv"
    path.write_text(csv_text(epoch_candles()))
    return ohlcv(path)


# 1. a zip member with a corrupt deflate stream ---------------------------------


def test_corrupt_zip_member_names_the_member(tmp_path):
    rows = kline_rows(200)
    body = "\n".join(",".join(r) for r in rows).encode()
    path = tmp_path / "ETHUSDT-1m-2024-01.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ETHUSDT-1m-2024-01.csv", body)
    raw = bytearray(path.read_bytes())
    start = 30 + len("ETHUSDT-1m-2024-01.csv")  # the local header, then the data
    raw[start + 20 : start + 60] = b"\xff" * 40
    path.write_bytes(bytes(raw))
    refused(
        lambda: klines(tmp_path, [], path=str(path)),
        "ETHUSDT-1m-2024-01.zip:ETHUSDT-1m-2024-01.csv",
        "download the archive again",
    )


# 2. a truncated gzip ---------------------------------------------------------------


def test_truncated_gzip_capture_and_kline(tmp_path):
    lines = [trade_line(i, T0 + 1000 * i, i, 3000.0, 0.1, False) for i in range(500)]
    raw = gzip.compress(("\n".join(lines) + "\n").encode())
    (tmp_path / "cap.jsonl.gz").write_bytes(raw[: len(raw) // 2])
    refused(
        lambda: read_trade_stream(tmp_path / "cap.jsonl.gz"),
        "cap.jsonl.gz",
        "truncated (the download or copy did not finish)",
    )
    body = gzip.compress("\n".join(",".join(r) for r in kline_rows(200)).encode())
    (tmp_path / "k.csv.gz").write_bytes(body[:-10])
    refused(
        lambda: klines(tmp_path, [], path=str(tmp_path / "k.csv.gz")),
        "k.csv.gz",
        "truncated",
    )


# 3. a UTF-8 BOM ------------------------------------------------------------------


def test_bom_is_stripped(tmp_path, reference):
    rows = kline_rows()
    plain = klines(tmp_path, rows, name="plain.csv")
    path = write_csv(tmp_path / "bom.csv", rows, header=True)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    same_bars(klines(tmp_path, [], path=str(path)), plain)
    (tmp_path / "o.csv").write_text(csv_text(epoch_candles()), encoding="utf-8-sig")
    same_bars(ohlcv(tmp_path / "o.csv"), reference)


# 4. semicolons and decimal commas --------------------------------------------------


def test_semicolon_and_decimal_comma(tmp_path, reference):
    (tmp_path / "eu.csv").write_text(csv_text(epoch_candles(), sep=";", decimal=","))
    assert "3000,0;" in (tmp_path / "eu.csv").read_text()
    same_bars(ohlcv(tmp_path / "eu.csv"), reference)
    (tmp_path / "semi.csv").write_text(csv_text(epoch_candles(), sep=";"))
    same_bars(ohlcv(tmp_path / "semi.csv"), reference)
    (tmp_path / "tab.csv").write_text(csv_text(epoch_candles(), sep="\t"))
    same_bars(ohlcv(tmp_path / "tab.csv"), reference)


def test_ambiguous_delimiter_names_the_option(tmp_path, reference):
    text = csv_text(epoch_candles(), sep=";").replace("time;", "time,utc;", 1)
    (tmp_path / "amb.csv").write_text(text)
    refused(
        lambda: ohlcv(tmp_path / "amb.csv"), "amb.csv", "line 1", "data.ohlcv.delimiter"
    )
    got = ohlcv(
        tmp_path / "amb.csv", ohlcv={"delimiter": ";", "columns": {"time": "time,utc"}}
    )
    same_bars(got, reference)


# 5. gzip told by content -----------------------------------------------------------


def test_gzip_named_csv_is_read(tmp_path, reference):
    (tmp_path / "g.csv").write_bytes(gzip.compress(csv_text(epoch_candles()).encode()))
    same_bars(ohlcv(tmp_path / "g.csv"), reference)
    rows = kline_rows()
    plain = klines(tmp_path, rows, name="plain.csv")
    gz = tmp_path / "k" / "k.csv"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress((tmp_path / "plain.csv").read_bytes()))
    same_bars(klines(tmp_path, [], path=str(gz)), plain)


# 6. float32 Parquet ----------------------------------------------------------------


def test_float32_parquet_within_tolerance(tmp_path):
    c = epoch_candles()
    # high computed in float64 then stored as float32: it may round below close
    c.loc[3, "close"] = 3000.0001
    c.loc[3, "high"] = 3000.0001
    c.loc[3, "open"], c.loc[3, "low"] = 2999.0, 2998.5
    f = c.astype({"high": "float32", "low": "float32"})
    assert f["high"].iat[3] < c["close"].iat[3]
    f.to_parquet(tmp_path / "f.parquet")
    bars = ohlcv(tmp_path / "f.parquet")[0]
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    c.loc[3, "high"] = 2999.5  # a real inconsistency is still refused
    c.astype({"high": "float32"}).to_parquet(tmp_path / "f.parquet")
    refused(
        lambda: ohlcv(tmp_path / "f.parquet"),
        "f.parquet",
        "line 4",
        "high must be ≥ open and close",
    )


# 7. a JSON log missing a field -----------------------------------------------------


def test_json_log_missing_data_names_field_and_line(tmp_path):
    _, frame = synthetic_pool(tmp_path)
    logs = rpc_logs(frame)
    del logs[2]["data"]
    (tmp_path / "j").mkdir()
    (tmp_path / "j" / "logs.jsonl").write_text("\n".join(map(json.dumps, logs)))
    err = refused(
        lambda: ohlcv_pool(tmp_path / "j"), "logs.jsonl", "line 3", "lacks data"
    )
    assert "words" not in str(err)


def test_csv_log_with_empty_data_names_the_field(tmp_path):
    path, frame = synthetic_pool(tmp_path)
    frame.loc[4, "data"] = ""
    frame.to_csv(path, index=False)
    err = refused(lambda: ohlcv_pool(path), "line 6", "column 'data'", "found nothing")
    assert "-0.03125" not in str(err)


def test_trade_message_missing_field(tmp_path):
    line = trade_line(1, T0, 1, 3000.0, 0.1, False).replace('"q": "0.1", ', "")
    refused(
        lambda: read_trade_stream(capture(tmp_path, [line])),
        "cap.jsonl",
        "line 2",
        "column 'q'",
    )


def ohlcv_pool(path):
    from ethpredict.params import DataParams
    from ethpredict.pipelines.data_engineering.nodes import ingest_market_data

    return ingest_market_data(DataParams(source="uniswap_v3", path=str(path)))


# 8. a symlink loop -----------------------------------------------------------------


def test_symlink_loop(tmp_path):
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    err = refused(lambda: ohlcv(tmp_path / "loop"), "symlink loop")
    assert "does not exist" not in str(err)
    refused(lambda: ohlcv(tmp_path / "nothing"), "does not exist")


# 9. header-less OHLCV (Kraken) -----------------------------------------------------


@pytest.mark.parametrize("layout", ["ohlcvt", "rest", "six"])
def test_headerless_kraken_layouts(tmp_path, reference, layout):
    c = epoch_candles()
    c["time"] //= 1000  # Kraken: epoch seconds
    c["trades"] = 10
    cols = {
        "ohlcvt": ["time", "open", "high", "low", "close", "volume", "trades"],
        "rest": ["time", "open", "high", "low", "close", "vwap", "volume", "trades"],
        "six": ["time", "open", "high", "low", "close", "volume"],
    }[layout]
    c["vwap"] = c["close"]
    (tmp_path / "k.csv").write_text(csv_text(c[cols], header=False))
    bars = ohlcv(tmp_path / "k.csv")[0]
    pd.testing.assert_frame_equal(
        bars[["open", "high", "low", "close", "volume"]],
        reference[0][["open", "high", "low", "close", "volume"]],
    )
    if layout != "six":
        assert (bars["trades"] == 10).all()


def test_headerless_unknown_width(tmp_path):
    c = epoch_candles()
    c["x"], c["y"], c["z"] = 1, 2, 3
    (tmp_path / "k.csv").write_text(csv_text(c, header=False))
    refused(
        lambda: ohlcv(tmp_path / "k.csv"),
        "k.csv",
        "line 1",
        "9 columns",
        "add a header row",
    )


# 10. trade captures named *.gz -----------------------------------------------------


def test_capture_named_gz_is_found_by_content(tmp_path):
    lines = [trade_line(i, T0 + 1000 * i, i, 3000.0, 0.1, False) for i in range(5)]
    (tmp_path / "ethusdt_20240101.gz").write_bytes(
        gzip.compress(("\n".join(lines) + "\n").encode())
    )
    (tmp_path / "notes.txt").write_text("not a capture")
    trades = read_trade_stream(tmp_path)
    assert len(trades) == 5 and set(trades["file"]) == {
        str(tmp_path / "ethusdt_20240101.gz")
    }
    assert np.isclose(trades["price"], 3000.0).all() and T0_MS == T0


# 11. the symbol and quote currency from the data -----------------------------------


def test_symbol_and_quote_from_the_file_names(tmp_path, caplog):
    rows = kline_rows()
    path = write_csv(tmp_path / "ETHUSDC-1m-2024-01.csv", rows)
    with caplog.at_level(logging.WARNING):
        manifest = klines(tmp_path, [], path=str(path))[2]
    assert (manifest["symbol"], manifest["quote"]) == ("ETHUSDC", "USDC")
    warned = [r.getMessage() for r in caplog.records if "data.symbol" in r.getMessage()]
    assert len(warned) == 1 and "ETHUSDC" in warned[0] and "ETHUSDT" in warned[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        manifest = klines(tmp_path, [], path=str(path), symbol="ETHUSDC")[2]
    assert manifest["symbol"] == "ETHUSDC" and not caplog.records
    manifest = klines(tmp_path, rows, name="k.csv")[2]  # the name says nothing
    assert (manifest["symbol"], manifest["quote"]) == ("ETHUSDT", "USDT")
    (tmp_path / "ft").mkdir()
    (tmp_path / "ft" / "ETH_USD-1m.csv").write_text(csv_text(epoch_candles()))
    assert ohlcv(tmp_path / "ft")[2]["symbol"] == "ETHUSD"


def test_symbol_from_the_trade_messages(tmp_path):
    from ethpredict.params import DataParams
    from ethpredict.pipelines.data_engineering.nodes import ingest_market_data

    lines = [
        trade_line(i, T0 + 1000 * i, i, 3000.0 + i % 3, 0.1, False).replace(
            "ETHUSDT", "ETHUSDC"
        )
        for i in range(600)
    ]
    path = capture(tmp_path, lines)
    data = DataParams(source="binance_trades", path=str(path))
    manifest = ingest_market_data(data)[2]
    assert (manifest["symbol"], manifest["quote"]) == ("ETHUSDC", "USDC")


def test_reference_capture_named_gz_is_detected(tmp_path):
    from ethpredict.io.reference import detect_source

    lines = [trade_line(i, T0 + 1000 * i, i, 3000.0, 0.1, False) for i in range(5)]
    (tmp_path / "ethusdt_20240101.gz").write_bytes(
        gzip.compress(("\n".join(lines) + "\n").encode())
    )
    assert detect_source(tmp_path) == "binance_trades"


def test_truncated_gzip_pool_logs(tmp_path):
    path, _ = synthetic_pool(tmp_path)
    raw = gzip.compress(path.read_bytes())
    path.unlink()
    gz = path.with_name(path.name + ".gz")
    gz.write_bytes(raw[: len(raw) // 2])
    refused(lambda: ohlcv_pool(gz), gz.name, "truncated")
