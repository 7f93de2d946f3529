"""Table layouts the readers share: column names, file suffixes, the parsed
form of one file (:class:`SourceFrame`), and reading a table file (CSV with
its delimiter, decimal comma and missing header detected; Parquet, Feather,
freqtrade's JSON candles) — docs/data.md, "Formats recognised".
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.files import is_number, open_text, read_bytes
from ethpredict.params import OHLCVParams

PRICE_COLUMNS = ["open", "high", "low", "close"]
REQUIRED_COLUMNS = ["open_time", *PRICE_COLUMNS, "volume"]
OPTIONAL_COLUMNS = [
    "quote_volume",
    "trades",
    "taker_buy_volume",
    "taker_buy_quote_volume",
]
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
KLINE_SUFFIXES = (".csv", ".csv.gz", ".zip")
TRADE_SUFFIXES = (".jsonl", ".jsonl.gz", ".json.gz")
OHLCV_SUFFIXES = (
    ".csv",
    ".csv.gz",
    ".parquet",
    ".pq",
    ".feather",
    ".ftr",
    ".json",
    ".json.gz",
)
TIME_NAMES = ("time", "open_time", "timestamp", "date", "datetime", "ts")


@dataclass
class SourceFrame:
    """Rows read from one file, before assembly.

    Attributes:
        label: The file name (``archive.zip:member.csv`` for zip members).
        time_ns: Bar open time, int64 nanoseconds since the epoch (UTC).
        values: Numeric columns (float64), same length as ``time_ns``.
        lines: 1-based line number of each row in the file.
        duration_ns: ``close_time - open_time`` per row where known, else empty.
        time_column: The file's name of the time column (for messages).
    """

    label: str
    time_ns: np.ndarray
    values: pd.DataFrame
    lines: np.ndarray
    duration_ns: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    time_column: str = "open_time"


def refuse_duplicate_columns(names, label: str, row: int | None = 1) -> None:
    """Refuse a header naming one column twice (letter case ignored): which
    of the two is meant cannot be known (pandas would rename the second
    ``close.1`` and use the first)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(map(str, names)):
        key = name.strip().lower()
        if key in seen:
            raise DataValidationError(
                f"the header names column '{name}' twice (columns {seen[key] + 1} "
                f"and {i + 1}); which is meant cannot be told — rename or drop one "
                "in the file",
                file=label,
                row=row,
                column=name,
            )
        seen[key] = i


def file_format(path: Path, fmt: str = "auto") -> str:
    """``csv`` / ``parquet`` / ``feather`` / ``json`` of a file."""
    if fmt != "auto":
        return fmt
    name = path.name.lower()
    for suffixes, kind in (
        ((".csv", ".csv.gz"), "csv"),
        ((".parquet", ".pq"), "parquet"),
        ((".feather", ".ftr"), "feather"),
        ((".json", ".json.gz"), "json"),
    ):
        if name.endswith(suffixes):
            return kind
    raise DataValidationError(
        f"unknown file type; expected one of {', '.join(OHLCV_SUFFIXES)} "
        "(or set data.ohlcv.format)",
        file=str(path),
    )


#: positional columns of a CSV without a header row, by its number of columns
HEADERLESS = {
    6: ["time", *PRICE_COLUMNS, "volume"],  # freqtrade, most exports
    7: ["time", *PRICE_COLUMNS, "volume", "trades"],  # Kraken's OHLCVT files
    8: ["time", *PRICE_COLUMNS, "vwap", "volume", "trades"],  # Kraken's REST OHLC
    12: KLINE_COLUMNS,  # Binance klines
}
DELIMITERS = (",", ";", "\t", "|")


def _delimiter(header: str, label: str) -> str:
    """The one of :data:`DELIMITERS` in the first line; ``,`` when none is."""
    found = [d for d in DELIMITERS if d in header]
    if len(found) > 1:
        shown = " and ".join(repr(d) for d in found)
        raise DataValidationError(
            f"the first line holds both {shown}: which separates the columns is "
            "ambiguous; set data.ohlcv.delimiter",
            file=label,
            row=1,
        )
    return found[0] if found else ","


def read_csv(path: Path, delimiter: str = "auto", decimal: str = "auto"):
    """A CSV (gzip by content, BOM stripped; delimiter, decimal comma and a
    missing header row detected) as a frame and the line of its first row."""
    raw, label = read_bytes(path), str(path)
    lines = [ln for ln in raw.splitlines() if ln.strip()]
    if not lines:
        raise DataValidationError("file is empty", file=label)
    first = lines[0].decode("utf-8", "replace")
    sep = _delimiter(first, label) if delimiter == "auto" else delimiter
    dec = decimal
    if dec == "auto":
        body = lines[1] if len(lines) > 1 else lines[0]
        comma = sep != "," and re.search(rb"\d,\d", body) is not None
        dec = "," if comma else "."
    cells = [c.strip().strip('"') for c in first.split(sep)]
    names, first_line = None, 2
    if all(is_number(c.replace(dec, ".")) for c in cells):
        names, first_line = HEADERLESS.get(len(cells)), 1
        if names is None:
            raise DataValidationError(
                f"the first row is all numbers (no header) with {len(cells)} "
                "columns; known header-less layouts have 6 (time, open, high, low, "
                "close, volume), 7 (Kraken: … volume, trades), 8 (Kraken: … close, "
                "vwap, volume, trades) or 12 (Binance klines) — add a header row",
                file=label,
                row=1,
            )
    else:
        refuse_duplicate_columns(pd.Series(cells), label)
    frame = pd.read_csv(
        io.BytesIO(raw),
        sep=sep,
        decimal=dec,
        header=None if names else "infer",
        names=names,
        skip_blank_lines=True,
    )
    return frame, first_line


def read_table(path: Path, p: OHLCVParams) -> tuple[pd.DataFrame, int]:
    """The file as a frame and the file line of its first row (CSV: 2 with a
    header; other formats count rows from 1)."""
    kind = file_format(path, p.format)
    try:
        if kind == "csv":
            return read_csv(path, p.delimiter, p.decimal)
        if kind == "parquet":
            return pd.read_parquet(path), 1
        if kind == "feather":
            return pd.read_feather(path), 1
        with open_text(path) as fh:
            rows = json.load(fh)
    except (
        OSError,
        ValueError,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
    ) as exc:
        if isinstance(exc, DataValidationError):
            raise
        raise DataValidationError(
            f"cannot be read as {kind} ({str(exc).splitlines()[0][:200]})",
            file=str(path),
        ) from None
    if not isinstance(rows, list) or (rows and not isinstance(rows[0], list)):
        raise DataValidationError(
            "expected freqtrade's JSON candles: a list of [time, open, high, low, "
            "close, volume] rows",
            file=str(path),
        )
    width = {len(r) for r in rows}
    if width and width != {6}:
        bad = next(i for i, r in enumerate(rows) if len(r) != 6)
        raise DataValidationError(
            f"{len(rows[bad])} values; a freqtrade candle has 6 "
            "(time, open, high, low, close, volume)",
            file=str(path),
            row=bad + 1,
        )
    frame = pd.DataFrame(rows, columns=["time", *PRICE_COLUMNS, "volume"])
    return frame, 1


def not_in_file(frame: pd.DataFrame, names: dict[str, str], key: str, label: str):
    return DataValidationError(
        f"column '{names[key]}' (data.ohlcv.columns.{key}) is not in the file; it "
        f"has {', '.join(map(str, frame.columns))}",
        file=label,
        column=names[key],
    )


def find_time(
    frame: pd.DataFrame, names: dict[str, str], label: str, candidates=TIME_NAMES
) -> str | None:
    if "time" in names:
        if names["time"] not in frame:
            raise not_in_file(frame, names, "time", label)
        return names["time"]
    lower = {str(c).lower(): c for c in frame.columns}
    return next((lower[n] for n in candidates if n in lower), None)
