"""Trading halts in bars: runs of zero-volume bars at a frozen price
(``is_stale``), found, described by their time ranges, and refused when
``data.on_stale`` is ``fail``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.tables import PRICE_COLUMNS


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last position (inclusive) of each run of ``True``."""
    d = np.diff(np.r_[False, mask, False].astype(np.int8))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1


def stale_mask(
    values: pd.DataFrame, is_filled: np.ndarray, min_bars: int
) -> np.ndarray:
    """Bars of a trading halt: in a run of at least ``min_bars`` consecutive
    bars with zero volume and open = high = low = close = the previous bar's
    close. Gap-filled bars count towards a run but are not marked (they keep
    ``is_filled``). Vectorised; slow reference: a loop over the bars (tests).

    Args:
        values: The bars' columns (open, high, low, close, volume).
        is_filled: Which bars are gap-filled.
        min_bars: The shortest run that is a halt, in bars.

    Returns:
        A bool mask, one per bar: True on a halt's bars that are not
        gap-filled.
    """
    o, h, lo, c, vol = (values[k].to_numpy() for k in (*PRICE_COLUMNS, "volume"))
    prev = np.r_[np.nan, c[:-1]]
    flat = (vol == 0) & (o == prev) & (h == prev) & (lo == prev) & (c == prev)
    first, last = runs(flat)
    keep = last - first + 1 >= min_bars
    marks = np.zeros(flat.size + 1, np.int64)
    np.add.at(marks, first[keep], 1)
    np.add.at(marks, last[keep] + 1, -1)
    return (np.cumsum(marks[:-1]) > 0) & ~is_filled


def time_ranges(time_ns: np.ndarray, mask: np.ndarray) -> list[list[str]]:
    """The time ranges of the runs of ``mask``.

    Args:
        time_ns: Bar open times, epoch nanoseconds.
        mask: A bool mask, one per bar.

    Returns:
        ``[first, last]`` bar open times (ISO 8601 strings, UTC, inclusive)
        of each run of ``True``.
    """
    first, last = runs(mask)
    iso = pd.DatetimeIndex(
        pd.to_datetime(np.r_[time_ns[first], time_ns[last]], unit="ns", utc=True)
    ).map(pd.Timestamp.isoformat)
    return [[iso[i], iso[first.size + i]] for i in range(first.size)]


def describe_ranges(ranges: list[list[str]], shown: int = 5) -> str:
    """``'a – b, c – d … and 3 more'`` (the first ``shown`` ranges)."""
    text = ", ".join(f"{a} – {b}" if a != b else a for a, b in ranges[:shown])
    return text + (f" … and {len(ranges) - shown} more" if len(ranges) > shown else "")


def halts(values, time_ns, is_filled, min_bars, on_stale, where) -> np.ndarray:
    """``is_stale`` of the bars.

    Args:
        values: The bars' columns (open, high, low, close, volume).
        time_ns: Bar open times, epoch nanoseconds.
        is_filled: Which bars are gap-filled.
        min_bars: The shortest run that is a halt, in bars (0 or None: no
            halts are looked for).
        on_stale: ``data.on_stale`` (``"fail"`` refuses any halt).
        where: ``where(t_ns)`` gives the error's ``file``/``row``/``column``
            keywords for a bar time in epoch ns.

    Returns:
        A bool mask, one per bar (:func:`stale_mask`).

    Raises:
        DataValidationError: ``on_stale`` is ``"fail"`` and there are stale
            bars (located at the first).
    """
    if not min_bars:
        return np.zeros(time_ns.size, dtype=bool)
    is_stale = stale_mask(values, is_filled, min_bars)
    if on_stale == "fail" and is_stale.any():
        ranges = time_ranges(time_ns, is_stale)
        raise DataValidationError(
            f"{int(is_stale.sum())} stale bar(s) (zero volume at a frozen price "
            f"for ≥ {min_bars} bars: a halt) in {len(ranges)} run(s): "
            f"{describe_ranges(ranges)}; data.on_stale is 'fail' — use "
            "--params=data.on_stale=flag to keep them marked is_stale, "
            "data.on_stale=drop to remove them, or a larger data.stale_min_bars",
            **where(time_ns[is_stale.argmax()]),
        )
    return is_stale
