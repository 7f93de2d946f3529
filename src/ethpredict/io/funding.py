"""Funding-rate files of a perpetual: the rate per settlement, and the rate
paid at each bar's close. Formats as OHLCV files (:mod:`ethpredict.io.tables`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.files import list_files
from ethpredict.io.plausibility import DEFAULT_LIMITS, Limits, check_dates
from ethpredict.io.tables import OHLCV_SUFFIXES, TIME_NAMES, find_time, read_table
from ethpredict.io.times import parse_times
from ethpredict.params import OHLCVParams

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

    Args:
        path: A funding-rate file or a folder of them.
        p: The OHLCV reading parameters (``time_unit``, ``timezone``).
        limits: The plausibility limits.

    Returns:
        The rates (fractions per settlement, not percent or bp) on a sorted
        UTC ``DatetimeIndex`` of settlement times; a duplicate time keeps its
        first rate.

    Raises:
        DataValidationError: No time or rate column, a rate that is not a
            number or is beyond the bound, or an implausible date.
    """
    parts = []
    for f in list_files(path, OHLCV_SUFFIXES, "funding-rate"):
        frame, first = read_table(f, p)
        label = str(f)
        if isinstance(frame.index, pd.DatetimeIndex):
            frame = frame.reset_index(names="time")
        time_col = find_time(frame, {}, label, FUNDING_TIME_NAMES)
        lower = {str(c).lower(): c for c in frame.columns}
        rate_col = next((lower[n] for n in FUNDING_NAMES if n in lower), None)
        if time_col is None or rate_col is None:
            raise DataValidationError(
                "expected a time column and a rate column ("
                f"{', '.join(FUNDING_NAMES)}); the file has "
                f"{', '.join(map(str, frame.columns))}",
                file=label,
            )
        lines = np.arange(first, first + len(frame))
        rate = pd.to_numeric(frame[rate_col], errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(rate))
        if bad.size:
            i = int(bad[0])
            raise DataValidationError(
                f"funding rate '{frame[rate_col].iat[i]}' is not a number",
                file=label,
                row=int(lines[i]),
                column=str(rate_col),
            )
        bound = limits.max_funding_rate
        bad = np.flatnonzero(np.abs(rate) > bound)
        if bad.size:
            i = int(bad[0])
            raise DataValidationError(
                f"funding rate {rate[i]:g} is beyond ±{bound:g} per settlement "
                f"(data.max_funding_rate): it looks like percent — a rate is a "
                f"fraction (0.0001 = 0.01 %); divide the column by 100, or raise "
                "data.max_funding_rate",
                file=label,
                row=int(lines[i]),
                column=str(rate_col),
            )
        t = parse_times(
            frame[time_col],
            label=label,
            column=str(time_col),
            lines=lines,
            unit=p.time_unit,
            timezone=p.timezone,
        )
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
    up.

    Args:
        funding: Rates (a fraction per settlement; longs pay when positive)
            by settlement time (UTC).
        time_ns: Bar open times, epoch ns, increasing.
        step_ns: The bar interval in ns.

    Returns:
        The rate paid at each bar's close (0 where none is).
    """
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
