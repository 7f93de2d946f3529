"""Uniswap v3 pool events: raw logs, decoded event tables, per-minute summaries.

Three forms are read (``data.uniswap.form``; ``auto`` takes the first form a
folder holds, in this order):

* **raw** — logs as ``eth_getLogs`` returns them: ``topics`` + ``data`` hex,
  decoded here with the pool's event ABI (Swap, Mint, Burn, Collect; other
  events such as Flash are counted and skipped). As CSV (demeter-fetch's
  ``*.raw.csv`` layout: ``block_number, block_timestamp, transaction_hash,
  transaction_index, log_index, topics, data``) or as the JSON-RPC result (a
  list of log objects, ``{"result": [...]}``, or one object per line), which
  must carry ``blockTimestamp`` (recent clients add it; it is what places a
  log in time).
* **decoded** — the same events already decoded (demeter-fetch's
  ``*.pool.tick.csv`` / ``*.tick.csv``: ``tx_type``, ``amount0/1``,
  ``sqrtPriceX96``, ``current_tick``, ``tick_lower/upper``, ``liquidity``).
* **minute** — per-minute pool summaries (demeter's ``*.minute.csv``:
  ``timestamp, netAmount0/1, open/close/lowest/highestTick, inAmount0/1,
  currentLiquidity``); these load directly as bars.

Prices: ``P = (sqrtPriceX96 / 2^96)^2 = 1.0001^tick`` is token1 per token0 in
raw units; the ETH price in the other token is ``10^(d1−d0) / P`` when ETH is
token1 and ``P · 10^(d0−d1)`` when it is token0. A swap's price is the pool
price after it (where a resting order at that level would have been
crossed); its size is the ETH amount; its side is +1 when the taker bought
ETH from the pool, −1 when the taker sold ETH into it.
"""

from __future__ import annotations

import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.bars import NS_PER_S, SourceFrame, epoch_ns, in_window
from ethpredict.io.binance import list_files
from ethpredict.io.files import open_text, read_bytes
from ethpredict.io.ohlcv import parse_times
from ethpredict.params import INTERVALS_S, UniswapParams

log = logging.getLogger(__name__)
SWAP = "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"
MINT = "0x7a53080ba414158be7ec69b987b5fb7d07dee101fe85488f0853ae16239d0bde"
BURN = "0x0c396cd989a39f4459b5fa1aed6a9a8dcdbc45908acfd67e028cd568da98982c"
COLLECT = "0x70935338e69775456a85ddef226c395fb668b63fa0115f5f20610b388e6ca9c0"
#: event signature hash (topic 0) → event name, with its ABI
EVENTS = {
    SWAP: "SWAP",  # Swap(address indexed sender, address indexed recipient,
    #   int256 amount0, int256 amount1, uint160 sqrtPriceX96, uint128 liquidity, int24 tick)
    MINT: "MINT",  # Mint(address sender, address indexed owner, int24 indexed tickLower,
    #   int24 indexed tickUpper, uint128 amount, uint256 amount0, uint256 amount1)
    BURN: "BURN",  # Burn(address indexed owner, int24 indexed tickLower,
    #   int24 indexed tickUpper, uint128 amount, uint256 amount0, uint256 amount1)
    COLLECT: "COLLECT",  # Collect(address indexed owner, address recipient,
    #   int24 indexed tickLower, int24 indexed tickUpper, uint128 amount0, uint128 amount1)
}
#: data words per event (Mint's first word is the sender address)
_WORDS = {"SWAP": 5, "MINT": 4, "BURN": 3, "COLLECT": 3}
Q96 = 2.0**96
TWO_255, TWO_256 = 1 << 255, 1 << 256
FEE_TICK_SPACING = {1.0: 1, 5.0: 10, 30.0: 60, 100.0: 200}
EVENT_COLUMNS = [
    "time_ns", "block", "log_index", "event", "amount0", "amount1", "sqrt_price_x96",
    "liquidity", "tick", "tick_lower", "tick_upper", "line",
]  # fmt: skip
UNISWAP_SUFFIXES = (".csv", ".csv.gz", ".json", ".json.gz", ".jsonl", ".jsonl.gz")


@dataclass(frozen=True)
class Pool:
    """What prices and sizes of a pool need."""

    address: str
    chain: str
    eth_token: str  # "token0" | "token1"
    decimals0: int
    decimals1: int
    fee_bps: float
    tick_spacing: int
    block_time_s: float | None = None
    quote: str | None = None  # the other token's symbol (USDC.e counts as USDC)


#: pools whose token order and decimals need no parameters (lower-case address)
_POOL_TABLE = """
# address                                   chain    ETH is  dec0 dec1 fee_bp spacing block_s quote
# USDC/WETH 0.05 % and 0.30 % (token0 USDC, token1 WETH)
0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640  ethereum token1  6    18   5      10      12      USDC
0x8ad599c3a0ff1de082011efddc58f1908eb6e6d8  ethereum token1  6    18   30     60      12      USDC
# WETH/USDT 0.05 % and 0.30 % (token0 WETH, token1 USDT)
0x11b815efb8f581194ae79006d24e0d814b7697f6  ethereum token0  18   6    5      10      12      USDT
0x4e68ccd3e89f51c3074ca5072bbac773960dfa36  ethereum token0  18   6    30     60      12      USDT
# Polygon USDC.e/WETH 0.05 % (block time measured from the events)
0x45dda9cb7c25131df268515131f647d726f50608  polygon  token1  6    18   5      10      -       USDC
"""


#: usual block times, for pool files without blocks (per-minute summaries);
#: raw logs and decoded events measure it (:func:`block_time_s`)
CHAIN_BLOCK_S = {"ethereum": 12.0, "polygon": 2.0, "optimism": 2.0, "base": 2.0,
                 "arbitrum": 0.25}  # fmt: skip


def _pool_row(f: list[str]) -> Pool:
    block = None if f[7] == "-" else float(f[7])
    return Pool(
        f[0], f[1], f[2], int(f[3]), int(f[4]), float(f[5]), int(f[6]), block, f[8]
    )


KNOWN_POOLS: dict[str, Pool] = {
    f[0]: _pool_row(f)
    for line in _POOL_TABLE.splitlines()
    if line.strip() and not line.startswith("#") and (f := line.split())
}
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_TOPIC = re.compile(r"0x[0-9a-fA-F]{1,64}")


def resolve_pool(p: UniswapParams, address: str | None) -> Pool:
    """Parameters first, then the known-pools table; refuses what is unknown."""
    address = (p.pool or address or "").lower()
    known = KNOWN_POOLS.get(address)
    fields = {}
    for name in ("chain", "eth_token", "decimals0", "decimals1", "fee_bps",
                 "tick_spacing", "block_time_s"):  # fmt: skip
        given = getattr(p, name)
        fields[name] = given if given is not None else getattr(known, name, None)
    if fields["tick_spacing"] is None and fields["fee_bps"] is not None:
        fields["tick_spacing"] = FEE_TICK_SPACING.get(float(fields["fee_bps"]))
    missing = [
        f"data.uniswap.{k}" for k in ("eth_token", "decimals0", "decimals1",
                                      "fee_bps", "tick_spacing")
        if fields[k] is None
    ]  # fmt: skip
    if missing:
        where = (
            f"pool {address}" if address else "the pool (no address in the file names)"
        )
        raise DataValidationError(
            f"{where} is not in the known-pools table ({', '.join(KNOWN_POOLS)}); "
            f"set {', '.join(missing)}"
        )
    return Pool(address=address or "unknown", **{
        **fields, "chain": fields["chain"] or "unknown",
        "quote": getattr(known, "quote", None),
    })  # fmt: skip


def _signed(v: int) -> int:
    return v - TWO_256 if v >= TWO_255 else v


def _word(data: str, i: int) -> int:
    return int(data[2 + 64 * i : 2 + 64 * (i + 1)], 16)


def decode_logs(
    topics: list[str] | pd.Series, data: list[str] | pd.Series, label: str,
    lines: np.ndarray,
) -> tuple[dict[str, np.ndarray], int]:  # fmt: skip
    """Decode Swap/Mint/Burn/Collect logs with the pool ABI.

    Args:
        topics: Per log, its topics as text (a JSON or Python list, or any
            text holding the 0x-words in order) or as a list.
        data: Per log, the ``data`` hex.

    Returns:
        Columns (``event``, ``amount0``, ``amount1`` in raw units,
        ``sqrt_price_x96``, ``liquidity``, ``tick``, ``tick_lower``,
        ``tick_upper``; NaN where an event has no such field) for the decoded
        logs, with ``keep`` (their positions), and the number of other logs.
    """
    n = len(data)
    out = {c: np.full(n, np.nan) for c in ("amount0", "amount1", "sqrt_price_x96",
                                           "liquidity", "tick", "tick_lower",
                                           "tick_upper")}  # fmt: skip
    event = np.empty(n, dtype=object)
    keep = np.zeros(n, dtype=bool)
    a0, a1, sp, liq, tk, tl, tu = (out[c] for c in (
        "amount0", "amount1", "sqrt_price_x96", "liquidity", "tick", "tick_lower",
        "tick_upper"))  # fmt: skip
    for i, (tp, hexdata) in enumerate(zip(topics, data, strict=True)):
        words = tp if isinstance(tp, list) else _TOPIC.findall(str(tp))
        name = EVENTS.get(str(words[0]).lower()) if words else None
        if name is None:
            continue
        d = "" if pd.isna(hexdata) else str(hexdata).strip()
        need = _WORDS[name]
        if not d.startswith("0x"):
            raise DataValidationError(
                f"a {name.title()} log needs its data field: 0x-hex of {need} "
                f"32-byte words; found {'nothing' if not d else repr(d[:20])}",
                file=label, row=int(lines[i]), column="data",
            )  # fmt: skip
        if (
            not d.startswith("0x")
            or len(d) < 2 + 64 * need
            or (len(d) - 2) % 64
            or (name != "SWAP" and len(words) < 4)
        ):
            raise DataValidationError(
                f"a {name.title()} log needs {need} data words and "
                f"{1 if name == 'SWAP' else 4} topics; found {(len(d) - 2) / 64:g} "
                f"words and {len(words)} topics (is the data cut short?)",
                file=label, row=int(lines[i]), column="data",
            )  # fmt: skip
        try:
            if name == "SWAP":
                a0[i], a1[i] = _signed(_word(d, 0)), _signed(_word(d, 1))
                sp[i], liq[i], tk[i] = _word(d, 2), _word(d, 3), _signed(_word(d, 4))
            else:
                tl[i] = _signed(int(words[2], 16))
                tu[i] = _signed(int(words[3], 16))
                first = 1 if name == "MINT" else 0  # Mint: the sender address first
                if name == "COLLECT":
                    a0[i], a1[i] = _word(d, 1), _word(d, 2)
                else:
                    liq[i] = _word(d, first)
                    a0[i], a1[i] = _word(d, first + 1), _word(d, first + 2)
        except ValueError:
            raise DataValidationError(
                "not hexadecimal", file=label, row=int(lines[i]), column="data"
            ) from None
        event[i] = name
        keep[i] = True
    cols = {k: v[keep] for k, v in out.items()}
    cols["event"] = event[keep].astype(str)
    cols["keep"] = np.flatnonzero(keep)
    return cols, int(n - keep.sum())


def _w(v: int) -> str:
    return f"{v % TWO_256:064x}"


def encode_log(event: str, **f: int) -> tuple[list[str], str]:
    """Topics and data of one pool log, as the contract emits it — the
    inverse of :func:`decode_logs`, for writing test files and fixtures.

    Fields: Swap ``amount0, amount1, sqrt_price_x96, liquidity, tick``;
    Mint/Burn ``tick_lower, tick_upper, liquidity, amount0, amount1``;
    Collect ``tick_lower, tick_upper, amount0, amount1``. Owner, sender and
    recipient addresses are fixed placeholders.
    """
    owner = "0x" + _w(0xABC)
    if event == "SWAP":
        keys = ("amount0", "amount1", "sqrt_price_x96", "liquidity", "tick")
        return [SWAP, owner, owner], "0x" + "".join(_w(f[k]) for k in keys)
    ticks = ["0x" + _w(f["tick_lower"]), "0x" + _w(f["tick_upper"])]
    words = {
        "MINT": (MINT, [0x123, f.get("liquidity", 0), f["amount0"], f["amount1"]]),
        "BURN": (BURN, [f.get("liquidity", 0), f["amount0"], f["amount1"]]),
        "COLLECT": (COLLECT, [0x456, f["amount0"], f["amount1"]]),
    }
    sig, data = words[event]
    return [sig, owner, *ticks], "0x" + "".join(map(_w, data))


def _events_frame(cols: dict, time_ns, block, log_index, lines) -> pd.DataFrame:
    keep = cols.pop("keep", slice(None))
    frame = pd.DataFrame({
        "time_ns": np.asarray(time_ns)[keep], "block": np.asarray(block)[keep],
        "log_index": np.asarray(log_index)[keep], **cols,
        "line": np.asarray(lines)[keep],
    })  # fmt: skip
    return frame[EVENT_COLUMNS]


def _require(frame: pd.DataFrame, cols: list[str], label: str, what: str) -> None:
    missing = [c for c in cols if c not in frame]
    if missing:
        raise DataValidationError(
            f"missing column(s) {', '.join(missing)} of {what}; the file has "
            f"{', '.join(map(str, frame.columns))}",
            file=label, column=missing[0],
        )  # fmt: skip


def _int_column(frame, col, label, lines) -> np.ndarray:
    v = pd.to_numeric(frame[col], errors="coerce")
    bad = np.flatnonzero(v.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise DataValidationError(
            f"'{frame[col].iat[i]}' is not a whole number",
            file=label, row=int(lines[i]), column=col,
        )  # fmt: skip
    return v.to_numpy().astype(np.int64)


def read_raw_csv(frame: pd.DataFrame, label: str) -> tuple[pd.DataFrame, int, int]:
    """demeter-fetch's raw layout: one ``eth_getLogs`` log per row. Returns
    the events, the count of other logs and of logs dropped as re-orged
    away (a ``removed`` column that is true)."""
    _require(frame, ["block_number", "block_timestamp", "log_index", "topics", "data"],
             label, "raw pool logs")  # fmt: skip
    lines = np.arange(2, len(frame) + 2)
    removed = 0
    if "removed" in frame:  # a log of a block re-orged away
        gone = (
            frame["removed"].astype(str).str.strip().str.lower().eq("true").to_numpy()
        )
        removed = int(gone.sum())
        frame, lines = frame.loc[~gone].reset_index(drop=True), lines[~gone]
    t = parse_times(frame["block_timestamp"], label=label, column="block_timestamp",
                    lines=lines)  # fmt: skip
    cols, other = decode_logs(frame["topics"], frame["data"], label, lines)
    return _events_frame(
        cols, t, _int_column(frame, "block_number", label, lines),
        _int_column(frame, "log_index", label, lines), lines,
    ), other, removed  # fmt: skip


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
                if exc.args[0] == "blockTimestamp" else ""
            )  # fmt: skip
            raise DataValidationError(
                f"log lacks {exc.args[0]}{hint}", file=label, row=int(lines[i]),
                column=exc.args[0],
            ) from None  # fmt: skip
        except (TypeError, ValueError):
            raise DataValidationError(
                "blockNumber, logIndex and blockTimestamp must be numbers or 0x-hex",
                file=label, row=int(lines[i]),
            ) from None  # fmt: skip
        if "address" in g:
            addresses.add(str(g["address"]).lower())
    if len(addresses) > 1:
        raise DataValidationError(
            f"logs of several contracts ({', '.join(sorted(addresses))}); "
            "expected one pool", file=label,
        )  # fmt: skip
    cols, other = decode_logs([g.get("topics", []) for g in logs],
                              [g.get("data", "") for g in logs], label, lines)  # fmt: skip
    events = _events_frame(cols, ts * NS_PER_S, block, idx, lines)
    return events, other, next(iter(addresses), None), removed


def read_decoded(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """demeter-fetch's decoded tables (``pool.tick`` / ``tick``)."""
    if "log_index" not in frame and "pool_log_index" in frame:
        frame = frame.rename(columns={"pool_log_index": "log_index"})
    _require(frame, ["block_number", "block_timestamp", "tx_type", "log_index",
                     "amount0", "amount1", "sqrtPriceX96", "current_tick",
                     "tick_lower", "tick_upper", "liquidity"], label,
             "decoded pool events")  # fmt: skip
    lines = np.arange(2, len(frame) + 2)
    kind = frame["tx_type"].astype(str).str.upper()
    bad = np.flatnonzero(~kind.isin(list(_WORDS)).to_numpy())
    if bad.size:
        i = int(bad[0])
        raise DataValidationError(
            f"event type '{frame['tx_type'].iat[i]}'; expected SWAP, MINT, BURN or "
            "COLLECT", file=label, row=int(lines[i]), column="tx_type",
        )  # fmt: skip

    def num(col):
        return pd.to_numeric(frame[col], errors="coerce").to_numpy(np.float64)

    is_swap = (kind == "SWAP").to_numpy()
    events = pd.DataFrame({
        "time_ns": parse_times(frame["block_timestamp"], label=label,
                               column="block_timestamp", lines=lines),
        "block": _int_column(frame, "block_number", label, lines),
        "log_index": _int_column(frame, "log_index", label, lines),
        "event": kind.to_numpy(), "amount0": num("amount0"), "amount1": num("amount1"),
        "sqrt_price_x96": np.where(is_swap, num("sqrtPriceX96"), np.nan),
        # a swap's own liquidity is the pool's in-range liquidity after it
        "liquidity": np.where(is_swap, num("total_liquidity"), num("liquidity"))
        if "total_liquidity" in frame else num("liquidity"),
        "tick": np.where(is_swap, num("current_tick"), np.nan),
        "tick_lower": num("tick_lower"), "tick_upper": num("tick_upper"), "line": lines,
    })  # fmt: skip
    for col in ("amount0", "amount1", "sqrt_price_x96"):
        bad = np.flatnonzero(is_swap & ~np.isfinite(events[col].to_numpy()))
        if bad.size:
            i = int(bad[0])
            raise DataValidationError(
                "a swap needs this number", file=label, row=int(lines[i]), column=col
            )
    # the position manager's copies of an event share its block and log index
    return events.drop_duplicates(["block", "log_index"]).reset_index(drop=True)


def eth_price(pool: Pool, sqrt_price_x96=None, tick=None) -> np.ndarray:
    """ETH price in the pool's other token from ``sqrtPriceX96`` or a tick."""
    if sqrt_price_x96 is not None:
        raw = (np.asarray(sqrt_price_x96, dtype=np.float64) / Q96) ** 2
    else:
        raw = 1.0001 ** np.asarray(tick, dtype=np.float64)
    if pool.eth_token == "token1":
        return 10.0 ** (pool.decimals1 - pool.decimals0) / raw
    return raw * 10.0 ** (pool.decimals0 - pool.decimals1)


def _eth_quote_amounts(pool: Pool, a0, a1) -> tuple[np.ndarray, np.ndarray]:
    """Signed ETH and quote amounts into the pool, in whole tokens."""
    d0, d1 = 10.0**pool.decimals0, 10.0**pool.decimals1
    if pool.eth_token == "token1":
        return np.asarray(a1) / d1, np.asarray(a0) / d0
    return np.asarray(a0) / d0, np.asarray(a1) / d1


def swaps_table(events: pd.DataFrame, pool: Pool) -> pd.DataFrame:
    """The swaps as trades: ``time`` (UTC), ``trade_id`` (block·10^6 + log
    index), ``price`` (pool price after the swap), ``qty`` (ETH), ``side``
    (+1 taker bought ETH), ``block``, ``log_index``, ``liquidity`` (in-range,
    after the swap), ``fee_bps``, ``exec_price`` (quote paid per ETH, fee
    included), ``quote_qty``, ``recv_time_ns`` (−1: not a capture),
    ``file``/``line``."""
    s = events[events["event"] == "SWAP"]
    eth, quote = _eth_quote_amounts(
        pool, s["amount0"].to_numpy(), s["amount1"].to_numpy()
    )
    sp = s["sqrt_price_x96"].to_numpy()
    price = eth_price(pool, sqrt_price_x96=sp)
    bad = np.flatnonzero(~(np.isfinite(price) & (price > 0)) | (eth == 0))
    if bad.size:
        i = int(bad[0])
        raise DataValidationError(
            "swap with a zero ETH amount or no price (sqrtPriceX96 "
            f"{sp[i]:.0f}, ETH amount {eth[i]})",
            file=str(s["file"].iat[i]) if "file" in s else None, row=int(s["line"].iat[i]),
        )  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        exec_price = np.abs(quote / eth)
    out = pd.DataFrame({
        "time": pd.to_datetime(s["time_ns"].to_numpy(), unit="ns", utc=True),
        "trade_id": s["block"].to_numpy() * 1_000_000 + s["log_index"].to_numpy(),
        "price": price, "qty": np.abs(eth), "side": np.where(eth < 0, 1, -1).astype(np.int8),
        "block": s["block"].to_numpy(), "log_index": s["log_index"].to_numpy(),
        "liquidity": s["liquidity"].to_numpy(), "fee_bps": pool.fee_bps,
        "exec_price": exec_price, "quote_qty": np.abs(quote), "recv_time_ns": -1,
        "file": s["file"].to_numpy() if "file" in s else "", "line": s["line"].to_numpy(),
    })  # fmt: skip
    return out.reset_index(drop=True)


def liquidity_series(events: pd.DataFrame, pool: Pool) -> pd.DataFrame:
    """In-range liquidity after every event: a swap reports it; a Mint (Burn)
    whose range holds the current tick adds (removes) its amount; unknown
    (NaN) before the first swap shows the current tick."""
    ev = events["event"].to_numpy()
    liq_in = events["liquidity"].to_numpy()
    tick_in = events["tick"].to_numpy()
    lo, hi = events["tick_lower"].to_numpy(), events["tick_upper"].to_numpy()
    n = len(events)
    liq, tick, delta = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n)
    cur_l, cur_t = np.nan, np.nan
    for i in range(n):
        if ev[i] == "SWAP":
            cur_l, cur_t = liq_in[i], tick_in[i]
        elif ev[i] in ("MINT", "BURN"):
            delta[i] = liq_in[i] if ev[i] == "MINT" else -liq_in[i]
            if np.isfinite(cur_t) and lo[i] <= cur_t < hi[i]:
                cur_l += delta[i]
        liq[i], tick[i] = cur_l, cur_t
    return pd.DataFrame({
        "time": pd.to_datetime(events["time_ns"].to_numpy(), unit="ns", utc=True),
        "block": events["block"].to_numpy(), "log_index": events["log_index"].to_numpy(),
        "event": ev.astype(str), "tick": tick,
        "price": eth_price(pool, tick=tick), "liquidity": liq, "liquidity_delta": delta,
    })  # fmt: skip


def block_time_s(events: pd.DataFrame) -> float:
    """The chain's block time: the median seconds per block between events of
    different blocks (whole seconds, at least 1)."""
    b = events.drop_duplicates("block")
    db = np.diff(b["block"].to_numpy())
    dt = np.diff(b["time_ns"].to_numpy()) / NS_PER_S
    ok = db > 0
    if not ok.any():
        return 12.0
    return float(max(1, round(float(np.median(dt[ok] / db[ok])))))


def bars_from_swaps(swaps: pd.DataFrame, step_s: int, label: str) -> SourceFrame:
    """Bars of ``step_s`` seconds over the whole span of the swaps: each bar
    opens at the pool price left by the previous one; a bar without swaps is
    a real quiet interval of the pool (flat, volume 0), not a gap."""
    step = step_s * NS_PER_S
    t = epoch_ns(swaps["time"])
    b = t // step
    first, last = int(b[0]), int(b[-1])
    m = last - first + 1
    pos = b - first
    price = swaps["price"].to_numpy()
    qty = swaps["qty"].to_numpy()
    qq = swaps["quote_qty"].to_numpy()
    buy = swaps["side"].to_numpy() > 0
    starts = np.searchsorted(pos, np.arange(m), side="left")
    ends = np.searchsorted(pos, np.arange(m), side="right")
    has = ends > starts
    close = np.empty(m)
    close[has] = price[ends[has] - 1]
    close = pd.Series(np.where(has, close, np.nan)).ffill().to_numpy()
    open_ = np.r_[price[0], close[:-1]]
    hi = np.full(m, -np.inf)
    lo = np.full(m, np.inf)
    np.maximum.at(hi, pos, price)
    np.minimum.at(lo, pos, price)
    hi, lo = (
        np.maximum(hi, np.maximum(open_, close)),
        np.minimum(lo, np.minimum(open_, close)),
    )
    vals = {
        "open": open_, "high": hi, "low": lo, "close": close,
        "volume": np.bincount(pos, qty, m), "quote_volume": np.bincount(pos, qq, m),
        "trades": np.bincount(pos, minlength=m).astype(np.float64),
        "taker_buy_volume": np.bincount(pos, np.where(buy, qty, 0.0), m),
        "taker_buy_quote_volume": np.bincount(pos, np.where(buy, qq, 0.0), m),
    }  # fmt: skip
    line = swaps["line"].to_numpy()[np.minimum(starts, len(price) - 1)]
    return SourceFrame(
        label=label, time_ns=(np.arange(first, last + 1) * step).astype(np.int64),
        values=pd.DataFrame(vals), lines=line, time_column="block_timestamp",
    )  # fmt: skip


def read_minutes(frame: pd.DataFrame, label: str, pool: Pool) -> SourceFrame:
    """demeter's per-minute summaries as 1-minute bars."""
    need = ["timestamp", "netAmount0", "netAmount1", "closeTick", "openTick",
            "lowestTick", "highestTick", "inAmount0", "inAmount1"]  # fmt: skip
    _require(frame, need, label, "per-minute pool summaries")
    lines = np.arange(2, len(frame) + 2)
    num = {}
    for c in need[1:]:
        v = pd.to_numeric(frame[c], errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(v))
        if bad.size:
            raise DataValidationError(
                f"'{frame[c].iat[int(bad[0])]}' is not a number",
                file=label, row=int(lines[bad[0]]), column=c,
            )  # fmt: skip
        num[c] = v
    t = parse_times(frame["timestamp"], label=label, column="timestamp", lines=lines)
    px = {c: eth_price(pool, tick=num[c]) for c in
          ("openTick", "closeTick", "lowestTick", "highestTick")}  # fmt: skip
    # ETH is token1: a higher tick is a lower ETH price
    top, bottom = ("lowestTick", "highestTick") if pool.eth_token == "token1" else (
        "highestTick", "lowestTick")  # fmt: skip
    e_in, q_in = _eth_quote_amounts(pool, num["inAmount0"], num["inAmount1"])
    e_net, q_net = _eth_quote_amounts(pool, num["netAmount0"], num["netAmount1"])
    e_out, q_out = e_in - e_net, q_in - q_net  # what the pool paid out
    vals = pd.DataFrame({
        "open": px["openTick"], "high": px[top], "low": px[bottom],
        "close": px["closeTick"], "volume": e_in + e_out, "quote_volume": q_in + q_out,
        "taker_buy_volume": e_out, "taker_buy_quote_volume": q_in,
    })  # fmt: skip
    return SourceFrame(label, t, vals, lines, time_column="timestamp")


_NAME_KINDS = (
    (".tx.raw.", "other"), (".rel-price.", "other"), (".raw.", "raw"),
    (".pool.tick.", "decoded"), (".minute.", "minute"), (".tick.", "decoded_proxy"),
)  # fmt: skip
_HEADER_KINDS = (("topics", "raw"), ("tx_type", "decoded"), ("closeTick", "minute"))
_JSON = (".json", ".json.gz", ".jsonl", ".jsonl.gz")


def _csv(path: Path, **kw) -> pd.DataFrame:
    """A CSV (gzip by content: a truncated one is one line; BOM dropped)."""
    return pd.read_csv(io.BytesIO(read_bytes(path)), **kw)


def _kind(path: Path) -> str:
    """raw / decoded / decoded_proxy / minute / other, from the file name (in
    demeter-fetch's naming) or else from the CSV header."""
    name = path.name.lower()
    if name.endswith(_JSON):
        return "raw"
    kind = next((k for tag, k in _NAME_KINDS if tag in name), None)
    if kind is None:
        head = set(_csv(path, nrows=0).columns)
        kind = next((k for col, k in _HEADER_KINDS if col in head), "other")
    return kind


@dataclass
class PoolData:
    """What a pool's files give."""

    pool: Pool
    form: str
    bars: list[SourceFrame]
    swaps: pd.DataFrame
    liquidity: pd.DataFrame
    files: list[str]
    other_logs: int = 0
    events: int = 0
    removed_logs: int = 0  # re-orged away ("removed": true), dropped


def _choose_files(path, p: UniswapParams) -> tuple[str, list[Path], str | None]:
    """The form to read, its files and the pool address in their names."""
    files = list_files(path, UNISWAP_SUFFIXES, "Uniswap v3")
    kinds = {f: _kind(f) for f in files}
    want = {"auto": ["raw", "decoded", "decoded_proxy", "minute"], "raw": ["raw"],
            "decoded": ["decoded", "decoded_proxy"], "minute": ["minute"]}[p.form]  # fmt: skip
    form = next((k for k in want if k in kinds.values()), None)
    if form is None:
        found = ", ".join(sorted(set(kinds.values()))) or "none"
        raise DataValidationError(
            f"data.path '{path}' holds no Uniswap v3 {p.form if p.form != 'auto' else ''}"
            f" files (file kinds found: {found}); expected raw logs (*.raw.csv, "
            "eth_getLogs JSON), decoded events (*.pool.tick.csv) or per-minute "
            "summaries (*.minute.csv)"
        )
    chosen = [f for f in files if kinds[f] == form]
    found = {m.group(0).lower() for f in chosen if (m := _ADDRESS.search(f.name))}
    if len(found) > 1:
        raise DataValidationError(
            f"data.path '{path}' holds files of several pools ({', '.join(sorted(found))})"
        )
    return form, chosen, next(iter(found), None)


def _read_events(
    chosen: list[Path], form: str
) -> tuple[pd.DataFrame, int, str | None, int]:
    """Every event of the files, in chain order, checked for overlaps; the
    counts of other logs and of re-orged logs dropped (one log line)."""
    parts, other, addresses, removed = [], 0, set(), 0
    for f in chosen:
        gone = 0
        if f.name.endswith(_JSON):
            ev, o, address, gone = read_raw_json(f)
            addresses |= {address} - {None}
        elif form == "raw":
            ev, o, gone = read_raw_csv(_csv(f, dtype=str), str(f))
        else:
            ev, o = read_decoded(_csv(f), str(f)), 0
        ev["file"] = str(f)
        parts.append(ev)
        other += o
        removed += gone
    if removed:
        log.warning(
            "Dropped %d log(s) marked \"removed\": true (their block was re-orged "
            "away) from %s",
            removed, ", ".join(str(f) for f in chosen),
        )  # fmt: skip
    if len(addresses) > 1:
        raise DataValidationError(
            f"the JSON log files hold logs of several pools ({', '.join(sorted(addresses))})"
        )
    events = pd.concat(parts, ignore_index=True)
    events = events.sort_values(["block", "log_index"], kind="stable")
    dup = events.duplicated(["block", "log_index"]).to_numpy()
    if dup.any():
        r = events.iloc[int(np.flatnonzero(dup)[0])]
        raise DataValidationError(
            f"the log at block {r['block']}, index {r['log_index']} appears twice "
            "(overlapping files?)", file=r["file"], row=int(r["line"]),
        )  # fmt: skip
    back = np.flatnonzero(np.diff(events["time_ns"].to_numpy()) < 0)
    if back.size:
        r = events.iloc[int(back[0]) + 1]
        raise DataValidationError(
            f"block {r['block']} has an earlier timestamp than block "
            f"{events['block'].iat[int(back[0])]}", file=r["file"], row=int(r["line"]),
            column="block_timestamp",
        )  # fmt: skip
    return events.reset_index(drop=True), other, next(iter(addresses), None), removed


def read_pool(
    path: str | Path, p: UniswapParams, interval: str | None,
    start_ns: int | None = None, end_ns: int | None = None,
) -> PoolData:  # fmt: skip
    """Read a pool's files (see the module docstring) into bars, swaps and
    the liquidity series, the swaps and liquidity limited to ``[start_ns,
    end_ns)`` (bars are windowed by the caller). ``interval`` None: one bar
    per block (per-minute summaries: 1m bars)."""
    form, chosen, address = _choose_files(path, p)
    names = [str(f) for f in chosen]
    if form == "minute":
        if interval not in (None, "1m"):
            raise DataValidationError(
                f"per-minute pool summaries are 1m bars; data.interval is '{interval}'"
            )
        pool = resolve_pool(p, address)
        if pool.block_time_s is None:
            block = CHAIN_BLOCK_S.get(pool.chain)
            pool = Pool(**{**pool.__dict__, "block_time_s": block})
        bars, liq = [], []
        for f in chosen:
            frame = _csv(f)
            src = read_minutes(frame, str(f), pool)
            bars.append(src)
            if "currentLiquidity" in frame:
                level = pd.to_numeric(frame["currentLiquidity"], errors="coerce")
                keep = in_window(src.time_ns, start_ns, end_ns)
                liq.append(pd.DataFrame({
                    "time": pd.to_datetime(src.time_ns[keep], unit="ns", utc=True),
                    "liquidity": level.to_numpy(np.float64)[keep],
                    "price": src.values["close"].to_numpy()[keep],
                }))  # fmt: skip
        empty = pd.DataFrame(columns=["time", "price", "qty", "side"])
        liquidity = pd.concat(liq, ignore_index=True) if liq else pd.DataFrame()
        return PoolData(pool, form, bars, empty, liquidity, names)

    events, other, json_address, removed = _read_events(chosen, form)
    if address and json_address and address != json_address:
        raise DataValidationError(
            f"the file names say pool {address} but the logs come from {json_address}",
            file=names[0],
        )
    pool = resolve_pool(p, address or json_address)
    if pool.block_time_s is None:
        pool = Pool(**{**pool.__dict__, "block_time_s": block_time_s(events)})
    liquidity = liquidity_series(events, pool)
    liquidity = liquidity.loc[in_window(epoch_ns(liquidity["time"]), start_ns, end_ns)]
    swaps = swaps_table(events, pool)
    swaps = swaps.loc[in_window(epoch_ns(swaps["time"]), start_ns, end_ns)]
    if len(swaps) < 2:
        raise DataValidationError(
            f"data.path '{path}' holds {len(swaps)} swap(s) in the selected period; "
            "bars need at least 2"
        )
    label = chosen[0].name if len(chosen) == 1 else f"{len(chosen)} pool files"
    step = INTERVALS_S[interval] if interval else int(pool.block_time_s)
    bars = [bars_from_swaps(swaps.reset_index(drop=True), step, label)]
    return PoolData(pool, form, bars, swaps.reset_index(drop=True),
                    liquidity.reset_index(drop=True), names, other, len(events),
                    removed)  # fmt: skip
