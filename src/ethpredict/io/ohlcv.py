"""Generic OHLCV candles and funding-rate files.

Formats: CSV (``.csv``, ``.csv.gz``), Parquet, Feather, and freqtrade's JSON
candles (a list of ``[ms, open, high, low, close, volume]`` rows); one file or
a folder of them.

**Timestamps** are the bar *open* time, in one column (``time``, or
``open_time``, ``timestamp``, ``date``, ``datetime``, ``ts`` — or any name
given by ``data.ohlcv.columns.time``), or a datetime index. Epoch numbers are
seconds, milliseconds, microseconds or nanoseconds, detected per file (the
unit in which they fall in ETH's era, else the one in which their step is a
bar interval: :func:`~ethpredict.io.bars.epoch_unit_ns`) or fixed by
``data.ohlcv.time_unit``; epoch numbers are
UTC by definition. Text and datetime values **with** an offset (``+00:00``,
``Z``, ``+02:00``) are converted to UTC; values **without** one are read in
``data.ohlcv.timezone`` (default UTC) and converted to UTC. A file mixing
text with and without offsets is refused.

The bars then get the checks of Binance klines (:func:`~ethpredict.io.bars.
check_rows`, :func:`~ethpredict.io.bars.assemble_bars`): finite, positive,
OHLC-consistent values, sorted unique times, one interval, gaps.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.bars import (
    DEFAULT_LIMITS,
    NS_PER_S,
    OPTIONAL_COLUMNS,
    PRICE_COLUMNS,
    Limits,
    SourceFrame,
    check_dates,
    epoch_unit_ns,
    refuse_duplicate_columns,
)
from ethpredict.io.binance import KLINE_COLUMNS, list_files
from ethpredict.io.files import is_number, open_text, read_bytes
from ethpredict.params import OHLCVParams

OHLCV_SUFFIXES = (
    ".csv", ".csv.gz", ".parquet", ".pq", ".feather", ".ftr", ".json", ".json.gz",
)  # fmt: skip
TIME_NAMES = ("time", "open_time", "timestamp", "date", "datetime", "ts")
UNIT_NS = {"s": NS_PER_S, "ms": 1_000_000, "us": 1_000, "ns": 1}


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
            file=label, row=1,
        )  # fmt: skip
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
                file=label, row=1,
            )  # fmt: skip
    else:
        refuse_duplicate_columns(pd.Series(cells), label)
    frame = pd.read_csv(
        io.BytesIO(raw), sep=sep, decimal=dec, header=None if names else "infer",
        names=names, skip_blank_lines=True,
    )  # fmt: skip
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
            file=str(path), row=bad + 1,
        )  # fmt: skip
    frame = pd.DataFrame(rows, columns=["time", *PRICE_COLUMNS, "volume"])
    return frame, 1


def _not_a_time(value, label: str, row: int, column: str) -> DataValidationError:
    return DataValidationError(
        f"'{value}' is not an ISO date-time (such as 2024-01-05 00:00:00 or "
        "2024-01-05T00:00:00+00:00) or an epoch number",
        file=label, row=row, column=column,
    )  # fmt: skip


def parse_times(
    col: pd.Series | pd.Index, *, label: str, column: str, lines: np.ndarray,
    unit: str = "auto", timezone: str = "UTC",
) -> np.ndarray:  # fmt: skip
    """Epoch nanoseconds (UTC) of a timestamp column by the module's rule."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return (
            col.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy()
            if isinstance(col, pd.Series)
            else col.tz_convert("UTC").as_unit("ns").asi8
        )
    if pd.api.types.is_datetime64_dtype(col.dtype):
        s = pd.Series(col)
        return s.dt.tz_localize(timezone).dt.tz_convert("UTC").dt.as_unit("ns") \
            .astype("int64").to_numpy()  # fmt: skip
    if pd.api.types.is_numeric_dtype(col.dtype):
        v = np.asarray(col, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(v) | (v < 0) | (v != np.floor(v)))
        if bad.size:
            i = int(bad[0])
            raise DataValidationError(
                f"'{v[i]}' is not an epoch timestamp (a whole number of s, ms, µs or ns)",
                file=label, row=int(lines[i]), column=column,
            )  # fmt: skip
        per = (
            UNIT_NS[unit] if unit != "auto" else epoch_unit_ns(v, label, lines, column)
        )
        return v.astype(np.int64) * per
    text = pd.Series(col).astype("string").str.strip()
    empty = np.flatnonzero(text.isna().to_numpy() | (text == "").to_numpy())
    if empty.size:
        raise DataValidationError(
            "timestamp is empty", file=label, row=int(lines[empty[0]]), column=column
        )
    # an offset: Z or ±hh:mm / ±hhmm after the time of day
    has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True).to_numpy()
    if has_offset.any() and not has_offset.all():
        i = int(np.flatnonzero(has_offset != has_offset[0])[0])
        if pd.isna(pd.to_datetime(text.iat[i], format="ISO8601", errors="coerce")):
            raise _not_a_time(text.iat[i], label, int(lines[i]), column)
        with_, without = ("with", "without") if has_offset[0] else ("without", "with")
        raise DataValidationError(
            f"timestamp '{text.iat[i]}' is {without} a UTC offset but the file's first "
            f"row is {with_} one; the time zone would be ambiguous",
            file=label, row=int(lines[i]), column=column,
        )  # fmt: skip
    try:
        if has_offset.all():
            t = pd.to_datetime(text, format="ISO8601", utc=True)
        else:
            t = pd.to_datetime(text, format="ISO8601")
            t = t.dt.tz_localize(timezone, ambiguous="raise", nonexistent="raise")
    except (ValueError, TypeError) as exc:
        ok = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
        bad = np.flatnonzero(ok.isna().to_numpy())
        if bad.size:
            i = int(bad[0])
            raise _not_a_time(text.iat[i], label, int(lines[i]), column) from None
        raise DataValidationError(
            f"timestamps cannot be placed in time zone {timezone} ({exc})",
            file=label, column=column,
        ) from None  # fmt: skip
    return t.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy()


def _not_in_file(frame: pd.DataFrame, names: dict[str, str], key: str, label: str):
    return DataValidationError(
        f"column '{names[key]}' (data.ohlcv.columns.{key}) is not in the file; it "
        f"has {', '.join(map(str, frame.columns))}",
        file=label, column=names[key],
    )  # fmt: skip


def _find_time(
    frame: pd.DataFrame, names: dict[str, str], label: str, candidates=TIME_NAMES
) -> str | None:
    if "time" in names:
        if names["time"] not in frame:
            raise _not_in_file(frame, names, "time", label)
        return names["time"]
    lower = {str(c).lower(): c for c in frame.columns}
    return next((lower[n] for n in candidates if n in lower), None)


FLOAT32_RTOL = 1e-6  # float32 keeps ~7 digits: 3000.123 is stored as 3000.1230469


def _snap_float32(v: dict[str, np.ndarray]) -> None:
    """High and low within :data:`FLOAT32_RTOL` of the open/close they must
    bound, set to it (in place): float32 rounding, not a bad bar."""
    top, bottom = np.maximum(v["open"], v["close"]), np.minimum(v["open"], v["close"])
    near = (v["high"] < top) & (v["high"] >= top * (1 - FLOAT32_RTOL))
    v["high"] = np.where(near, top, v["high"])
    near = (v["low"] > bottom) & (v["low"] <= bottom * (1 + FLOAT32_RTOL))
    v["low"] = np.where(near, bottom, v["low"])


def frame_to_source(
    frame: pd.DataFrame, label: str, first_line: int, p: OHLCVParams
) -> SourceFrame:
    """Map the columns, parse the times and return a :class:`SourceFrame`."""
    if isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.reset_index(names="time" if frame.index.name is None else None)
    refuse_duplicate_columns(frame.columns, label, None)
    names = dict(p.columns)
    time_col = _find_time(frame, names, label)
    if time_col is None:
        raise DataValidationError(
            f"no timestamp column: looked for {', '.join(TIME_NAMES)}; the file has "
            f"{', '.join(map(str, frame.columns))} — set data.ohlcv.columns.time",
            file=label,
        )  # fmt: skip
    lower = {str(c).lower(): c for c in frame.columns}
    picked: dict[str, str] = {}
    for std in [*PRICE_COLUMNS, "volume", *OPTIONAL_COLUMNS]:
        src = names.get(std, lower.get(std))
        if src is None or src not in frame:
            if std in names:
                raise _not_in_file(frame, names, std, label)
            if std in OPTIONAL_COLUMNS:
                continue
            raise DataValidationError(
                f"missing column '{std}'; the file has "
                f"{', '.join(map(str, frame.columns))} — map it with "
                f"data.ohlcv.columns.{std}",
                file=label, column=std,
            )  # fmt: skip
        picked[std] = src
    lines = np.arange(first_line, first_line + len(frame))
    values = {}
    for std, src in picked.items():
        col = frame[src]
        flags = (
            np.ones(len(col), bool) if pd.api.types.is_bool_dtype(col.dtype)
            else col.map(lambda x: isinstance(x, bool | np.bool_)).to_numpy(bool)
            if col.dtype == object else np.zeros(len(col), bool)
        )  # fmt: skip
        if flags.any():
            i = int(flags.argmax())
            raise DataValidationError(
                f"'{col.iat[i]}' is a boolean (True/False); expected a number — is "
                f"data.ohlcv.columns.{std} the right column?",
                file=label, row=int(lines[i]), column=str(src),
            )  # fmt: skip
        num = pd.to_numeric(col, errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy() & col.notna().to_numpy())
        if bad.size:
            i = int(bad[0])
            raise DataValidationError(
                f"'{col.iat[i]}' is not a number", file=label, row=int(lines[i]),
                column=str(src),
            )  # fmt: skip
        values[std] = num.to_numpy(np.float64)
    if any(frame[picked[c]].dtype == np.float32 for c in PRICE_COLUMNS):
        _snap_float32(values)
    time_ns = parse_times(
        frame[time_col], label=label, column=str(time_col), lines=lines,
        unit=p.time_unit, timezone=p.timezone,
    )  # fmt: skip
    return SourceFrame(label, time_ns, pd.DataFrame(values), lines,
                       time_column=str(time_col))  # fmt: skip


def read_ohlcv_files(path: str | Path, p: OHLCVParams) -> list[SourceFrame]:
    """Every OHLCV file under ``path`` (a file or a folder)."""
    out = []
    for f in list_files(path, OHLCV_SUFFIXES, "OHLCV"):
        frame, first = read_table(f, p)
        if frame.empty:
            raise DataValidationError("file has no rows", file=str(f))
        out.append(frame_to_source(frame, str(f), first, p))
    return out


FUNDING_NAMES = ("funding_rate", "last_funding_rate", "fundingrate", "rate", "open")
#: the settlement time: the usual names, then Binance's (archive, REST)
FUNDING_TIME_NAMES = (*TIME_NAMES, "calc_time", "fundingtime")


def read_funding(
    path: str | Path, p: OHLCVParams, limits: Limits = DEFAULT_LIMITS
) -> pd.Series:
    """Funding rates by settlement time (UTC), from one file or a folder.

    The rate is the first of the columns ``funding_rate``,
    ``last_funding_rate`` (Binance's archive), ``fundingRate``, ``rate``,
    ``open`` (freqtrade's layout: the rate in ``open``). A rate is a fraction
    per settlement (0.0001 = 1 bp): longs pay it when positive; one beyond
    ``± limits.max_funding_rate`` (``data.max_funding_rate``) is refused as
    looking like percent, a settlement outside ETH's era as implausible.
    """
    parts = []
    for f in list_files(path, OHLCV_SUFFIXES, "funding-rate"):
        frame, first = read_table(f, p)
        label = str(f)
        if isinstance(frame.index, pd.DatetimeIndex):
            frame = frame.reset_index(names="time")
        time_col = _find_time(frame, {}, label, FUNDING_TIME_NAMES)
        lower = {str(c).lower(): c for c in frame.columns}
        rate_col = next((lower[n] for n in FUNDING_NAMES if n in lower), None)
        if time_col is None or rate_col is None:
            raise DataValidationError(
                "expected a time column and a rate column ("
                f"{', '.join(FUNDING_NAMES)}); the file has "
                f"{', '.join(map(str, frame.columns))}",
                file=label,
            )  # fmt: skip
        lines = np.arange(first, first + len(frame))
        rate = pd.to_numeric(frame[rate_col], errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(rate))
        if bad.size:
            i = int(bad[0])
            raise DataValidationError(
                f"funding rate '{frame[rate_col].iat[i]}' is not a number",
                file=label, row=int(lines[i]), column=str(rate_col),
            )  # fmt: skip
        bound = limits.max_funding_rate
        bad = np.flatnonzero(np.abs(rate) > bound)
        if bad.size:
            i = int(bad[0])
            raise DataValidationError(
                f"funding rate {rate[i]:g} is beyond ±{bound:g} per settlement "
                f"(data.max_funding_rate): it looks like percent — a rate is a "
                f"fraction (0.0001 = 0.01 %); divide the column by 100, or raise "
                "data.max_funding_rate",
                file=label, row=int(lines[i]), column=str(rate_col),
            )  # fmt: skip
        t = parse_times(
            frame[time_col], label=label, column=str(time_col), lines=lines,
            unit=p.time_unit, timezone=p.timezone,
        )  # fmt: skip
        check_dates(t, label, lines, str(time_col), limits)
        parts.append(pd.Series(rate, index=t))
    s = pd.concat(parts).sort_index()
    s = s[~s.index.duplicated(keep="first")]
    s.index = pd.to_datetime(s.index, unit="ns", utc=True)
    return s


def funding_per_bar(
    funding: pd.Series, time_ns: np.ndarray, step_ns: int
) -> np.ndarray:
    """The rate paid at each bar's close: a settlement at ``T`` falls to the bar
    whose span ``(open, open + step]`` holds ``T`` (the position held at
    ``T`` is the one after that bar) — or, in a hole of the bars (stale bars
    dropped), to the last bar before it, whose position is held through the
    hole; settlements outside the bars are dropped, several in one bar add
    up."""
    out = np.zeros(time_ns.size)
    if not len(funding) or not time_ns.size:
        return out
    t = funding.index.as_unit("ns").asi8
    pos = np.searchsorted(time_ns, t, side="left") - 1
    inside = (pos >= 0) & (
        (pos < time_ns.size - 1) | (t <= time_ns[np.clip(pos, 0, None)] + step_ns)
    )
    np.add.at(out, pos[inside], funding.to_numpy()[inside])
    return out
