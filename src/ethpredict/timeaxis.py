"""The time axis of bars: epoch nanoseconds of an index, UTC day boundaries,
the bar length, positions on the regular grid.

Everything that places bars in time (data assembly, features, market making,
backtesting) imports these from here, never from a reader or from each other.
Times are int64 nanoseconds since the epoch (UTC); an index is a
``DatetimeIndex`` (bar open times).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethpredict.memo import memo

NS_PER_S = 1_000_000_000
DAY_NS = 86_400 * NS_PER_S


def _index(index) -> pd.DatetimeIndex:
    return index if isinstance(index, pd.DatetimeIndex) else pd.DatetimeIndex(index)


def epoch_ns(index) -> np.ndarray:
    """Epoch nanoseconds of datetimes, whatever their unit (pandas 3 varies
    it: a ``date_range`` is in µs, parsed timestamps often in ns).

    Args:
        index: A ``DatetimeIndex`` or anything that converts to one (a
            datetime column).

    Returns:
        int64 ns since the epoch, read-only; cached per ``DatetimeIndex``
        (an immutable object: :mod:`ethpredict.memo`).
    """
    index = _index(index)

    def make():  # lazily: the conversion is what the memo saves
        return index.as_unit("ns").asi8.copy()

    return memo((index,), ("ns",), make)


def utc_day_ends(index) -> np.ndarray:
    """Positions of the last timestamp of each UTC day.

    Args:
        index: A ``DatetimeIndex`` or anything that converts to one (sorted
            times).

    Returns:
        int64 positions in ``index``, one per UTC day that has a timestamp,
        in time order; read-only, cached per ``DatetimeIndex``.
    """
    index = _index(index)

    def make():
        day = epoch_ns(index) // DAY_NS
        return (
            np.r_[np.flatnonzero(np.diff(day)), len(day) - 1] if len(day) else day[:0]
        )

    return memo((index,), ("day_ends",), make)


def bar_seconds(bars) -> float:
    """The bar length in seconds: the most common step of the first 1,000
    bars; 60 for fewer than two bars.

    Args:
        bars: A frame indexed by bar open time, or the index itself.

    Returns:
        The bar length in seconds (float).
    """
    index = bars.index if isinstance(bars, pd.DataFrame | pd.Series) else bars
    d = np.diff(epoch_ns(index)[: min(len(index), 1000)]) / 1e9
    return float(pd.Series(d).mode().iloc[0]) if d.size else 60.0


def on_grid(index: pd.DatetimeIndex) -> np.ndarray | None:
    """Positions of the bars on their regular grid (step: the smallest step
    between bars).

    Args:
        index: The bars' open times (sorted).

    Returns:
        int64 grid positions, 0 at the first bar, or ``None`` when there is
        no hole (bars dropped, e.g. by ``data.on_stale: drop``).
    """
    t = epoch_ns(index)
    d = np.diff(t)
    if not d.size or (d == d.min()).all():
        return None
    return (t - t[0]) // d.min()


def in_window(time_ns: np.ndarray, start_ns: int | None, end_ns: int | None):
    """Mask of the times in ``[start_ns, end_ns)`` (an open side when None).

    Args:
        time_ns: Epoch nanoseconds.
        start_ns: First time kept (epoch ns), inclusive; None: no bound.
        end_ns: End of the window (epoch ns), exclusive; None: no bound.

    Returns:
        A bool mask shaped as ``time_ns``.
    """
    keep = np.ones(time_ns.size, bool)
    if start_ns is not None:
        keep &= time_ns >= start_ns
    if end_ns is not None:
        keep &= time_ns < end_ns
    return keep
