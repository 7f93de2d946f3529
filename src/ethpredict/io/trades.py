"""Reader of Binance trade stream captures: JSON lines of ``@trade``
websocket messages, each line prefixed by a local receive time in ns (plain
or ``.gz``, any name: hftbacktest's ``*.gz``). Other streams in the same
capture (depth, bookTicker) are skipped. Bars are aggregated from the trades.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.files import GZIP_MAGIC, list_files, open_text
from ethpredict.io.tables import TRADE_SUFFIXES, SourceFrame
from ethpredict.timeaxis import NS_PER_S, epoch_ns


def is_trade_capture(path: Path) -> bool:
    """Whether a file (plain or gzip, any name — hftbacktest's ``*.gz``)
    starts with Binance ``@trade`` JSON lines."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        if head[:2] == GZIP_MAGIC:
            with gzip.open(path, "rb") as fh:
                head = fh.read(1 << 16)
    except (OSError, EOFError, zlib.error):
        return False
    return b'"e":"trade"' in head.replace(b" ", b"")


def read_trade_stream(path: str | Path) -> pd.DataFrame:
    """Trades from Binance ``@trade`` captures.

    Returns:
        One row per trade, sorted by exchange trade time: ``time`` (UTC, from
        the exchange's trade time ``T``), ``trade_id``, ``price``, ``qty``
        (base asset), ``side`` (+1 when the buyer was the aggressor, −1 when
        the seller was; Binance's ``m`` = buyer is maker), ``recv_time_ns``
        (the capture's local receive time), ``symbol``, ``venue`` (``spot`` or
        ``futures``), and ``file``/``line`` (source
        line, for error messages). Futures trades that are not ``MARKET``
        (insurance fund, ADL) are left out. A trade present in two
        overlapping captures is kept once.
    """
    rows: list[tuple] = []
    for f in list_files(path, TRADE_SUFFIXES, "trade stream", is_trade_capture):
        with open_text(f) as fh:
            for n, line in enumerate(fh, start=1):
                if '"trade"' not in line:
                    continue
                prefix, _, payload = line.partition(" ")
                recv = int(prefix) if prefix.isdigit() else -1
                payload = payload if prefix.isdigit() else line
                try:
                    msg = json.loads(payload)
                    d = msg.get("data", msg)
                    if d.get("e") != "trade" or d.get("X", "MARKET") != "MARKET":
                        continue
                    rows.append(
                        (
                            int(d["T"]),
                            int(d["t"]),
                            float(d["p"]),
                            float(d["q"]),
                            -1 if d["m"] else 1,
                            recv,
                            str(d["s"]),
                            "futures" if "X" in d else "spot",
                            str(f),
                            n,
                        )
                    )
                except json.JSONDecodeError as exc:
                    raise DataValidationError(
                        f"not valid JSON ({exc.msg} at character {exc.pos})",
                        file=str(f),
                        row=n,
                    ) from None
                except KeyError as exc:
                    raise DataValidationError(
                        "trade message lacks this field",
                        file=str(f),
                        row=n,
                        column=exc.args[0],
                    ) from None
                except (TypeError, ValueError, AttributeError) as exc:
                    raise DataValidationError(
                        f"malformed trade message ({exc})", file=str(f), row=n
                    ) from None
    if not rows:
        raise DataValidationError(f"no @trade messages found under data.path '{path}'")
    cols = [
        "t_ms",
        "trade_id",
        "price",
        "qty",
        "side",
        "recv_time_ns",
        "symbol",
        "venue",
        "file",
        "line",
    ]
    df = pd.DataFrame.from_records(rows, columns=cols)
    for col, what in (("symbol", "symbols"), ("venue", "venues")):
        kinds = df.groupby(col)["file"].first()
        if len(kinds) > 1:
            found = ", ".join(f"{k} ({Path(v).name})" for k, v in kinds.items())
            raise DataValidationError(
                f"trades of several {what} under data.path '{path}': {found}; "
                "point data.path at the captures of one symbol on one venue"
            )
    for col in ("price", "qty"):
        bad = np.flatnonzero(~(df[col].to_numpy() > 0))
        if bad.size:
            r = df.iloc[int(bad[0])]
            raise DataValidationError(
                f"{r[col]} is not > 0", file=r["file"], row=int(r["line"]), column=col
            )
    key = ["trade_id", "t_ms", "price", "qty", "side"]
    df = df.drop_duplicates(subset=key).sort_values(["trade_id"], kind="stable")
    dup = df["trade_id"].duplicated(keep="first").to_numpy()
    if dup.any():
        r = df.iloc[int(np.flatnonzero(dup)[0])]
        raise DataValidationError(
            f"trade id {r['trade_id']} appears twice with different contents",
            file=r["file"],
            row=int(r["line"]),
            column="t",
        )
    df = df.sort_values(["t_ms", "trade_id"], kind="stable").reset_index(drop=True)
    df.insert(0, "time", pd.to_datetime(df.pop("t_ms"), unit="ms", utc=True))
    return df


def bars_from_trades(trades: pd.DataFrame, interval_s: int) -> SourceFrame:
    """Aggregate trades (:func:`read_trade_stream`'s frame) into OHLCV bars
    of ``interval_s`` seconds, opening at multiples of it.

    The first and last bars of the capture are partial (the capture starts
    and stops mid-bar) and are dropped. Intervals with no trade are left
    missing here; bar assembly treats them as gaps (``data.on_gap``).
    """
    step = interval_s * NS_PER_S
    t = epoch_ns(trades["time"])
    bucket = t // step * step
    g = trades.assign(
        bucket=bucket,
        quote=trades["price"] * trades["qty"],
        buy=np.where(trades["side"] > 0, trades["qty"], 0.0),
        buy_quote=np.where(trades["side"] > 0, trades["price"] * trades["qty"], 0.0),
    ).groupby("bucket", sort=True)
    agg = g.agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        volume=("qty", "sum"),
        quote_volume=("quote", "sum"),
        trades=("price", "size"),
        taker_buy_volume=("buy", "sum"),
        taker_buy_quote_volume=("buy_quote", "sum"),
        line=("line", "first"),
        file=("file", "first"),
    )
    agg = agg.iloc[1:-1]
    if len(agg) < 2:
        raise DataValidationError(
            f"the trade capture spans too few complete {interval_s} s bars "
            f"({len(agg)}) after dropping the partial first and last bar"
        )
    files = trades["file"].unique()
    label = files[0] if len(files) == 1 else f"{len(files)} trade captures"
    return SourceFrame(
        label=str(label),
        time_ns=agg.index.to_numpy().astype(np.int64),
        values=agg.drop(columns=["line", "file"])
        .astype("float64")
        .reset_index(drop=True),
        lines=agg["line"].to_numpy(),
    )
