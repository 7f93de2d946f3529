"""Generic OHLCV candles.

Formats: CSV (``.csv``, ``.csv.gz``), Parquet, Feather, and freqtrade's JSON
candles (a list of ``[ms, open, high, low, close, volume]`` rows); one file or
a folder of them.

**Timestamps** are the bar *open* time, in one column (``time``, or
``open_time``, ``timestamp``, ``date``, ``datetime``, ``ts`` — or any name
given by ``data.ohlcv.columns.time``), or a datetime index. Epoch numbers are
seconds, milliseconds, microseconds or nanoseconds, detected per file (the
unit in which they fall in ETH's era, else the one in which their step is a
bar interval: :func:`~ethpredict.io.times.epoch_unit_ns`) or fixed by
``data.ohlcv.time_unit``; epoch numbers are
UTC by definition. Text and datetime values **with** an offset (``+00:00``,
``Z``, ``+02:00``) are converted to UTC; values **without** one are read in
``data.ohlcv.timezone`` (default UTC) and converted to UTC. A file mixing
text with and without offsets is refused.

Times are parsed by :func:`~ethpredict.io.times.parse_times`, tables read by
:func:`~ethpredict.io.tables.read_table`. The bars then get the checks of
Binance klines (:func:`~ethpredict.io.plausibility.check_rows`,
:func:`~ethpredict.io.bars.assemble_bars`): finite, positive, OHLC-consistent
values, sorted unique times, one interval, gaps. Funding-rate files are
:mod:`ethpredict.io.funding`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.files import list_files
from ethpredict.io.tables import (
    OHLCV_SUFFIXES,
    OPTIONAL_COLUMNS,
    PRICE_COLUMNS,
    TIME_NAMES,
    SourceFrame,
    find_time,
    not_in_file,
    read_table,
    refuse_duplicate_columns,
)
from ethpredict.io.times import parse_times
from ethpredict.params import OHLCVParams

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
    time_col = find_time(frame, names, label)
    if time_col is None:
        raise DataValidationError(
            f"no timestamp column: looked for {', '.join(TIME_NAMES)}; the file has "
            f"{', '.join(map(str, frame.columns))} — set data.ohlcv.columns.time",
            file=label,
        )
    lower = {str(c).lower(): c for c in frame.columns}
    picked: dict[str, str] = {}
    for std in [*PRICE_COLUMNS, "volume", *OPTIONAL_COLUMNS]:
        src = names.get(std, lower.get(std))
        if src is None or src not in frame:
            if std in names:
                raise not_in_file(frame, names, std, label)
            if std in OPTIONAL_COLUMNS:
                continue
            raise DataValidationError(
                f"missing column '{std}'; the file has "
                f"{', '.join(map(str, frame.columns))} — map it with "
                f"data.ohlcv.columns.{std}",
                file=label,
                column=std,
            )
        picked[std] = src
    lines = np.arange(first_line, first_line + len(frame))
    values = {}
    for std, src in picked.items():
        col = frame[src]
        flags = (
            np.ones(len(col), bool)
            if pd.api.types.is_bool_dtype(col.dtype)
            else col.map(lambda x: isinstance(x, bool | np.bool_)).to_numpy(bool)
            if col.dtype == object
            else np.zeros(len(col), bool)
        )
        if flags.any():
            i = int(flags.argmax())
            raise DataValidationError(
                f"'{col.iat[i]}' is a boolean (True/False); expected a number — is "
                f"data.ohlcv.columns.{std} the right column?",
                file=label,
                row=int(lines[i]),
                column=str(src),
            )
        num = pd.to_numeric(col, errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy() & col.notna().to_numpy())
        if bad.size:
            i = int(bad[0])
            raise DataValidationError(
                f"'{col.iat[i]}' is not a number",
                file=label,
                row=int(lines[i]),
                column=str(src),
            )
        values[std] = num.to_numpy(np.float64)
    if any(frame[picked[c]].dtype == np.float32 for c in PRICE_COLUMNS):
        _snap_float32(values)
    time_ns = parse_times(
        frame[time_col],
        label=label,
        column=str(time_col),
        lines=lines,
        unit=p.time_unit,
        timezone=p.timezone,
    )
    return SourceFrame(
        label, time_ns, pd.DataFrame(values), lines, time_column=str(time_col)
    )


def read_ohlcv_files(path: str | Path, p: OHLCVParams) -> list[SourceFrame]:
    """Every OHLCV file under ``path`` (a file or a folder)."""
    out = []
    for f in list_files(path, OHLCV_SUFFIXES, "OHLCV"):
        frame, first = read_table(f, p)
        if frame.empty:
            raise DataValidationError("file has no rows", file=str(f))
        out.append(frame_to_source(frame, str(f), first, p))
    return out
