"""Gaps between bars: found (a missing bar of the interval), refused when
``data.on_gap`` is ``fail`` or longer than ``data.max_gap_fill``, else
filled with flat bars marked ``is_filled`` — never passed off as real.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.plausibility import Limits, first_true
from ethpredict.io.times import interval_name
from ethpredict.timeaxis import NS_PER_S


def find_gaps(
    time_ns: np.ndarray,
    step: int,
    sources,
    labels: np.ndarray,
    lines: np.ndarray,
    on_gap: str,
    limits: Limits,
) -> list[dict]:
    """The gaps between the rows read (all files, in time order).

    Args:
        time_ns: Bar open times of the rows read, epoch ns, increasing.
        step: The bar interval in ns.
        sources: The files read (:class:`~ethpredict.io.tables.SourceFrame`);
            ``labels[i]`` is the position of row ``i``'s file, ``lines[i]``
            its line there.
        on_gap: ``"fail"`` refuses the first gap.
        limits: A gap longer than ``limits.max_gap_fill_ns`` is refused.

    Returns:
        One dict per gap: ``after``/``before`` (the bar times around it),
        ``missing_bars``, and the ``file``, ``line``, ``column`` of the row
        after it.

    Raises:
        DataValidationError: A step that is not a multiple of ``step``
            (mixed intervals), any gap when ``on_gap`` is ``"fail"``, or a
            gap longer than ``limits.max_gap_fill_ns``.
    """
    interval_s = step // NS_PER_S
    d = np.diff(time_ns)
    off = first_true(d % step != 0)
    if off is not None:
        raise DataValidationError(
            f"mixed intervals: {d[off] / NS_PER_S:g} s after the previous bar, "
            f"which is not a multiple of the {interval_name(interval_s)} interval",
            file=sources[labels[off + 1]].label,
            row=int(lines[off + 1]),
            column=sources[labels[off + 1]].time_column,
        )
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
            file=g["file"],
            row=g["line"],
            column=g["column"],
        )

    longest = limits.max_gap_fill_ns
    big = next(
        (g for g in gaps if g["missing_bars"] * step > (longest or np.inf)), None
    )
    if big is not None:
        span = pd.Timedelta(big["missing_bars"] * step)
        raise DataValidationError(
            f"gap of {big['missing_bars']:,} missing bar(s) ({span}) between "
            f"{big['after']} and {big['before']} is longer than data.max_gap_fill "
            f"({pd.Timedelta(longest)}); it is not filled — set data.start / "
            "data.end to leave it out, or raise data.max_gap_fill (or null)",
            file=big["file"],
            row=big["line"],
            column=big["column"],
        )
    return gaps


def fill_gaps(time_ns: np.ndarray, values: pd.DataFrame, step: int):
    """Bars on the full grid: a missing bar is flat at the previous real
    close with volumes 0.

    Args:
        time_ns: Bar open times read, epoch ns, increasing, on the grid.
        values: Their columns (open, high, low, close first).
        step: The bar interval in ns.

    Returns:
        The times of the full grid, its values and ``is_filled``.
    """
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
    return full, pd.DataFrame(arr, columns=values.columns), ~present
