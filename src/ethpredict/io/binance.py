"""Readers for Binance market data formats.

* **Klines** — the public kline CSV layout (12 columns, see
  :data:`KLINE_COLUMNS`), with or without a header row, numbers in any
  precision, optional columns empty; as one file, a folder of files, or the
  monthly/daily ``.zip`` files of the public data archive (``.csv.gz`` too).
  Timestamps in ms or µs (the archive switched spot data to µs in 2025) are
  detected per file.
* **Trade stream captures** — JSON lines of ``@trade`` websocket messages, each
  line prefixed by a local receive time in ns (plain or ``.gz``). Other
  streams in the same capture (depth, bookTicker) are skipped.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.bars import (
    NS_PER_S,
    REQUIRED_COLUMNS,
    SourceFrame,
    epoch_ns,
    epoch_unit_ns,
    refuse_duplicate_columns,
)
from ethpredict.io.files import (
    BOM,
    GZIP_MAGIC,
    check_path,
    is_number,
    open_text,
    read_bytes,
)

KLINE_COLUMNS = [
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trades",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
]
_HEADER_ALIASES = {
    "open time": "open_time",
    "close time": "close_time",
    "count": "trades",
    "number_of_trades": "trades",
    "quote_asset_volume": "quote_volume",
    "taker_buy_base_asset_volume": "taker_buy_volume",
    "taker_buy_quote_asset_volume": "taker_buy_quote_volume",
}
KLINE_SUFFIXES = (".csv", ".csv.gz", ".zip")
TRADE_SUFFIXES = (".jsonl", ".jsonl.gz", ".json.gz")


def list_files(
    path: str | Path, suffixes: tuple[str, ...], what: str, sniff=None
) -> list[Path]:
    """One file, or the matching files of a folder (not recursive), sorted.

    ``sniff(file) -> bool`` admits a folder's files of other names by content.
    """
    p = check_path(path)
    if p.is_file():
        return [p]
    files = sorted(
        f for f in p.iterdir()
        if f.is_file() and (f.name.endswith(suffixes) or (sniff and sniff(f)))
    )  # fmt: skip
    if not files:
        raise DataValidationError(
            f"data.path '{p}' holds no {what} files (looked for {', '.join(suffixes)})"
        )
    return files


def _read_bytes(path: Path) -> list[tuple[str, bytes]]:
    """``(label, content)`` for a plain, gzip or zip file (one per CSV member)."""
    if path.name.endswith(".zip"):
        label = str(path)
        try:
            with zipfile.ZipFile(path) as zf:
                members = [m for m in zf.namelist() if m.lower().endswith(".csv")]
                if not members:
                    raise DataValidationError(
                        "zip archive holds no .csv file", file=str(path)
                    )
                out = []
                for m in members:
                    label = f"{path}:{m}"
                    out.append((label, zf.read(m)))
                return out
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            what = (
                "not a valid zip archive" if label == str(path)
                else f"corrupt compressed data ({exc}); download the archive again"
            )  # fmt: skip
            raise DataValidationError(what, file=label) from None
    return [(str(path), read_bytes(path))]


def _diagnose(label: str, raw: bytes, names: list[str], skip: int) -> None:
    """Slow path after the fast parser failed: find the first bad cell."""
    text = pd.read_csv(
        io.BytesIO(raw), header=None, skiprows=skip, names=names, dtype=str,
        skip_blank_lines=False, keep_default_na=False,
    )  # fmt: skip
    for col in names:
        cells = text[col].str.strip()
        parsed = pd.to_numeric(cells.where(cells != ""), errors="coerce")
        bad = np.flatnonzero(parsed.isna().to_numpy() & (cells != "").to_numpy())
        if bad.size:
            i = int(bad[0])
            raise DataValidationError(
                f"'{cells.iat[i]}' is not a number",
                file=label, row=i + 1 + skip, column=col,
            )  # fmt: skip


def parse_kline_csv(label: str, raw: bytes) -> SourceFrame:
    """Parse one kline CSV (header row optional) into a :class:`SourceFrame`."""
    raw = raw.removeprefix(BOM)
    first = next((ln for ln in raw.splitlines() if ln.strip()), b"").decode(
        "utf-8", "replace"
    )
    if not first:
        raise DataValidationError(
            "file is empty; expected Binance kline rows", file=label
        )
    fields = [f.strip().strip('"').lower() for f in first.split(",")]
    has_header = not is_number(fields[0])
    if has_header:
        refuse_duplicate_columns(fields, label)
        names = [_HEADER_ALIASES.get(f, f) for f in fields]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise DataValidationError(
                f"missing column(s) {', '.join(missing)}; the header has "
                f"{', '.join(names)}",
                file=label, row=1, column=missing[0],
            )  # fmt: skip
    else:
        if len(fields) < len(REQUIRED_COLUMNS):
            raise DataValidationError(
                f"{len(fields)} column(s); a Binance kline row has 12, of which "
                f"the first 6 ({', '.join(REQUIRED_COLUMNS)}) are required",
                file=label, row=1, column=KLINE_COLUMNS[len(fields)],
            )  # fmt: skip
        if len(fields) > len(KLINE_COLUMNS):
            raise DataValidationError(
                f"{len(fields)} columns; a Binance kline row has 12", file=label, row=1
            )
        names = KLINE_COLUMNS[: len(fields)]
    skip = 1 if has_header else 0
    try:
        df = pd.read_csv(
            io.BytesIO(raw), header=None, skiprows=skip, names=names,
            dtype="float64", skip_blank_lines=False, engine="c",
        )  # fmt: skip
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if not m:
            raise DataValidationError(f"unreadable CSV ({exc})", file=label) from None
        raise DataValidationError(
            f"{m.group(3)} fields; expected {m.group(1)} like the rows above",
            file=label, row=int(m.group(2)),
        ) from None  # fmt: skip
    except ValueError:
        _diagnose(label, raw, names, skip)
        raise  # pragma: no cover - _diagnose always raises when parsing failed
    lines = np.arange(1 + skip, len(df) + 1 + skip)
    keep = df.notna().any(axis=1).to_numpy()
    if not keep.all():
        df, lines = df.loc[keep].reset_index(drop=True), lines[keep]
    if df.empty:
        raise DataValidationError("file has a header but no rows", file=label)

    ot = df["open_time"].to_numpy()
    bad = np.flatnonzero(~np.isfinite(ot) | (ot != np.floor(ot)) | (ot < 0))
    if bad.size:
        i = int(bad[0])
        raise DataValidationError(
            f"'{ot[i]}' is not an epoch timestamp (integer ms or µs)",
            file=label, row=int(lines[i]), column="open_time",
        )  # fmt: skip
    has_close = "close_time" in df and df["close_time"].notna().all()
    raw_dur = df["close_time"].to_numpy() + 1 - ot if has_close else None
    unit = epoch_unit_ns(
        ot, label, lines, "open_time",
        spacing=float(np.median(raw_dur)) if has_close else None,
        option="data.source: ohlcv with data.ohlcv.time_unit",
    )  # fmt: skip
    time_ns = ot.astype(np.int64) * unit
    duration = np.empty(0, np.int64)
    if has_close:
        duration = (df["close_time"].to_numpy().astype(np.int64) + 1) * unit - time_ns
    values = df.drop(
        columns=[c for c in ("open_time", "close_time", "ignore") if c in df]
    )
    values = values[[c for c in values.columns if c in KLINE_COLUMNS]]
    return SourceFrame(label, time_ns, values.reset_index(drop=True), lines, duration)


def read_kline_files(path: str | Path) -> list[SourceFrame]:
    """Parse every kline file under ``path`` (file, folder, zip)."""
    return [
        parse_kline_csv(label, raw)
        for f in list_files(path, KLINE_SUFFIXES, "kline")
        for label, raw in _read_bytes(f)
    ]


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
                        (int(d["T"]), int(d["t"]), float(d["p"]), float(d["q"]),
                         -1 if d["m"] else 1, recv, str(d["s"]),
                         "futures" if "X" in d else "spot", str(f), n)
                    )  # fmt: skip
                except json.JSONDecodeError as exc:
                    raise DataValidationError(
                        f"not valid JSON ({exc.msg} at character {exc.pos})",
                        file=str(f), row=n,
                    ) from None  # fmt: skip
                except KeyError as exc:
                    raise DataValidationError(
                        "trade message lacks this field", file=str(f), row=n,
                        column=exc.args[0],
                    ) from None  # fmt: skip
                except (TypeError, ValueError, AttributeError) as exc:
                    raise DataValidationError(
                        f"malformed trade message ({exc})", file=str(f), row=n
                    ) from None
    if not rows:
        raise DataValidationError(f"no @trade messages found under data.path '{path}'")
    cols = [
        "t_ms", "trade_id", "price", "qty", "side", "recv_time_ns", "symbol",
        "venue", "file", "line",
    ]  # fmt: skip
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
            file=r["file"], row=int(r["line"]), column="t",
        )  # fmt: skip
    df = df.sort_values(["t_ms", "trade_id"], kind="stable").reset_index(drop=True)
    df.insert(0, "time", pd.to_datetime(df.pop("t_ms"), unit="ms", utc=True))
    return df


def bars_from_trades(trades: pd.DataFrame, interval_s: int) -> SourceFrame:
    """Aggregate trades into OHLCV bars of ``interval_s`` seconds.

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
        open=("price", "first"), high=("price", "max"), low=("price", "min"),
        close=("price", "last"), volume=("qty", "sum"), quote_volume=("quote", "sum"),
        trades=("price", "size"), taker_buy_volume=("buy", "sum"),
        taker_buy_quote_volume=("buy_quote", "sum"), line=("line", "first"),
        file=("file", "first"),
    )  # fmt: skip
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
