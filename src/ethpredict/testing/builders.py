"""Small market-data files and frames for tests and benchmarks: Binance
klines (and a halt in them), generic OHLCV candles, trade-stream captures
and a synthetic Uniswap v3 pool day."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

T0_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC, epoch milliseconds
POOL = "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"  # USDC/WETH 0.05 % on Ethereum
FLASH = "0xbdbdb71d7860376ba52b25a5028beea23581364a40522f6bcfb86bb1f2dca633"
HALT, GAP = slice(200, 272), slice(272, 352)  # halted_klines: 72 frozen, 80 missing


def kline_rows(
    n: int = 50, step_ms: int = 60_000, t0_ms: int = T0_MS, seed: int = 0
) -> list[list[str]]:
    """Valid 12-column Binance kline rows as lists of strings.

    Args:
        n: Number of rows.
        step_ms: Bar length in milliseconds.
        t0_ms: Open time of the first bar, epoch milliseconds.
        seed: Seed of the random walk of the closes.

    Returns:
        The rows, in the column order of ``ethpredict.io.binance.KLINE_COLUMNS``.
    """
    rng = np.random.default_rng(seed)
    close = 3000 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    open_ = np.r_[3000.0, close[:-1]]
    rows = []
    for i in range(n):
        o, c = round(open_[i], 2), round(close[i], 2)
        h, lo = round(max(o, c) + 0.5, 2), round(min(o, c) - 0.5, 2)
        v = round(10 + i % 7, 4)
        t = t0_ms + i * step_ms
        quote = [round(v * c, 4), 100 + i, round(v / 2, 4), round(v * c / 2, 4), 0]
        rows.append([str(x) for x in (t, o, h, lo, c, v, t + step_ms - 1, *quote)])
    return rows


def write_csv(path: Path, rows: list[list[str]], header: bool = False) -> Path:
    """Write kline ``rows`` to ``path`` (parents created), with the Binance
    header line if ``header``; returns ``path``."""
    from ethpredict.io.binance import KLINE_COLUMNS

    lines = ([",".join(KLINE_COLUMNS)] if header else []) + [",".join(r) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def frozen(rows: list[list[str]], start: int, n: int) -> list[list[str]]:
    """``rows`` with bars ``start … start+n−1`` a halt: zero volume, OHLC at
    the previous close (a copy; ``rows`` is unchanged)."""
    out = [list(r) for r in rows]
    price = out[start - 1][4]
    for r in out[start : start + n]:
        r[1:5] = [price] * 4
        r[5] = r[7] = r[8] = r[9] = r[10] = "0"
    return out


def halted_klines(folder: Path) -> str:
    """Write ``folder/k.csv``: 600 realistic 1-minute klines from 2024-01-01
    00:00, a halt of 72 zero-volume bars at a frozen price (03:20–04:31,
    ``HALT``), then 80 missing bars (04:32–05:51, ``GAP``, filled with
    ``data.on_gap: flag``), then trading again. Returns the file's path."""
    rows = frozen(kline_rows(600, seed=3), HALT.start, 72)
    write_csv(folder / "k.csv", rows[: GAP.start] + rows[GAP.stop :])
    return str(folder / "k.csv")


def _walk(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 3000 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    return np.r_[3000.0, close[:-1]], close, rng.uniform(1, 10, n)


def _ohlcv(time_column: str, times, n: int, seed: int) -> pd.DataFrame:
    open_, close, volume = _walk(n, seed)
    high, low = np.maximum(open_, close) + 0.5, np.minimum(open_, close) - 0.5
    return pd.DataFrame(
        {
            time_column: times,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
        }
    )


def dated_candles(
    n: int = 30, t0: str = "2024-03-01", freq: str = "1min", seed: int = 0
) -> pd.DataFrame:
    """Generic OHLCV candles whose ``date`` column holds UTC timestamps.

    Args:
        n: Number of candles.
        t0: First open time (UTC), as ``pd.date_range`` reads it.
        freq: Candle length as a pandas frequency.
        seed: Seed of the random walk and the volumes.

    Returns:
        Columns ``date, open, high, low, close, volume``.
    """
    return _ohlcv("date", pd.date_range(t0, periods=n, freq=freq, tz="UTC"), n, seed)


def epoch_candles(
    n: int = 40, t0_ms: int = T0_MS, step_ms: int = 60_000, seed: int = 0
) -> pd.DataFrame:
    """Generic OHLCV candles whose ``time`` column holds epoch milliseconds.

    Args:
        n: Number of candles.
        t0_ms: First open time, epoch milliseconds.
        step_ms: Candle length in milliseconds.
        seed: Seed of the random walk and the volumes.

    Returns:
        Columns ``time, open, high, low, close, volume``.
    """
    return _ohlcv("time", t0_ms + step_ms * np.arange(n), n, seed)


def trade_line(
    recv: int, t_ms: int, tid: int, price: float, qty: float, maker: bool, **extra
) -> str:
    """One line of a Binance ``@trade`` capture.

    Args:
        recv: Receive stamp written before the JSON.
        t_ms: Trade time, epoch milliseconds.
        tid: Trade id.
        price: Price in USDT.
        qty: Quantity in ETH.
        maker: Whether the buyer is the maker (then the seller is the aggressor).
        **extra: More fields of the ``data`` object.

    Returns:
        ``"<recv> {json}"``.
    """
    data = {
        "e": "trade",
        "E": t_ms,
        "s": "ETHUSDT",
        "t": tid,
        "p": str(price),
        "q": str(qty),
        "T": t_ms,
        "m": maker,
        **extra,
    }
    return f"{recv} " + json.dumps({"stream": "ethusdt@trade", "data": data})


def capture(folder: Path, lines: list[str], name: str = "cap.jsonl") -> Path:
    """Write a capture file ``folder/name``: a depth message, then ``lines``."""
    depth = '17 {"stream":"ethusdt@depth@100ms","data":{"e":"depthUpdate"}}'
    (folder / name).write_text("\n".join([depth, *lines]) + "\n")
    return folder / name


def encode_pool_log(kind: str, fields: dict) -> tuple[list[str], str]:
    """Topics and data of one pool event log; ``kind`` ``"FLASH"`` is an
    event the decoder skips. ``fields`` may name ``sqrt``, ``lower`` and
    ``upper`` for ``sqrt_price_x96``, ``tick_lower`` and ``tick_upper``."""
    from ethpredict.io import uniswap as u

    if kind == "FLASH":
        return [FLASH, "0x" + "0" * 64], "0x" + "1".rjust(64, "0") * 4
    names = {"sqrt": "sqrt_price_x96", "lower": "tick_lower", "upper": "tick_upper"}
    return u.encode_log(kind, **{names.get(k, k): v for k, v in fields.items()})


def synthetic_pool(
    folder: Path,
    n: int = 400,
    seed: int = 0,
    name: str = f"ethereum-{POOL}-2024-01-05.raw.csv",
) -> tuple[Path, pd.DataFrame]:
    """A day of swaps (and a mint) of ``POOL`` as eth_getLogs rows.

    Args:
        folder: Where the CSV is written.
        n: Number of swaps (blocks 1–3 apart, 12 s per block).
        seed: Seed of the ticks, blocks and amounts.
        name: File name.

    Returns:
        The CSV's path and its rows.
    """
    rng = np.random.default_rng(seed)
    t0, block0 = 1_704_412_800, 18_937_382
    rows, tick, liq = [], 199_045, 10**19
    block = block0
    for i in range(n):
        block += int(rng.integers(1, 4))
        tick += int(rng.integers(-3, 4))
        eth = int(rng.integers(1, 5 * 10**18)) * (1 if rng.random() < 0.5 else -1)
        usdc = -int(eth / 10**12 * 2270)
        sqrt = int(math.sqrt(1.0001**tick) * 2**96)
        t = t0 + (block - block0) * 12
        if i == 100:
            mint = {"lower": tick - 10, "upper": tick + 10, "liquidity": 10**18}
            topics, data = encode_pool_log("MINT", {**mint, "amount0": 1, "amount1": 1})
            rows.append((block, t, 0, topics, data))
            liq += 10**18
        swap = {"amount0": usdc, "amount1": eth, "sqrt": sqrt, "liquidity": liq}
        topics, data = encode_pool_log("SWAP", {**swap, "tick": tick})
        rows.append((block, t, 1, topics, data))
    stamps = pd.to_datetime([r[1] for r in rows], unit="s")
    frame = pd.DataFrame(
        {
            "block_number": [r[0] for r in rows],
            "block_timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"),
            "transaction_hash": "0x00",
            "transaction_index": 0,
            "log_index": [r[2] for r in rows],
            "topics": [str(r[3]) for r in rows],
            "data": [r[4] for r in rows],
        }
    )
    path = folder / name
    frame.to_csv(path, index=False)
    return path, frame


def rpc_logs(frame: pd.DataFrame, **extra) -> list[dict]:
    """:func:`synthetic_pool`'s rows as ``eth_getLogs`` results (hex block
    numbers, timestamps and log indices, as a node returns them).

    Args:
        frame: The raw-log frame :func:`synthetic_pool` returns.
        **extra: Fields added to every log (e.g. ``removed=False``).

    Returns:
        One dict per row, in the frame's order.
    """
    return [
        {
            "address": POOL,
            "blockNumber": hex(int(r.block_number)),
            "blockTimestamp": hex(
                int(pd.Timestamp(r.block_timestamp, tz="UTC").timestamp())
            ),
            "logIndex": hex(int(r.log_index)),
            "topics": ast.literal_eval(r.topics),
            "data": r.data,
            **extra,
        }
        for r in frame.itertuples()
    ]
