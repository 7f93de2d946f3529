"""Reader of Binance klines: the public kline CSV layout (12 columns, see
:data:`KLINE_COLUMNS`), with or without a header row, numbers in any
precision, optional columns empty; as one file, a folder of files, or the
monthly/daily ``.zip`` files of the public data archive (``.csv.gz`` too).
Timestamps in ms or µs (the archive switched spot data to µs in 2025) are
detected per file. Trade stream captures are :mod:`ethpredict.io.trades`.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.files import (
    BOM,
    is_number,
    list_files,
    read_bytes,
)
from ethpredict.io.tables import (
    KLINE_COLUMNS,
    KLINE_SUFFIXES,
    REQUIRED_COLUMNS,
    SourceFrame,
    refuse_duplicate_columns,
)
from ethpredict.io.times import epoch_unit_ns

_HEADER_ALIASES = {
    "open time": "open_time",
    "close time": "close_time",
    "count": "trades",
    "number_of_trades": "trades",
    "quote_asset_volume": "quote_volume",
    "taker_buy_base_asset_volume": "taker_buy_volume",
    "taker_buy_quote_asset_volume": "taker_buy_quote_volume",
}


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
                "not a valid zip archive"
                if label == str(path)
                else f"corrupt compressed data ({exc}); download the archive again"
            )
            raise DataValidationError(what, file=label) from None
    return [(str(path), read_bytes(path))]


def _diagnose(label: str, raw: bytes, names: list[str], skip: int) -> None:
    """Slow path after the fast parser failed: find the first bad cell."""
    text = pd.read_csv(
        io.BytesIO(raw),
        header=None,
        skiprows=skip,
        names=names,
        dtype=str,
        skip_blank_lines=False,
        keep_default_na=False,
    )
    for col in names:
        cells = text[col].str.strip()
        parsed = pd.to_numeric(cells.where(cells != ""), errors="coerce")
        bad = np.flatnonzero(parsed.isna().to_numpy() & (cells != "").to_numpy())
        if bad.size:
            i = int(bad[0])
            raise DataValidationError(
                f"'{cells.iat[i]}' is not a number",
                file=label,
                row=i + 1 + skip,
                column=col,
            )


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
                file=label,
                row=1,
                column=missing[0],
            )
    else:
        if len(fields) < len(REQUIRED_COLUMNS):
            raise DataValidationError(
                f"{len(fields)} column(s); a Binance kline row has 12, of which "
                f"the first 6 ({', '.join(REQUIRED_COLUMNS)}) are required",
                file=label,
                row=1,
                column=KLINE_COLUMNS[len(fields)],
            )
        if len(fields) > len(KLINE_COLUMNS):
            raise DataValidationError(
                f"{len(fields)} columns; a Binance kline row has 12", file=label, row=1
            )
        names = KLINE_COLUMNS[: len(fields)]
    skip = 1 if has_header else 0
    try:
        df = pd.read_csv(
            io.BytesIO(raw),
            header=None,
            skiprows=skip,
            names=names,
            dtype="float64",
            skip_blank_lines=False,
            engine="c",
        )
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if not m:
            raise DataValidationError(f"unreadable CSV ({exc})", file=label) from None
        raise DataValidationError(
            f"{m.group(3)} fields; expected {m.group(1)} like the rows above",
            file=label,
            row=int(m.group(2)),
        ) from None
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
            file=label,
            row=int(lines[i]),
            column="open_time",
        )
    has_close = "close_time" in df and df["close_time"].notna().all()
    raw_dur = df["close_time"].to_numpy() + 1 - ot if has_close else None
    unit = epoch_unit_ns(
        ot,
        label,
        lines,
        "open_time",
        spacing=float(np.median(raw_dur)) if has_close else None,
        option="data.source: ohlcv with data.ohlcv.time_unit",
    )
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
