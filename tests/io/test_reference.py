"""``data.reference``: an exchange reference joined causally to the bars —
the join against a slow loop, truncation, staleness, every source, the errors,
and the shared pool day against its exchange minutes."""

from __future__ import annotations

import gzip
import json
import logging

import numpy as np
import pandas as pd
import pytest

from ethpredict.errors import DataValidationError, ParameterError
from ethpredict.io.reference import Reference, detect_source, join_reference
from ethpredict.params import validate_parameters
from ethpredict.testing.builders import T0_MS, dated_candles, kline_rows, write_csv
from ethpredict.testing.ingest import ingest
from ethpredict.testing.project import project_root, real_data_dir
from ethpredict.timeaxis import epoch_ns

REAL = real_data_dir(project_root(__file__))
POOL_DAY = REAL / "uniswap-v3" / "ethereum-usdc-weth-005-2024-01-05"
CEX_DAY = REAL / "cex-reference" / "ETHUSDT-PERP_1m_2024-01-05.csv.gz"
S = 1_000_000_000


def slow_join(known, price, bars, max_age, candles):
    """A candle (known at its end) counts at a bar opening at its end; a
    trade at a bar's open does not."""
    out = np.full(bars.size, np.nan)
    for i, t in enumerate(bars):
        before = [
            k for k in range(known.size) if known[k] < t or (candles and known[k] == t)
        ]
        if before and t - known[before[-1]] <= max_age:
            out[i] = price[before[-1]]
    return out


@pytest.mark.parametrize("candles", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_join_equals_the_slow_loop(seed, candles):
    rng = np.random.default_rng(seed)
    known = np.cumsum(rng.integers(1, 90, 80)) * S
    price = rng.uniform(1, 2, 80)
    vol = rng.uniform(0, 3, 80)
    bars = np.sort(rng.choice(np.arange(-50, known[-1] // S + 400), 120, False)) * S
    bars[::7] = known[: bars[::7].size] + S * (seed % 2)  # bars on observation times
    bars = np.unique(bars)
    ref = Reference(
        "r",
        "binance_klines" if candles else "binance_trades",
        known,
        price,
        vol,
        vol / 2,
        60 if candles else None,
        ["r"],
    )
    j = join_reference(ref, bars, 120 * S)
    want_price = slow_join(known, price, bars, 120 * S, candles)
    np.testing.assert_array_equal(j.price, want_price)
    # volume learned in [previous bar open, this bar open) — for candles
    # (previous bar open, this bar open]
    for i in range(1, bars.size):
        lo, hi = bars[i - 1], bars[i]
        seen = (known > lo) & (known <= hi) if candles else (known >= lo) & (known < hi)
        want = vol[seen].sum()
        if np.isfinite(j.price[i]):
            assert j.volume[i] == pytest.approx(want, abs=1e-9)
            assert j.buy_volume[i] == pytest.approx(want / 2, abs=1e-9)
        else:
            assert np.isnan(j.volume[i])
    m = j.manifest
    assert m["bars_without_reference"] == int(np.isnan(j.price).sum())
    assert m["before_first"] + m["stale_bars"] == m["bars_without_reference"]
    # the age: bar open − when the price it got became known
    used = np.isfinite(want_price)
    age = (
        np.array(
            [t - known[known <= t if candles else known < t][-1] for t in bars[used]]
        )
        / S
    )
    assert m["age_s"] == {
        "median": pytest.approx(np.median(age), abs=1e-3),
        "p95": pytest.approx(np.quantile(age, 0.95), abs=1e-3),
        "max": pytest.approx(age.max(), abs=1e-3),
    }
    assert 0 <= m["age_s"]["median"] <= m["age_s"]["p95"] <= m["age_s"]["max"] <= 120


def test_a_trade_at_a_bar_open_is_not_used_by_it_a_candle_ending_there_is():
    known = np.array([60, 120]) * S
    bars = np.array([60, 61, 120, 121]) * S
    trades = Reference(
        "r",
        "binance_trades",
        known,
        np.array([1.0, 2.0]),
        np.ones(2),
        np.ones(2),
        None,
        ["r"],
    )
    j = join_reference(trades, bars, 300 * S)
    np.testing.assert_array_equal(j.price, [np.nan, 1.0, 1.0, 2.0])
    # candles ending at 60 s and 120 s: their closes are trades before then
    candles = Reference(
        "r",
        "binance_klines",
        known,
        np.array([1.0, 2.0]),
        np.ones(2),
        np.ones(2),
        60,
        ["r"],
    )
    j = join_reference(candles, bars, 300 * S)
    np.testing.assert_array_equal(j.price, [1.0, 1.0, 2.0, 2.0])
    assert j.manifest["age_s"] == {"median": 0.5, "p95": 1.0, "max": 1.0}


def bars_and_reference(tmp_path, n=120, ref_rows=None, **ref):
    write_csv(tmp_path / "bars" / "b.csv", kline_rows(n))
    rows = ref_rows if ref_rows is not None else kline_rows(n + 10, seed=3)
    write_csv(tmp_path / "ref" / "r.csv", rows)
    return ingest(
        {
            "source": "binance_klines",
            "path": str(tmp_path / "bars"),
            "reference": {"path": str(tmp_path / "ref"), **ref},
        }
    )


def test_klines_reference_on_kline_bars(tmp_path):
    bars, _, manifest, _ = bars_and_reference(tmp_path)
    ref_close = np.array([float(r[4]) for r in kline_rows(130, seed=3)])
    # kline i−1 ends at bar i's open, its close a trade before then: bar i
    # has the close of kline i−1, 0 s old at the bar's open
    np.testing.assert_array_equal(
        bars["reference_price"].to_numpy()[1:], ref_close[:119]
    )
    assert np.isnan(bars["reference_price"].iat[0])
    assert "reference_buy_volume" in bars and "reference_volume" in bars
    assert bars.attrs["reference"] == "r.csv"
    assert bars.attrs["reference_source"] == "binance_klines"
    m = manifest["reference"]
    assert m["before_first"] == m["bars_without_reference"] == 1 and not m["stale_bars"]
    assert m["coverage"] == pytest.approx(119 / 120) and m["interval"] == "1m"
    assert m["age_s"] == {"median": 0.0, "p95": 0.0, "max": 0.0}
    assert m["files"][0].endswith("r.csv") and m["max_age_s"] == 300.0


def test_gap_in_the_reference_is_stale_and_warned(tmp_path, caplog):
    rows = kline_rows(130, seed=3)
    rows = rows[:40] + rows[50:]  # 10 minutes without the exchange
    with caplog.at_level(logging.WARNING):
        bars, _, manifest, _ = bars_and_reference(tmp_path, ref_rows=rows)
    ref = bars["reference_price"]
    # kline 39 ends at minute 40, older than 5 minutes from bar 46 on;
    # kline 50 ends at minute 51 and is used from bar 51
    stale = ref.isna().to_numpy()
    assert stale[46:51].all() and not stale[41:46].any() and not stale[51:].any()
    m = manifest["reference"]
    assert m["stale_bars"] == 5 and m["stale_runs"] == 1
    first, last = bars.index[46].isoformat(), bars.index[50].isoformat()
    assert m["stale_ranges"] == [[first, last]]
    warned = [r.getMessage() for r in caplog.records if "reference" in r.getMessage()]
    assert len(warned) == 1 and "5 bar(s)" in warned[0] and "300 s" in warned[0]
    assert bars.index[46].isoformat() in warned[0]
    # a longer limit accepts them
    again = bars_and_reference(tmp_path, ref_rows=rows, max_age_bars=20)[0]
    assert again["reference_price"].iloc[2:].notna().all()


def test_reference_cut_after_t_leaves_earlier_bars_unchanged(tmp_path):
    rows = kline_rows(130, seed=3)
    full = bars_and_reference(tmp_path, ref_rows=rows)[0]
    cut_ms = T0_MS + 70 * 60_000
    kept = [r for r in rows if int(r[0]) + 60_000 <= cut_ms]
    cut = bars_and_reference(tmp_path, ref_rows=kept)[0]
    upto = full.index <= pd.Timestamp(cut_ms, unit="ms", tz="UTC")
    cols = ["reference_price", "reference_volume", "reference_buy_volume"]
    pd.testing.assert_frame_equal(full.loc[upto, cols], cut.loc[upto, cols])
    assert cut.loc[~upto, "reference_price"].iloc[-1:].isna().all()


def test_ohlcv_and_trade_references_and_auto_detection(tmp_path):
    c = dated_candles(200, t0="2024-01-01")
    c.to_parquet(tmp_path / "ref.parquet")
    assert detect_source(tmp_path / "ref.parquet") == "ohlcv"
    bars = bars_and_reference(tmp_path, ref_rows=kline_rows(5))[0]  # warm the dirs
    pq = str(tmp_path / "ref.parquet")
    bars, _, m, _ = ingest(
        {
            "source": "binance_klines",
            "path": str(tmp_path / "bars"),
            "reference": {"path": pq},
        }
    )
    assert m["reference"]["source"] == "ohlcv" and "reference_buy_volume" not in bars
    np.testing.assert_array_equal(
        bars["reference_price"].to_numpy()[1:], c["close"].to_numpy()[:119]
    )
    # a trade capture: each trade is known at its time
    lines = []
    for i in range(300):
        d = {
            "e": "trade",
            "s": "ETHUSDT",
            "t": i,
            "p": str(2000 + i),
            "q": "0.5",
            "T": T0_MS + i * 20_000 + 5,
            "m": bool(i % 2),
        }
        lines.append(f"{i} " + json.dumps({"stream": "ethusdt@trade", "data": d}))
    cap = tmp_path / "cap.jsonl.gz"
    with gzip.open(cap, "wt") as fh:
        fh.write("\n".join(lines))
    assert detect_source(cap) == "binance_trades"
    bars, _, m, _ = ingest(
        {
            "source": "binance_klines",
            "path": str(tmp_path / "bars"),
            "reference": {"path": str(cap)},
        }
    )
    assert m["reference"]["interval"] is None and m["reference"]["max_age_s"] == 60
    # bar k opens at 60 k s; the last trade before it is trade 3k − 1
    k = np.arange(1, 100)
    got = bars["reference_price"].to_numpy()[1:100]
    np.testing.assert_array_equal(got, 2000 + 3 * k - 1)
    np.testing.assert_array_equal(bars["reference_volume"].to_numpy()[2:100], 1.5)
    # the taker buys (m false) are the even trades
    assert bars["reference_buy_volume"].iloc[2:100].between(0.5, 1.0).all()


def test_errors_are_one_clear_message(tmp_path):
    write_csv(tmp_path / "bars" / "b.csv", kline_rows(50))
    base = {"source": "binance_klines", "path": str(tmp_path / "bars")}
    with pytest.raises(DataValidationError, match="data.reference.path '/nowhere'"):
        ingest({**base, "reference": {"path": "/nowhere"}})
    rows = kline_rows(50, seed=3)
    rows[7][4] = "abc"
    write_csv(tmp_path / "bad" / "r.csv", rows)
    with pytest.raises(
        DataValidationError, match=r"^data.reference: .*r.csv, line 8, column 'close'"
    ):
        ingest({**base, "reference": {"path": str(tmp_path / "bad")}})
    later = kline_rows(50, t0_ms=T0_MS + 86_400_000)
    write_csv(tmp_path / "later" / "r.csv", later)
    with pytest.raises(DataValidationError, match="does not overlap the bars"):
        ingest({**base, "reference": {"path": str(tmp_path / "later")}})
    with pytest.raises(ParameterError, match="data.reference.max_age_bars"):
        validate_parameters({"data": {"reference": {"max_age_bars": 0}}})
    with pytest.raises(ParameterError, match="features.sets includes 'reference'"):
        validate_parameters({"data": {}, "features": {"sets": ["base", "reference"]}})


@pytest.mark.real_data
@pytest.mark.skipif(not POOL_DAY.is_dir(), reason=f"real pool data {POOL_DAY} absent")
def test_shared_pool_day_against_its_exchange_minutes(tmp_path):
    data = {
        "source": "uniswap_v3",
        "path": str(POOL_DAY),
        "reference": {"path": str(CEX_DAY)},
    }
    bars, _, manifest, _ = ingest(data)
    assert bars.attrs["reference"] == CEX_DAY.name and bars.attrs["interval"] == "12s"
    m = manifest["reference"]
    assert m["stale_bars"] == 0 and m["coverage"] > 0.99
    # the pool sits ≈ +6.9 bp above the perpetual's close (README), loosely
    basis = 1e4 * np.log(bars["open"] / bars["reference_price"])
    assert 5.0 < basis.mean() < 9.0
    # causality: the reference cut after t leaves every bar up to t as it was
    ref = pd.read_csv(CEX_DAY)
    t = pd.Timestamp("2024-01-05 13:07:36", tz="UTC")
    keep = ref["open_time"] + 60_000 <= t.value // 1_000_000
    ref[keep].to_csv(tmp_path / "cut.csv", index=False)
    cut_ref = {"path": str(tmp_path / "cut.csv")}
    cut = ingest({**data, "reference": cut_ref})[0]
    upto = bars.index <= t
    np.testing.assert_array_equal(
        cut["reference_price"].to_numpy()[upto],
        bars["reference_price"].to_numpy()[upto],
    )
    assert epoch_ns(cut.index).size == epoch_ns(bars.index).size
    assert cut["reference_price"].iloc[-1:].isna().all()
