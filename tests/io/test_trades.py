"""Binance @trade capture: trades table and bars built from it."""

from __future__ import annotations

import pandas as pd
import pytest

from ethpredict.errors import DataValidationError
from ethpredict.io.bars import assemble_bars
from ethpredict.io.trades import bars_from_trades, read_trade_stream
from ethpredict.testing.builders import T0_MS, capture, trade_line

T0 = T0_MS


def test_trades_table_and_aggressor_side(tmp_path):
    lines = [
        trade_line(1, T0 + 100, 1, 3000.0, 0.5, False),  # buyer aggressor
        trade_line(2, T0 + 200, 2, 2999.0, 0.25, True),  # seller aggressor
    ]
    tr = read_trade_stream(capture(tmp_path, lines))
    assert list(tr["side"]) == [1, -1]
    assert tr["time"].iloc[0] == pd.Timestamp(T0 + 100, unit="ms", tz="UTC")
    assert list(tr["price"]) == [3000.0, 2999.0]
    assert set(tr["venue"]) == {"spot"}


def test_bars_from_trades_drop_partial_edges_and_sum_volumes(tmp_path):
    lines = []
    tid = 0
    for minute in range(5):
        for k, (p, q, m) in enumerate(
            [(100.0, 1.0, False), (102.0, 2.0, True), (99.0, 3.0, False)]
        ):
            tid += 1
            lines.append(
                trade_line(
                    tid, T0 + minute * 60_000 + 1000 * (k + 1), tid, p + minute, q, m
                )
            )
    tr = read_trade_stream(capture(tmp_path, lines))
    a = assemble_bars([bars_from_trades(tr, 60)], on_gap="fail")
    b = a.bars
    assert len(b) == 3  # minutes 1, 2, 3; 0 and 4 are the partial edges
    first = b.iloc[0]
    assert (first["open"], first["high"], first["low"], first["close"]) == (
        101,
        103,
        100,
        100,
    )
    assert first["volume"] == 6.0 and first["trades"] == 3
    assert first["taker_buy_volume"] == 4.0  # qty 1 and 3 were buyer-initiated
    assert first["quote_volume"] == pytest.approx(101 * 1 + 103 * 2 + 100 * 3)


def test_overlapping_captures_keep_each_trade_once(tmp_path):
    a = [trade_line(i, T0 + i, i, 100, 1, False) for i in range(1, 4)]
    capture(tmp_path, a, "a.jsonl")
    capture(tmp_path, a[1:] + [trade_line(9, T0 + 9, 9, 100, 1, False)], "b.jsonl")
    assert list(read_trade_stream(tmp_path)["trade_id"]) == [1, 2, 3, 9]


def test_futures_non_market_trades_are_left_out(tmp_path):
    lines = [
        trade_line(1, T0 + 1, 1, 100, 1, False, X="MARKET"),
        trade_line(2, T0 + 2, 2, 100, 1, False, X="INSURANCE_FUND"),
    ]
    tr = read_trade_stream(capture(tmp_path, lines))
    assert list(tr["trade_id"]) == [1] and set(tr["venue"]) == {"futures"}


@pytest.mark.parametrize(
    ("line", "words", "column"),
    [
        ('5 {"stream":"x@trade","data":{"e":"trade",', "not valid JSON", None),
        (trade_line(1, T0, 1, 100, 1, False).replace('"p"', '"px"'), "lacks", "p"),
        (trade_line(1, T0, 1, -100, 1, False), "not > 0", "price"),
    ],
    ids=["bad-json", "missing-field", "negative-price"],
)
def test_malformed_capture_lines(tmp_path, line, words, column):
    path = capture(tmp_path, [trade_line(0, T0, 0, 100, 1, False), line])
    with pytest.raises(DataValidationError, match=words) as exc:
        read_trade_stream(path)
    assert exc.value.row == 3 and exc.value.column == column
    assert str(path) in str(exc.value)


def test_spot_and_futures_captures_are_not_mixed(tmp_path):
    capture(tmp_path, [trade_line(1, T0, 1, 100, 1, False)], "spot.jsonl")
    capture(tmp_path, [trade_line(2, T0, 2, 100, 1, False, X="MARKET")], "perp.jsonl")
    with pytest.raises(DataValidationError, match="several venues"):
        read_trade_stream(tmp_path)


@pytest.mark.real_data
def test_real_spot_capture(real_data, tmp_path):
    for name in (
        "binance_stream_spot_ethusdt_20240808.jsonl.gz",
        "binance_stream_spot_ethusdt_20240809.jsonl.gz",
    ):
        (tmp_path / name).symlink_to(real_data / name)
    tr = read_trade_stream(tmp_path)
    assert len(tr) > 14_000 and tr["time"].is_monotonic_increasing
    assert tr["trade_id"].is_unique and set(tr["side"]) == {-1, 1}
    a = assemble_bars([bars_from_trades(tr, 60)], on_gap="fail")
    assert a.interval_s == 60 and 8 <= len(a.bars) <= 12
    assert (a.bars["taker_buy_volume"] <= a.bars["volume"]).all()
