"""Validation and assembly of OHLCV bars from one or more source files.

Every check names the file, the line and the column at fault and runs before
anything is written. The result is one frame indexed by bar open time (UTC),
sorted and unique, with gaps either refused or filled with flat bars marked
``is_filled`` — never passed off as real — and trading halts (runs of
zero-volume bars at a frozen price) marked ``is_stale``, dropped or refused.
Implausible data (dates outside ETH's era, absurd prices, one-bar jumps, a
gap too long to fill, a market without volume) is refused by the bounds of
:class:`Limits` (``data.allow_any_dates``, ``data.max_*``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.gaps import fill_gaps, find_gaps
from ethpredict.io.halts import describe_ranges, halts, runs, stale_mask, time_ranges
from ethpredict.io.plausibility import (
    DEFAULT_LIMITS,
    Limits,
    check_dates,
    check_market,
    check_rows,
    first_true,
)
from ethpredict.io.tables import (
    OPTIONAL_COLUMNS,
    PRICE_COLUMNS,
    REQUIRED_COLUMNS,
    SourceFrame,
    refuse_duplicate_columns,
)
from ethpredict.io.times import ETH_FIRST_DAY, epoch_unit_ns, era_ns, interval_name
from ethpredict.params import INTERVALS_S
from ethpredict.timeaxis import (
    DAY_NS,
    NS_PER_S,
    epoch_ns,
    in_window,
    on_grid,
    utc_day_ends,
)
from ethpredict.volatility import unobserved, unobserved_change

#: names that lived here before the split (docs, notebooks and other
#: modules import them from here): their homes are io.tables, io.times,
#: io.plausibility, io.halts, ethpredict.timeaxis and ethpredict.volatility
__all__ = [
    "DAY_NS",
    "DEFAULT_LIMITS",
    "ETH_FIRST_DAY",
    "NS_PER_S",
    "OPTIONAL_COLUMNS",
    "PRICE_COLUMNS",
    "REQUIRED_COLUMNS",
    "Assembled",
    "Limits",
    "SourceFrame",
    "assemble_bars",
    "check_dates",
    "check_rows",
    "describe_ranges",
    "epoch_ns",
    "epoch_unit_ns",
    "era_ns",
    "in_window",
    "interval_name",
    "on_grid",
    "refuse_duplicate_columns",
    "runs",
    "stale_mask",
    "time_ranges",
    "unobserved",
    "unobserved_change",
    "utc_day_ends",
]


@dataclass
class Assembled:
    """Validated bars and what was found on the way.

    ``stale_ranges`` and ``filled_ranges`` are the ``[first, last]`` bar open
    times of each run of stale (found; dropped when ``on_stale`` is ``drop``)
    and gap-filled bars; ``stale_bars`` counts the stale bars found.
    """

    bars: pd.DataFrame
    interval_s: int
    gaps: list[dict] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    stale_bars: int = 0
    stale_ranges: list[list[str]] = field(default_factory=list)
    filled_ranges: list[list[str]] = field(default_factory=list)


def _file_interval(src: SourceFrame) -> int | None:
    """The bar length of one file in ns: close_time − open_time when given,
    else the most common step between rows; ``None`` for a 1-row file."""
    if src.duration_ns.size:
        dur = src.duration_ns
        values, counts = np.unique(dur, return_counts=True)
        step = int(values[counts.argmax()])
        bad = first_true(dur != step)
        if bad is not None:
            raise DataValidationError(
                f"mixed intervals: this bar lasts {(dur[bad]) / NS_PER_S:g} s, "
                f"the file's bars last {step / NS_PER_S:g} s",
                file=src.label,
                row=int(src.lines[bad]),
                column="close_time",
            )
        return step
    if src.time_ns.size < 2:
        return None
    values, counts = np.unique(np.diff(src.time_ns), return_counts=True)
    return int(values[counts.argmax()])


def _where(sources, labels, lines, real_ns, t_ns) -> dict:
    """File, line and column of the row read for bar time ``t_ns``."""
    i = int(np.searchsorted(real_ns, t_ns))
    src = sources[labels[i]]
    return {"file": src.label, "row": int(lines[i]), "column": src.time_column}


def assemble_bars(
    sources: list[SourceFrame],
    *,
    on_gap: str,
    expected_interval: str | None = None,
    stale_min_bars: int | None = 3,
    on_stale: str = "flag",
    limits: Limits = DEFAULT_LIMITS,
) -> Assembled:
    """Check each file, order files by time, check across files, handle gaps
    and halts.

    Args:
        sources: Parsed files (any order).
        on_gap: ``"fail"`` raises on the first missing bar; ``"flag"`` inserts
            flat bars (OHLC = previous close, volumes 0) marked ``is_filled``.
        expected_interval: If given (``"1m"``…), the data must have it.
        stale_min_bars: Runs of at least this many zero-volume bars at a
            frozen price are stale (:func:`stale_mask`); ``None``: none are.
        on_stale: ``"flag"`` marks them ``is_stale``; ``"drop"`` removes them
            (the index then has holes); ``"fail"`` raises naming the file,
            the count and the time ranges.
        limits: Plausibility bounds (:class:`Limits`); a gap longer than
            ``limits.max_gap_fill_ns`` is refused before anything is filled.

    Returns:
        The bars with a UTC ``DatetimeIndex`` named ``time`` (bar open time).
    """
    sources = [s for s in sources if s.time_ns.size]
    if not sources:
        raise DataValidationError("no bars found: every input file is empty")
    for src in sources:
        check_rows(src, limits)
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
                file=nxt.label,
                row=int(nxt.lines[0]),
                column=nxt.time_column,
            )

    time_ns = np.concatenate([s.time_ns for s in sources])
    values = pd.concat([s.values for s in sources], ignore_index=True)
    lines = np.concatenate([s.lines for s in sources])
    labels = np.concatenate([np.full(s.time_ns.size, i) for i, s in enumerate(sources)])
    for col in OPTIONAL_COLUMNS:
        if col not in values:
            values[col] = np.nan
    values = values[["open", "high", "low", "close", "volume", *OPTIONAL_COLUMNS]]

    check_market(values, lines, labels, sources, limits)
    gaps = find_gaps(time_ns, step, sources, labels, lines, on_gap, limits)
    real_ns = time_ns  # the rows read, for the lines of messages
    is_filled = np.zeros(time_ns.size, dtype=bool)
    if gaps:
        time_ns, values, is_filled = fill_gaps(time_ns, values, step)
    is_stale = halts(
        values,
        time_ns,
        is_filled,
        stale_min_bars,
        on_stale,
        lambda i: _where(sources, labels, lines, real_ns, i),
    )
    bars = values.astype("float64")
    bars["is_filled"] = is_filled
    bars["is_stale"] = is_stale
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
    stale_bars = int(is_stale.sum())
    if stale_bars and on_stale == "drop":
        bars = bars.loc[~is_stale]
    return Assembled(
        bars=bars,
        interval_s=int(interval_s),
        gaps=gaps,
        files=files,
        stale_bars=stale_bars,
        stale_ranges=time_ranges(time_ns, is_stale),
        filled_ranges=time_ranges(time_ns, is_filled),
    )
