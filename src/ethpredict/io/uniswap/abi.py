"""The pool's event ABI: topics of Swap, Mint, Burn and Collect, decoding
``eth_getLogs`` logs into event columns and encoding them back (for test
files and fixtures)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError

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
EVENT_WORDS = {"SWAP": 5, "MINT": 4, "BURN": 3, "COLLECT": 3}
TWO_255, TWO_256 = 1 << 255, 1 << 256
EVENT_COLUMNS = [
    "time_ns",
    "block",
    "log_index",
    "event",
    "amount0",
    "amount1",
    "sqrt_price_x96",
    "liquidity",
    "tick",
    "tick_lower",
    "tick_upper",
    "line",
]
_TOPIC = re.compile(r"0x[0-9a-fA-F]{1,64}")


def _signed(v: int) -> int:
    return v - TWO_256 if v >= TWO_255 else v


def _word(data: str, i: int) -> int:
    return int(data[2 + 64 * i : 2 + 64 * (i + 1)], 16)


def decode_logs(
    topics: list[str] | pd.Series,
    data: list[str] | pd.Series,
    label: str,
    lines: np.ndarray,
) -> tuple[dict[str, np.ndarray], int]:
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
    out = {
        c: np.full(n, np.nan)
        for c in (
            "amount0",
            "amount1",
            "sqrt_price_x96",
            "liquidity",
            "tick",
            "tick_lower",
            "tick_upper",
        )
    }
    event = np.empty(n, dtype=object)
    keep = np.zeros(n, dtype=bool)
    a0, a1, sp, liq, tk, tl, tu = (
        out[c]
        for c in (
            "amount0",
            "amount1",
            "sqrt_price_x96",
            "liquidity",
            "tick",
            "tick_lower",
            "tick_upper",
        )
    )
    for i, (tp, hexdata) in enumerate(zip(topics, data, strict=True)):
        words = tp if isinstance(tp, list) else _TOPIC.findall(str(tp))
        name = EVENTS.get(str(words[0]).lower()) if words else None
        if name is None:
            continue
        d = "" if pd.isna(hexdata) else str(hexdata).strip()
        need = EVENT_WORDS[name]
        if not d.startswith("0x"):
            raise DataValidationError(
                f"a {name.title()} log needs its data field: 0x-hex of {need} "
                f"32-byte words; found {'nothing' if not d else repr(d[:20])}",
                file=label,
                row=int(lines[i]),
                column="data",
            )
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
                file=label,
                row=int(lines[i]),
                column="data",
            )
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


def events_frame(cols: dict, time_ns, block, log_index, lines) -> pd.DataFrame:
    keep = cols.pop("keep", slice(None))
    frame = pd.DataFrame(
        {
            "time_ns": np.asarray(time_ns)[keep],
            "block": np.asarray(block)[keep],
            "log_index": np.asarray(log_index)[keep],
            **cols,
            "line": np.asarray(lines)[keep],
        }
    )
    return frame[EVENT_COLUMNS]
