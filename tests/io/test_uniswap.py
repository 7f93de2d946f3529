"""Uniswap v3 pool events: the ABI decoder against an encoder, raw logs
against the decoded tables, bars against the per-minute summaries, the
swaps table, the liquidity series and every documented error."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pandas as pd
import pytest

from ethpredict.errors import DataValidationError
from ethpredict.io import uniswap as u
from ethpredict.params import UniswapParams
from ethpredict.testing.builders import POOL, encode_pool_log, rpc_logs, synthetic_pool
from ethpredict.testing.ingest import ingest


def random_events(rng, n):
    out = []
    for _ in range(n):
        kind = rng.choice(["SWAP", "SWAP", "MINT", "BURN", "COLLECT", "FLASH"])
        lower = int(rng.integers(-887_000, 887_000))
        f = {
            "amount0": int(rng.integers(-(10**18), 10**18))
            * int(rng.integers(1, 10**6)),
            "amount1": int(rng.integers(-(10**18), 10**18)),
            "sqrt": int(rng.integers(1, 2**62)) << 90,
            "liquidity": int(rng.integers(0, 2**62)),
            "tick": int(rng.integers(-887_272, 887_272)),
            "lower": lower,
            "upper": lower + int(rng.integers(1, 1000)),
        }
        if kind in ("MINT", "BURN", "COLLECT"):
            f["amount0"], f["amount1"] = abs(f["amount0"]), abs(f["amount1"])
        out.append((str(kind), f))
    return out


@pytest.mark.parametrize("seed", range(10))
def test_decoder_inverts_the_encoder(seed):
    rng = np.random.default_rng(seed)
    events = random_events(rng, 60)
    logs = [encode_pool_log(k, f) for k, f in events]
    text_topics = [str(t) for t, _ in logs]  # as a Python list's repr, like the CSV
    cols, other = u.decode_logs(text_topics, [d for _, d in logs], "x", np.arange(60))
    kept = [(k, f) for k, f in events if k != "FLASH"]
    assert other == len(events) - len(kept)
    assert cols["event"].tolist() == [k for k, _ in kept]
    for i, (k, f) in enumerate(kept):
        assert cols["amount0"][i] == float(f["amount0"])
        assert cols["amount1"][i] == float(f["amount1"])
        if k == "SWAP":
            assert cols["sqrt_price_x96"][i] == float(f["sqrt"])
            assert (
                cols["tick"][i] == f["tick"] and cols["liquidity"][i] == f["liquidity"]
            )
            assert math.isnan(cols["tick_lower"][i])
        else:
            assert (cols["tick_lower"][i], cols["tick_upper"][i]) == (
                f["lower"],
                f["upper"],
            )
            if k != "COLLECT":
                assert cols["liquidity"][i] == f["liquidity"]


def test_malformed_log_is_named():
    topics, data = encode_pool_log(
        "SWAP", {"amount0": 1, "amount1": -1, "sqrt": 2**96, "liquidity": 1, "tick": 0}
    )
    with pytest.raises(
        DataValidationError, match=r"f\.csv, line 7, column 'data'.*5 data"
    ):
        u.decode_logs([topics], [data[:-64]], "f.csv", np.array([7]))
    with pytest.raises(DataValidationError, match="not hexadecimal"):
        u.decode_logs([topics], [data[:-1] + "z"], "f.csv", np.array([7]))


def test_prices_from_sqrt_price_and_tick_agree():
    pool = u.KNOWN_POOLS[POOL]
    tick = np.array([199045.0, 190000.0, 201000.0])
    sqrt = np.sqrt(1.0001**tick) * u.Q96
    np.testing.assert_allclose(
        u.eth_price(pool, sqrt_price_x96=sqrt), u.eth_price(pool, tick=tick), rtol=1e-9
    )
    # the README's formula: ETH in USDC = 10^12 / 1.0001^tick
    np.testing.assert_allclose(u.eth_price(pool, tick=tick), 1e12 / 1.0001**tick)
    weth_first = u.KNOWN_POOLS["0x11b815efb8f581194ae79006d24e0d814b7697f6"]
    # WETH/USDT: token1 per token0 = 1.0001^tick · 10^(18-6)
    assert u.eth_price(weth_first, tick=np.array([-195000.0]))[0] == pytest.approx(
        1.0001**-195000 * 1e12
    )


def test_swaps_table_bars_and_liquidity(tmp_path):
    path, frame = synthetic_pool(tmp_path)
    bars, swaps, manifest, liq = ingest({"source": "uniswap_v3", "path": str(path)})
    assert manifest["interval"] == "12s" and bars.attrs["venue"] == "uniswap_v3"
    assert bars.attrs["fee_bps"] == 5.0 and bars.attrs["tick_spacing"] == 10
    # the USDC/WETH pool is labelled by its tokens, not data.symbol's ETHUSDT
    assert (manifest["symbol"], manifest["quote"], manifest["pool_quote"]) == (
        "ETHUSDC",
        "USDC",
        "USDC",
    )
    assert len(swaps) == 400 and manifest["pool_events"] == 401
    # a swap that put WETH into the pool is a taker sale of ETH
    eth = pd.to_numeric(
        frame.loc[frame["topics"].str.contains(u.SWAP[2:12]), "data"]
        .str[66:130]
        .apply(lambda h: int(h, 16))
    )
    sold = (eth < 2**255).to_numpy()  # amount1 > 0
    assert (swaps["side"].to_numpy() == np.where(sold, -1, 1)).all()
    # one bar per 12 s block from the first to the last swap; quiet blocks
    # are flat, real bars (volume 0), not filled gaps
    assert not bars["is_filled"].any()
    assert bars["volume"].sum() == pytest.approx(swaps["qty"].sum(), rel=1e-12)
    quiet = bars["trades"] == 0
    assert quiet.any() and (bars.loc[quiet, "high"] == bars.loc[quiet, "low"]).all()
    assert (
        bars["open"].iloc[1:].to_numpy() == bars["close"].iloc[:-1].to_numpy()
    ).all()
    # the mint at the current tick raises the in-range liquidity at once
    i = list(liq["event"]).index("MINT")
    level = liq["liquidity"].to_numpy()
    assert level[i] == level[i - 1] + 1e18 == level[i + 1]  # the next swap reports it
    one_minute = ingest({"source": "uniswap_v3", "path": str(path), "interval": "1m"})[
        0
    ]
    assert one_minute.attrs["interval"] == "1m"
    assert one_minute["volume"].sum() == pytest.approx(swaps["qty"].sum(), rel=1e-12)


def test_eth_getlogs_json_equals_the_csv(tmp_path):
    path, frame = synthetic_pool(tmp_path)
    logs = rpc_logs(frame, transactionHash="0x00", removed=False)
    (tmp_path / "json").mkdir()
    with gzip.open(tmp_path / "json" / "logs.json.gz", "wt") as fh:
        json.dump({"jsonrpc": "2.0", "id": 1, "result": logs}, fh)
    a = ingest({"source": "uniswap_v3", "path": str(path)})
    b = ingest({"source": "uniswap_v3", "path": str(tmp_path / "json")})
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    assert b[0].attrs["pool"] == POOL  # the address came from the logs
    for g in logs:
        del g["blockTimestamp"]
    (tmp_path / "json" / "logs.json.gz").unlink()
    (tmp_path / "json" / "logs.jsonl").write_text(
        "\n".join(json.dumps(g) for g in logs)
    )
    with pytest.raises(
        DataValidationError, match=r"logs\.jsonl, line 1.*blockTimestamp"
    ):
        ingest({"source": "uniswap_v3", "path": str(tmp_path / "json")})


def test_json_logs_of_another_pool_are_refused(tmp_path):
    _, frame = synthetic_pool(tmp_path, n=30)
    other = "0x8ad599c3a0ff1de082011efddc58f1908eb6e6d8"

    def logs(address, rows):
        return json.dumps(
            [
                {
                    "address": address,
                    "blockNumber": int(r.block_number),
                    "blockTimestamp": int(
                        pd.Timestamp(r.block_timestamp, tz="UTC").timestamp()
                    ),
                    "logIndex": int(r.log_index),
                    "topics": eval(r.topics),
                    "data": r.data,
                }
                for r in rows.itertuples()
            ]
        )

    folder = tmp_path / "two"
    folder.mkdir()
    (folder / "a.json").write_text(logs(POOL, frame.iloc[:15]))
    (folder / "b.json").write_text(logs(other, frame.iloc[15:]))
    with pytest.raises(DataValidationError, match=f"several pools.*{other}"):
        ingest({"source": "uniswap_v3", "path": str(folder)})
    named = tmp_path / "named"
    named.mkdir()
    (named / f"{POOL}.json").write_text(logs(other, frame))
    with pytest.raises(
        DataValidationError, match=f"file names say pool {POOL} but the logs come"
    ):
        ingest({"source": "uniswap_v3", "path": str(named)})


def test_unknown_pool_needs_its_tokens(tmp_path):
    other = "0x" + "12" * 20
    path, _ = synthetic_pool(tmp_path, name=f"{other}.raw.csv")
    with pytest.raises(DataValidationError) as exc:
        ingest({"source": "uniswap_v3", "path": str(path)})
    for w in (other, "data.uniswap.eth_token", "data.uniswap.decimals0", "fee_bps"):
        assert w in str(exc.value)
    spec = {"eth_token": "token1", "decimals0": 6, "decimals1": 18, "fee_bps": 30}
    bars = ingest({"source": "uniswap_v3", "path": str(path), "uniswap": spec})[0]
    assert bars.attrs["tick_spacing"] == 60 and bars.attrs["fee_bps"] == 30


def test_folder_without_pool_files(tmp_path):
    (tmp_path / "x.rel-price.csv").write_text("block_timestamp,usdc,eth\n")
    with pytest.raises(DataValidationError, match="holds no Uniswap v3"):
        u.read_pool(tmp_path, UniswapParams(), None)


DAY = "uniswap-v3/ethereum-usdc-weth-005-2024-01-05"


def test_real_raw_logs_equal_the_decoded_table(real_data):
    folder = real_data / DAY
    raw, other, removed = u.read_raw_csv(
        pd.read_csv(next(folder.glob("*-2024-01-05.raw.csv.gz")), dtype=str), "raw"
    )
    dec = u.read_decoded(pd.read_csv(next(folder.glob("*.pool.tick.csv.gz"))), "dec")
    assert len(raw) == 6234 and other == 0 and removed == 0
    assert (raw["event"] == "SWAP").sum() == 6046
    for col in (
        "block",
        "log_index",
        "time_ns",
        "amount0",
        "amount1",
        "sqrt_price_x96",
        "tick",
        "tick_lower",
        "tick_upper",
        "liquidity",
    ):
        np.testing.assert_array_equal(
            raw[col].to_numpy(float), dec[col].to_numpy(float)
        )


def test_real_bars_match_the_pool_summaries(real_data):
    folder = real_data / DAY
    from_logs = u.read_pool(folder, UniswapParams(), "1m").bars[0]
    minutes = u.read_pool(folder, UniswapParams(form="minute"), None).bars[0]
    assert np.array_equal(from_logs.time_ns, minutes.time_ns)
    a, b = from_logs.values, minutes.values
    # the same ETH volume, minute by minute, from two independent sources
    np.testing.assert_allclose(a["volume"], b["volume"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(a["taker_buy_volume"], b["taker_buy_volume"], atol=1e-9)
    # closes agree within the tick the summary rounds to (1 bp)
    ratio = a["close"] / b["close"]
    assert ratio.min() >= 1 / 1.0001 - 1e-12 and ratio.max() <= 1.0001
    # and with the per-minute ETH price of the rel-price file
    rel = pd.read_csv(next(folder.glob("*.rel-price.csv.gz")))
    np.testing.assert_allclose(a["close"].iloc[:50], rel["eth"].iloc[:50], rtol=1e-9)


def test_real_pools_load(real_data):
    for path, n_swaps in (
        (DAY, 6046),
        ("uniswap-v3/ethereum-usdc-weth-030-2024-01-05", 267),
    ):
        bars, swaps, m, liq = ingest(
            {"source": "uniswap_v3", "path": str(real_data / path)}
        )
        assert len(swaps) == n_swaps and m["interval"] == "12s"
        assert 2200 < bars["close"].min() < bars["close"].max() < 2400
        assert liq["liquidity"].notna().sum() > 0.9 * len(liq)
    poly = real_data / "uniswap-v3/polygon-usdc-weth-005-minute"
    bars = ingest(
        {
            "source": "uniswap_v3",
            "path": str(poly),
            "start": "2024-02-15",
            "end": "2024-02-17",
        }
    )[0]
    assert len(bars) == 2880 and bars.attrs["chain"] == "polygon"
    # minute summaries have no blocks: the chain's usual block time
    assert bars.attrs["block_time_s"] == 2.0


def _edit_raw(tmp_path, edit):
    path, frame = synthetic_pool(tmp_path, n=50)
    edit(frame, path).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (
            lambda f, p: f.assign(
                block_timestamp=f["block_timestamp"].where(
                    f.index != 20, "2024-01-04 00:00:00"
                )
            ),
            ["has an earlier timestamp than block", "line 22", "block_timestamp"],
        ),
        (
            lambda f, p: f.assign(
                data=f["data"].where(
                    f.index != 5,
                    f["data"].iat[5][:66] + "0" * 64 + f["data"].iat[5][130:],
                )
            ),
            ["zero ETH amount", "line 7"],
        ),
        (lambda f, p: f.iloc[:1], ["holds 1 swap(s)", "at least 2"]),
        (
            lambda f, p: f.drop(columns="topics"),
            ["missing column(s) topics", "raw pool logs"],
        ),
    ],
    ids=["time-back", "zero-eth", "one-swap", "no-topics"],
)
def test_documented_pool_errors(tmp_path, edit, words):
    path = _edit_raw(tmp_path, edit)
    with pytest.raises(DataValidationError) as exc:
        ingest({"source": "uniswap_v3", "path": str(path)})
    for w in words:
        assert w in str(exc.value)


def test_overlapping_and_mixed_pool_files(tmp_path):
    _, frame = synthetic_pool(tmp_path, n=50)
    frame.iloc[40:].to_csv(
        tmp_path / f"ethereum-{POOL}-2024-01-06.raw.csv", index=False
    )
    with pytest.raises(
        DataValidationError, match=r"appears twice \(overlapping files\?\)"
    ):
        ingest({"source": "uniswap_v3", "path": str(tmp_path)})
    other = "0x8ad599c3a0ff1de082011efddc58f1908eb6e6d8"
    (tmp_path / f"ethereum-{POOL}-2024-01-06.raw.csv").rename(
        tmp_path / f"ethereum-{other}-2024-01-06.raw.csv"
    )
    with pytest.raises(DataValidationError, match="files of several pools"):
        ingest({"source": "uniswap_v3", "path": str(tmp_path)})


def test_minute_summaries_are_one_minute_bars(tmp_path, real_data):
    folder = real_data / "uniswap-v3/polygon-usdc-weth-005-minute"
    with pytest.raises(DataValidationError, match="1m bars; data.interval is '5m'"):
        ingest({"source": "uniswap_v3", "path": str(folder), "interval": "5m"})
