"""Time parsing of the readers: epoch units, ETH's era, timestamp columns.

Epoch numbers are seconds, milliseconds, microseconds or nanoseconds,
detected per file (:func:`epoch_unit_ns`) or fixed by a parameter; text and
datetime values with an offset are converted to UTC, values without one are
read in a given time zone (:func:`parse_times`; docs/data.md, "Time
stamps"). The time axis of bars (epoch ns of an index, windows) is
:mod:`ethpredict.timeaxis`.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.params import INTERVALS_S
from ethpredict.timeaxis import DAY_NS, NS_PER_S

UNIT_NAMES = {NS_PER_S: "s", 1_000_000: "ms", 1_000: "µs", 1: "ns"}
#: ETH's first trading day: bars before it are no ETH market (``data.allow_any_dates``)
ETH_FIRST_DAY = pd.Timestamp("2015-07-30", tz="UTC")


def era_ns() -> tuple[int, int]:
    """The span plausible bars lie in, epoch ns: ETH's first trading day to
    now + 1 day."""
    return int(ETH_FIRST_DAY.value), time.time_ns() + DAY_NS


def _unit_hint(era: tuple[int, int], option: str) -> str:
    lo, hi = (pd.Timestamp(t, tz="UTC").date() for t in era)
    return f"in no unit do they fall between {lo} and {hi}; set {option}"


def epoch_unit_ns(
    values: np.ndarray,
    label: str,
    lines: np.ndarray,
    column: str,
    spacing: float | None = None,
    option: str = "data.ohlcv.time_unit",
) -> int:
    """Nanoseconds per unit of numeric epoch timestamps. Each value's size
    class (≥1e17 ns, ≥1e14 µs, ≥1e11 ms, else s) must be the first row's (a
    file keeps one unit); the unit is then the one in which the first and
    last time fall in ETH's era (:func:`era_ns`), else the one in which the
    file's step (``spacing``, e.g. ``close_time − open_time``, else the most
    common step between rows) is a bar interval (so milliseconds counted
    from 0 are not read as seconds); else the file is refused naming
    ``option``.

    Args:
        values: The epoch numbers (float64, whole).
        label: The file, for messages (as are ``lines`` and ``column``).
        spacing: The bar length in the file's unit, when known.
        option: The parameter that fixes the unit, named in a refusal.

    Returns:
        Nanoseconds per unit: 1, 1,000, 10^6 or 10^9.

    Raises:
        DataValidationError: A row's size class differs from the first
            row's, or the unit is ambiguous.
    """
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
            file=label,
            row=int(lines[i]),
            column=column,
        )
    era = era_ns()
    lo, hi = float(values.min()), float(values.max())
    for unit in UNIT_NAMES:
        if era[0] <= lo * unit and hi * unit <= era[1]:
            return unit
    if spacing is None and values.size > 1:
        steps, counts = np.unique(np.diff(values), return_counts=True)
        spacing = float(steps[counts.argmax()])
    known = {s * NS_PER_S for s in INTERVALS_S.values()}
    fits = [u for u in UNIT_NAMES if spacing and spacing * u in known]
    if len(fits) == 1:
        return fits[0]
    raise DataValidationError(
        f"the unit of the epoch timestamps ({lo:.0f} to {hi:.0f}) is ambiguous: "
        f"{_unit_hint(era, option)} (s, ms, us or ns)"
        + (
            ""
            if spacing is None
            else f"; their step {spacing:g} is a bar interval "
            f"in {'no unit' if not fits else 'several units'}"
        ),
        file=label,
        row=int(lines[0]),
        column=column,
    )


UNIT_NS = {"s": NS_PER_S, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _not_a_time(value, label: str, row: int, column: str) -> DataValidationError:
    return DataValidationError(
        f"'{value}' is not an ISO date-time (such as 2024-01-05 00:00:00 or "
        "2024-01-05T00:00:00+00:00) or an epoch number",
        file=label,
        row=row,
        column=column,
    )


def parse_times(
    col: pd.Series | pd.Index,
    *,
    label: str,
    column: str,
    lines: np.ndarray,
    unit: str = "auto",
    timezone: str = "UTC",
) -> np.ndarray:
    """Epoch nanoseconds (UTC) of a timestamp column.

    Epoch numbers are UTC by definition; text and datetimes with an offset
    (``Z``, ``+02:00``) are converted to UTC, those without one are read in
    ``timezone``; a column mixing text with and without offsets is refused.

    Args:
        col: The column (numbers, text or datetimes) or a datetime index.
        label: The file, for messages (as are ``column`` and ``lines``, each
            row's line in the file).
        unit: ``s``/``ms``/``us``/``ns`` of epoch numbers; ``auto``: detected
            (:func:`epoch_unit_ns`).
        timezone: The zone of times without an offset (an IANA name).

    Returns:
        int64 nanoseconds since the epoch.

    Raises:
        DataValidationError: A value that is not a time (or an epoch number
            that is not whole and non-negative), an empty one, a column mixing
            text with and without offsets, or an undetectable epoch unit (the
            file, row and column named).
    """
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return (
            col.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy()
            if isinstance(col, pd.Series)
            else col.tz_convert("UTC").as_unit("ns").asi8
        )
    if pd.api.types.is_datetime64_dtype(col.dtype):
        s = pd.Series(col)
        return (
            s.dt.tz_localize(timezone)
            .dt.tz_convert("UTC")
            .dt.as_unit("ns")
            .astype("int64")
            .to_numpy()
        )
    if pd.api.types.is_numeric_dtype(col.dtype):
        v = np.asarray(col, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(v) | (v < 0) | (v != np.floor(v)))
        if bad.size:
            i = int(bad[0])
            raise DataValidationError(
                f"'{v[i]}' is not an epoch timestamp (a whole number of s, ms, µs or ns)",
                file=label,
                row=int(lines[i]),
                column=column,
            )
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
            file=label,
            row=int(lines[i]),
            column=column,
        )
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
            file=label,
            column=column,
        ) from None
    return t.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy()


def interval_name(seconds: int) -> str:
    """``60`` → ``'1m'``; an interval Binance does not publish → ``'<n>s'``."""
    for name, s in INTERVALS_S.items():
        if s == seconds:
            return name
    return f"{seconds}s"
