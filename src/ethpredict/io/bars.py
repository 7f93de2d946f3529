"""Validation and assembly of OHLCV bars from one or more source files.

Every check names the file, the line and the column at fault and runs before
anything is written. The result is one frame indexed by bar open time (UTC),
sorted and unique, with gaps either refused or filled with flat bars marked
``is_filled`` — never passed off as real.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.memo import memo
from ethpredict.params import INTERVALS_S

PRICE_COLUMNS = ["open", "high", "low", "close"]
REQUIRED_COLUMNS = ["open_time", *PRICE_COLUMNS, "volume"]
OPTIONAL_COLUMNS = [
    "quote_volume",
    "trades",
    "taker_buy_volume",
    "taker_buy_quote_volume",
]
NS_PER_S = 1_000_000_000
DAY_NS = 86_400 * NS_PER_S


UNIT_NAMES = {NS_PER_S: "s", 1_000_000: "ms", 1_000: "µs", 1: "ns"}


def epoch_unit_ns(
    values: np.ndarray, label: str, lines: np.ndarray, column: str
) -> int:
    """Nanoseconds per unit of numeric epoch timestamps, detected by size
    (≥1e17 ns, ≥1e14 µs, ≥1e11 ms, else s); a file must keep one unit."""
    mag = np.select(
        [values >= 1e17, values >= 1e14, values >= 1e11],
        [1, 1_000, 1_000_000],
        NS_PER_S,
    )
    bad = np.flatnonzero(mag != mag[0])
    if bad.size:
        i = int(bad[0])
        raise DataValidationError(
            f"timestamp {values[i]:.0f} is in {UNIT_NAMES[int(mag[i])]} but the "
            f"file's first row is in {UNIT_NAMES[int(mag[0])]}",
            file=label, row=int(lines[i]), column=column,
        )  # fmt: skip
    return int(mag[0])


def epoch_ns(index) -> np.ndarray:
    """Epoch nanoseconds of datetimes, whatever their unit (pandas 3 varies
    it: a ``date_range`` is in µs, parsed timestamps often in ns). Read-only;
    cached per ``DatetimeIndex``."""
    if not isinstance(index, pd.DatetimeIndex):
        index = pd.DatetimeIndex(index)

    def make():  # lazily: the conversion is what the memo saves
        return index.as_unit("ns").asi8.copy()

    return memo((index,), ("ns",), make)


def utc_day_ends(index) -> np.ndarray:
    """Positions of the last timestamp of each UTC day (read-only; cached)."""
    if not isinstance(index, pd.DatetimeIndex):
        index = pd.DatetimeIndex(index)

    def make():
        day = epoch_ns(index) // DAY_NS
        return (
            np.r_[np.flatnonzero(np.diff(day)), len(day) - 1] if len(day) else day[:0]
        )

    return memo((index,), ("day_ends",), make)


def in_window(time_ns: np.ndarray, start_ns: int | None, end_ns: int | None):
    """Mask of the times in ``[start_ns, end_ns)`` (an open side when None)."""
    keep = np.ones(time_ns.size, bool)
    if start_ns is not None:
        keep &= time_ns >= start_ns
    if end_ns is not None:
        keep &= time_ns < end_ns
    return keep


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


def interval_name(seconds: int) -> str:
    """``60`` → ``'1m'``; an interval Binance does not publish → ``'<n>s'``."""
    for name, s in INTERVALS_S.items():
        if s == seconds:
            return name
    return f"{seconds}s"


def _first(mask: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def check_rows(src: SourceFrame) -> None:
    """Row-level checks of one file: values present, positive, OHLC-consistent,
    times sorted and unique. Raises on the first bad row."""
    v, lines, label = src.values, src.lines, src.label
    for col in REQUIRED_COLUMNS[1:]:
        bad = _first(~np.isfinite(v[col].to_numpy()))
        if bad is not None:
            raw = v[col].iat[bad]
            what = "is empty" if pd.isna(raw) else f"is {raw}"
            raise DataValidationError(
                f"{what}; expected a finite number",
                file=label, row=int(lines[bad]), column=col,
            )  # fmt: skip
    for col in PRICE_COLUMNS:
        bad = _first(v[col].to_numpy() <= 0)
        if bad is not None:
            raise DataValidationError(
                f"price {v[col].iat[bad]} is not > 0",
                file=label, row=int(lines[bad]), column=col,
            )  # fmt: skip
    o, h, lo, c = (v[k].to_numpy() for k in PRICE_COLUMNS)
    for col, mask, rule in (
        ("high", h < np.maximum(o, c), "high must be ≥ open and close"),
        ("low", lo > np.minimum(o, c), "low must be ≤ open and close"),
    ):
        bad = _first(mask)
        if bad is not None:
            raise DataValidationError(
                f"{rule} (open {o[bad]}, high {h[bad]}, low {lo[bad]}, "
                f"close {c[bad]})",
                file=label, row=int(lines[bad]), column=col,
            )  # fmt: skip
    for col in ["volume", *OPTIONAL_COLUMNS]:
        if col in v:
            bad = _first(v[col].to_numpy() < 0)
            if bad is not None:
                raise DataValidationError(
                    f"{v[col].iat[bad]} is negative; expected ≥ 0",
                    file=label, row=int(lines[bad]), column=col,
                )  # fmt: skip
    if "taker_buy_volume" in v:
        tb, vol = v["taker_buy_volume"].to_numpy(), v["volume"].to_numpy()
        bad = _first(tb > vol * (1 + 1e-9) + 1e-12)
        if bad is not None:
            raise DataValidationError(
                f"taker buy volume {tb[bad]} exceeds volume {vol[bad]}",
                file=label, row=int(lines[bad]), column="taker_buy_volume",
            )  # fmt: skip
    d = np.diff(src.time_ns)
    bad = _first(d <= 0)
    if bad is not None:
        t0, t1 = (pd.Timestamp(src.time_ns[i], tz="UTC") for i in (bad, bad + 1))
        if d[bad] == 0:
            msg = f"duplicate bar {t1} (also at line {lines[bad]})"
        else:
            msg = f"rows are not sorted by time: {t1} comes after {t0} (line {lines[bad]})"
        raise DataValidationError(
            msg, file=label, row=int(lines[bad + 1]), column=src.time_column
        )


def _file_interval(src: SourceFrame) -> int | None:
    """The bar length of one file in ns: close_time − open_time when given,
    else the most common step between rows; ``None`` for a 1-row file."""
    if src.duration_ns.size:
        dur = src.duration_ns
        values, counts = np.unique(dur, return_counts=True)
        step = int(values[counts.argmax()])
        bad = _first(dur != step)
        if bad is not None:
            raise DataValidationError(
                f"mixed intervals: this bar lasts {(dur[bad]) / NS_PER_S:g} s, "
                f"the file's bars last {step / NS_PER_S:g} s",
                file=src.label, row=int(src.lines[bad]), column="close_time",
            )  # fmt: skip
        return step
    if src.time_ns.size < 2:
        return None
    values, counts = np.unique(np.diff(src.time_ns), return_counts=True)
    return int(values[counts.argmax()])


@dataclass
class Assembled:
    """Validated bars and what was found on the way."""

    bars: pd.DataFrame
    interval_s: int
    gaps: list[dict] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)


def assemble_bars(
    sources: list[SourceFrame],
    *,
    on_gap: str,
    expected_interval: str | None = None,
) -> Assembled:
    """Check each file, order files by time, check across files, handle gaps.

    Args:
        sources: Parsed files (any order).
        on_gap: ``"fail"`` raises on the first missing bar; ``"flag"`` inserts
            flat bars (OHLC = previous close, volumes 0) marked ``is_filled``.
        expected_interval: If given (``"1m"``…), the data must have it.

    Returns:
        The bars with a UTC ``DatetimeIndex`` named ``time`` (bar open time).
    """
    sources = [s for s in sources if s.time_ns.size]
    if not sources:
        raise DataValidationError("no bars found: every input file is empty")
    for src in sources:
        check_rows(src)
    sources.sort(key=lambda s: int(s.time_ns[0]))

    steps = {s.label: _file_interval(s) for s in sources}
    known = {k: v for k, v in steps.items() if v is not None}
    if not known:
        raise DataValidationError(
            f"{sources[0].label}: a single bar without close_time; the bar "
            "interval cannot be detected"
        )
    if len(set(known.values())) > 1:
        desc = ", ".join(
            f"{k}: {interval_name(v // NS_PER_S)}" for k, v in known.items()
        )
        raise DataValidationError(f"mixed intervals across files ({desc})")
    step = next(iter(known.values()))
    if step <= 0 or step % NS_PER_S:
        raise DataValidationError(
            f"{sources[0].label}: bar interval of {step / NS_PER_S:g} s is not a "
            "whole number of seconds"
        )
    interval_s = step // NS_PER_S
    if expected_interval and INTERVALS_S[expected_interval] != interval_s:
        raise DataValidationError(
            f"{sources[0].label}: bars are {interval_name(interval_s)} but "
            f"data.interval is '{expected_interval}'"
        )

    for prev, nxt in pairwise(sources):
        if nxt.time_ns[0] <= prev.time_ns[-1]:
            clash = int(np.searchsorted(prev.time_ns, nxt.time_ns[0]))
            raise DataValidationError(
                f"overlaps {prev.label} (bar {pd.Timestamp(nxt.time_ns[0], tz='UTC')}"
                f" is also at its line {prev.lines[min(clash, len(prev.lines) - 1)]})",
                file=nxt.label, row=int(nxt.lines[0]), column=nxt.time_column,
            )  # fmt: skip

    time_ns = np.concatenate([s.time_ns for s in sources])
    values = pd.concat([s.values for s in sources], ignore_index=True)
    lines = np.concatenate([s.lines for s in sources])
    labels = np.concatenate([np.full(s.time_ns.size, i) for i, s in enumerate(sources)])
    for col in OPTIONAL_COLUMNS:
        if col not in values:
            values[col] = np.nan
    values = values[["open", "high", "low", "close", "volume", *OPTIONAL_COLUMNS]]

    d = np.diff(time_ns)
    off = _first(d % step != 0)
    if off is not None:
        raise DataValidationError(
            f"mixed intervals: {d[off] / NS_PER_S:g} s after the previous bar, "
            f"which is not a multiple of the {interval_name(interval_s)} interval",
            file=sources[labels[off + 1]].label, row=int(lines[off + 1]),
            column=sources[labels[off + 1]].time_column,
        )  # fmt: skip
    gap_idx = np.flatnonzero(d > step)
    gaps = [
        {
            "after": str(pd.Timestamp(time_ns[i], tz="UTC")),
            "before": str(pd.Timestamp(time_ns[i + 1], tz="UTC")),
            "missing_bars": int(d[i] // step - 1),
            "file": sources[labels[i + 1]].label,
            "line": int(lines[i + 1]),
            "column": sources[labels[i + 1]].time_column,
        }
        for i in gap_idx
    ]
    if gaps and on_gap == "fail":
        g = gaps[0]
        raise DataValidationError(
            f"gap of {g['missing_bars']} missing bar(s) between {g['after']} and "
            f"{g['before']} ({len(gaps)} gap(s) in all); data.on_gap is 'fail' — "
            "use --params=data.on_gap=flag to fill gaps with flat bars marked "
            "is_filled",
            file=g["file"], row=g["line"], column=g["column"],
        )  # fmt: skip

    is_filled = np.zeros(time_ns.size, dtype=bool)
    if gaps:
        full = np.arange(time_ns[0], time_ns[-1] + step, step, dtype=np.int64)
        pos = ((time_ns - time_ns[0]) // step).astype(np.int64)
        arr = np.full((full.size, values.shape[1]), np.nan)
        arr[pos] = values.to_numpy()
        present = np.zeros(full.size, dtype=bool)
        present[pos] = True
        # previous real close, carried forward into the filled bars
        last_real = np.maximum.accumulate(np.where(present, np.arange(full.size), 0))
        prev_close = arr[last_real, 3]
        for j in range(4):
            arr[~present, j] = prev_close[~present]
        for j in range(4, arr.shape[1]):
            arr[~present, j] = 0.0
        values = pd.DataFrame(arr, columns=values.columns)
        time_ns, is_filled = full, ~present

    bars = values.astype("float64")
    bars["is_filled"] = is_filled
    bars.index = pd.DatetimeIndex(
        pd.to_datetime(time_ns, unit="ns", utc=True), name="time"
    )
    files = [
        {
            "file": s.label,
            "bars": int(s.time_ns.size),
            "first": str(pd.Timestamp(s.time_ns[0], tz="UTC")),
            "last": str(pd.Timestamp(s.time_ns[-1], tz="UTC")),
        }
        for s in sources
    ]
    return Assembled(bars=bars, interval_s=int(interval_s), gaps=gaps, files=files)
