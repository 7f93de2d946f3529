"""Readers of the three forms of pool files (see :mod:`ethpredict.io.uniswap`):
raw logs (CSV rows or ``eth_getLogs`` JSON), demeter-fetch's decoded events,
demeter's per-minute summaries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.files import open_text
from ethpredict.io.tables import SourceFrame
from ethpredict.io.times import parse_times
from ethpredict.io.uniswap.abi import EVENT_WORDS, decode_logs, events_frame
from ethpredict.io.uniswap.pools import Pool
from ethpredict.io.uniswap.prices import eth_price, eth_quote_amounts
from ethpredict.timeaxis import NS_PER_S


def require_columns(
    frame: pd.DataFrame, cols: list[str], label: str, what: str
) -> None:
    missing = [c for c in cols if c not in frame]
    if missing:
        raise DataValidationError(
            f"missing column(s) {', '.join(missing)} of {what}; the file has "
            f"{', '.join(map(str, frame.columns))}",
            file=label,
            column=missing[0],
        )


def int_column(frame, col, label, lines) -> np.ndarray:
    v = pd.to_numeric(frame[col], errors="coerce")
    bad = np.flatnonzero(v.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise DataValidationError(
            f"'{frame[col].iat[i]}' is not a whole number",
            file=label,
            row=int(lines[i]),
            column=col,
        )
    return v.to_numpy().astype(np.int64)


def read_raw_csv(frame: pd.DataFrame, label: str) -> tuple[pd.DataFrame, int, int]:
    """demeter-fetch's raw layout: one ``eth_getLogs`` log per row. Returns
    the events, the count of other logs and of logs dropped as re-orged
    away (a ``removed`` column that is true)."""
    require_columns(
        frame,
        ["block_number", "block_timestamp", "log_index", "topics", "data"],
        label,
        "raw pool logs",
    )
    lines = np.arange(2, len(frame) + 2)
    removed = 0
    if "removed" in frame:  # a log of a block re-orged away
        gone = (
            frame["removed"].astype(str).str.strip().str.lower().eq("true").to_numpy()
        )
        removed = int(gone.sum())
        frame, lines = frame.loc[~gone].reset_index(drop=True), lines[~gone]
    t = parse_times(
        frame["block_timestamp"], label=label, column="block_timestamp", lines=lines
    )
    cols, other = decode_logs(frame["topics"], frame["data"], label, lines)
    return (
        events_frame(
            cols,
            t,
            int_column(frame, "block_number", label, lines),
            int_column(frame, "log_index", label, lines),
            lines,
        ),
        other,
        removed,
    )


def _hex_or_int(v) -> int:
    return int(v, 16) if isinstance(v, str) and v.startswith("0x") else int(v)


def read_raw_json(path: Path) -> tuple[pd.DataFrame, int, str | None, int]:
    """``eth_getLogs`` results as JSON: a list, ``{"result": [...]}``, or JSON
    lines. Returns the events, the count of other logs, the pool address and
    the count of logs dropped as ``"removed": true`` (re-orged away)."""
    with open_text(path) as fh:
        text = fh.read()
    label = str(path)
    try:
        doc = json.loads(text)
        logs = doc.get("result", doc) if isinstance(doc, dict) else doc
        lines = np.arange(1, len(logs) + 1)
    except json.JSONDecodeError:
        logs, nums = [], []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                logs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataValidationError(
                    f"not valid JSON ({exc.msg})", file=label, row=n
                ) from None
            nums.append(n)
        lines = np.array(nums)
    if not isinstance(logs, list) or not all(isinstance(g, dict) for g in logs):
        raise DataValidationError(
            "expected eth_getLogs results: a list of log objects", file=label
        )
    # a log of a block re-orged away comes back with "removed": true
    kept = np.array([g.get("removed") not in (True, "true") for g in logs], bool)
    removed = int((~kept).sum())
    if removed:
        logs, lines = [g for g, k in zip(logs, kept, strict=True) if k], lines[kept]
    block, idx, ts = (np.zeros(len(logs), np.int64) for _ in range(3))
    addresses = set()
    for i, g in enumerate(logs):
        try:
            block[i] = _hex_or_int(g["blockNumber"])
            idx[i] = _hex_or_int(g["logIndex"])
            ts[i] = _hex_or_int(g["blockTimestamp"])
            _ = g["topics"], g["data"]  # every eth_getLogs log has both
        except KeyError as exc:
            hint = (
                "; the log's block time is needed (recent clients return "
                "blockTimestamp with each log; otherwise add it from eth_getBlockByNumber)"
                if exc.args[0] == "blockTimestamp"
                else ""
            )
            raise DataValidationError(
                f"log lacks {exc.args[0]}{hint}",
                file=label,
                row=int(lines[i]),
                column=exc.args[0],
            ) from None
        except (TypeError, ValueError):
            raise DataValidationError(
                "blockNumber, logIndex and blockTimestamp must be numbers or 0x-hex",
                file=label,
                row=int(lines[i]),
            ) from None
        if "address" in g:
            addresses.add(str(g["address"]).lower())
    if len(addresses) > 1:
        raise DataValidationError(
            f"logs of several contracts ({', '.join(sorted(addresses))}); "
            "expected one pool",
            file=label,
        )
    cols, other = decode_logs(
        [g.get("topics", []) for g in logs],
        [g.get("data", "") for g in logs],
        label,
        lines,
    )
    events = events_frame(cols, ts * NS_PER_S, block, idx, lines)
    return events, other, next(iter(addresses), None), removed


def read_decoded(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """demeter-fetch's decoded tables (``pool.tick`` / ``tick``)."""
    if "log_index" not in frame and "pool_log_index" in frame:
        frame = frame.rename(columns={"pool_log_index": "log_index"})
    require_columns(
        frame,
        [
            "block_number",
            "block_timestamp",
            "tx_type",
            "log_index",
            "amount0",
            "amount1",
            "sqrtPriceX96",
            "current_tick",
            "tick_lower",
            "tick_upper",
            "liquidity",
        ],
        label,
        "decoded pool events",
    )
    lines = np.arange(2, len(frame) + 2)
    kind = frame["tx_type"].astype(str).str.upper()
    bad = np.flatnonzero(~kind.isin(list(EVENT_WORDS)).to_numpy())
    if bad.size:
        i = int(bad[0])
        raise DataValidationError(
            f"event type '{frame['tx_type'].iat[i]}'; expected SWAP, MINT, BURN or "
            "COLLECT",
            file=label,
            row=int(lines[i]),
            column="tx_type",
        )

    def num(col):
        return pd.to_numeric(frame[col], errors="coerce").to_numpy(np.float64)

    is_swap = (kind == "SWAP").to_numpy()
    events = pd.DataFrame(
        {
            "time_ns": parse_times(
                frame["block_timestamp"],
                label=label,
                column="block_timestamp",
                lines=lines,
            ),
            "block": int_column(frame, "block_number", label, lines),
            "log_index": int_column(frame, "log_index", label, lines),
            "event": kind.to_numpy(),
            "amount0": num("amount0"),
            "amount1": num("amount1"),
            "sqrt_price_x96": np.where(is_swap, num("sqrtPriceX96"), np.nan),
            # a swap's own liquidity is the pool's in-range liquidity after it
            "liquidity": np.where(is_swap, num("total_liquidity"), num("liquidity"))
            if "total_liquidity" in frame
            else num("liquidity"),
            "tick": np.where(is_swap, num("current_tick"), np.nan),
            "tick_lower": num("tick_lower"),
            "tick_upper": num("tick_upper"),
            "line": lines,
        }
    )
    for col in ("amount0", "amount1", "sqrt_price_x96"):
        bad = np.flatnonzero(is_swap & ~np.isfinite(events[col].to_numpy()))
        if bad.size:
            i = int(bad[0])
            raise DataValidationError(
                "a swap needs this number", file=label, row=int(lines[i]), column=col
            )
    # the position manager's copies of an event share its block and log index
    return events.drop_duplicates(["block", "log_index"]).reset_index(drop=True)


def read_minutes(frame: pd.DataFrame, label: str, pool: Pool) -> SourceFrame:
    """demeter's per-minute summaries as 1-minute bars."""
    need = [
        "timestamp",
        "netAmount0",
        "netAmount1",
        "closeTick",
        "openTick",
        "lowestTick",
        "highestTick",
        "inAmount0",
        "inAmount1",
    ]
    require_columns(frame, need, label, "per-minute pool summaries")
    lines = np.arange(2, len(frame) + 2)
    num = {}
    for c in need[1:]:
        v = pd.to_numeric(frame[c], errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(v))
        if bad.size:
            raise DataValidationError(
                f"'{frame[c].iat[int(bad[0])]}' is not a number",
                file=label,
                row=int(lines[bad[0]]),
                column=c,
            )
        num[c] = v
    t = parse_times(frame["timestamp"], label=label, column="timestamp", lines=lines)
    px = {
        c: eth_price(pool, tick=num[c])
        for c in ("openTick", "closeTick", "lowestTick", "highestTick")
    }
    # ETH is token1: a higher tick is a lower ETH price
    top, bottom = (
        ("lowestTick", "highestTick")
        if pool.eth_token == "token1"
        else ("highestTick", "lowestTick")
    )
    e_in, q_in = eth_quote_amounts(pool, num["inAmount0"], num["inAmount1"])
    e_net, q_net = eth_quote_amounts(pool, num["netAmount0"], num["netAmount1"])
    e_out, q_out = e_in - e_net, q_in - q_net  # what the pool paid out
    vals = pd.DataFrame(
        {
            "open": px["openTick"],
            "high": px[top],
            "low": px[bottom],
            "close": px["closeTick"],
            "volume": e_in + e_out,
            "quote_volume": q_in + q_out,
            "taker_buy_volume": e_out,
            "taker_buy_quote_volume": q_in,
        }
    )
    return SourceFrame(label, t, vals, lines, time_column="timestamp")
