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

import time
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
    values: np.ndarray, label: str, lines: np.ndarray, column: str,
    spacing: float | None = None, option: str = "data.ohlcv.time_unit",
) -> int:  # fmt: skip
    """Nanoseconds per unit of numeric epoch timestamps. Each value's size
    class (≥1e17 ns, ≥1e14 µs, ≥1e11 ms, else s) must be the first row's (a
    file keeps one unit); the unit is then the one in which the first and
    last time fall in ETH's era (:func:`era_ns`), else the one in which the
    file's step (``spacing``, e.g. ``close_time − open_time``, else the most
    common step between rows) is a bar interval (so milliseconds counted
    from 0 are not read as seconds); else the file is refused naming
    ``option``."""
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
        + ("" if spacing is None else f"; their step {spacing:g} is a bar interval "
           f"in {'no unit' if not fits else 'several units'}"),
        file=label, row=int(lines[0]), column=column,
    )  # fmt: skip


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


def unobserved(bars: pd.DataFrame) -> np.ndarray:
    """Bars that are no observation of the market: gap-filled (``is_filled``)
    or in a halt (``is_stale``); a flag column that is absent counts as False."""
    out = np.zeros(len(bars), dtype=bool)
    for col in ("is_filled", "is_stale"):
        if col in bars:
            out |= bars[col].to_numpy(dtype=bool)
    return out


def on_grid(index: pd.DatetimeIndex) -> np.ndarray | None:
    """Positions of the bars on their regular grid (step: the smallest step
    between bars), or ``None`` when there is no hole (bars dropped, e.g. by
    ``data.on_stale: drop``)."""
    t = epoch_ns(index)
    d = np.diff(t)
    if not d.size or (d == d.min()).all():
        return None
    return (t - t[0]) // d.min()


def unobserved_change(bars: pd.DataFrame) -> np.ndarray:
    """Bars whose change from the previous bar is no one-bar observation: the
    bar or the one before is unobserved (:func:`unobserved`), or bars are
    missing in between (a hole in the index); always the first bar."""
    miss = unobserved(bars)
    out = miss | np.r_[True, miss[:-1]][: miss.size]
    pos = on_grid(bars.index)
    if pos is not None:
        out[1:] |= np.diff(pos) > 1
    return out


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


@dataclass(frozen=True)
class Limits:
    """Plausibility bounds of bars (docs/data.md, "Plausibility"), from the
    ``data`` parameters of the same names; ``None`` switches a bound off.

    Attributes:
        any_dates: Accept bars outside ETH's era (:func:`era_ns`).
        max_price: Largest plausible price (quote currency).
        max_bar_jump: Largest |log return| of a bar's open, high, low or close
            from the previous bar's close.
        max_gap_fill_ns: Longest gap filled with flat bars (ns of missing bars).
        max_zero_volume_share: Largest share of zero-volume bars read.
        max_funding_rate: Largest |funding rate| per settlement (a fraction).
    """

    any_dates: bool = False
    max_price: float | None = 1e9
    max_bar_jump: float | None = 0.5
    max_gap_fill_ns: int | None = DAY_NS
    max_zero_volume_share: float | None = 0.5
    max_funding_rate: float = 0.01

    @classmethod
    def of(cls, p) -> Limits:
        """The limits a ``DataParams`` sets."""
        gap = p.max_gap_fill
        return cls(
            any_dates=p.allow_any_dates, max_price=p.max_price,
            max_bar_jump=p.max_bar_jump,
            max_gap_fill_ns=None if gap is None else int(gap.total_seconds() * NS_PER_S),
            max_zero_volume_share=p.max_zero_volume_share,
            max_funding_rate=p.max_funding_rate,
        )  # fmt: skip


DEFAULT_LIMITS = Limits()


def check_dates(
    time_ns: np.ndarray, label: str, lines: np.ndarray, column: str, limits: Limits
) -> None:
    """Refuse the first time outside ETH's era (unless ``limits.any_dates``)."""
    if limits.any_dates or not time_ns.size:
        return
    lo, hi = era_ns()
    bad = _first((time_ns < lo) | (time_ns > hi))
    if bad is not None:
        raise DataValidationError(
            f"bar dated {pd.Timestamp(int(time_ns[bad]), tz='UTC')} is outside ETH's "
            f"trading era ({ETH_FIRST_DAY.date()} to now + 1 day); a corrupt row or "
            "a wrong epoch unit? — set data.allow_any_dates: true to accept it",
            file=label, row=int(lines[bad]), column=column,
        )  # fmt: skip


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
                file=label, row=row, column=name,
            )  # fmt: skip
        seen[key] = i


def interval_name(seconds: int) -> str:
    """``60`` → ``'1m'``; an interval Binance does not publish → ``'<n>s'``."""
    for name, s in INTERVALS_S.items():
        if s == seconds:
            return name
    return f"{seconds}s"


def _first(mask: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def check_rows(src: SourceFrame, limits: Limits = DEFAULT_LIMITS) -> None:
    """Row-level checks of one file: values present, positive, below
    ``limits.max_price``, OHLC-consistent, times in ETH's era, sorted and
    unique. Raises on the first bad row."""
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
        if limits.max_price is not None:
            bad = _first(v[col].to_numpy() > limits.max_price)
            if bad is not None:
                raise DataValidationError(
                    f"price {v[col].iat[bad]:g} is absurd: above data.max_price "
                    f"({limits.max_price:g}) — a corrupt row or a wrong unit? Raise "
                    "data.max_price (or null) to accept it",
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
    check_dates(src.time_ns, label, lines, src.time_column, limits)
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
    ``is_filled``). Vectorised; slow reference: a loop over the bars (tests)."""
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
    """``[first, last]`` bar open times (ISO 8601, UTC, inclusive) of each run
    of ``mask``."""
    first, last = runs(mask)
    iso = pd.DatetimeIndex(
        pd.to_datetime(np.r_[time_ns[first], time_ns[last]], unit="ns", utc=True)
    ).map(pd.Timestamp.isoformat)
    return [[iso[i], iso[first.size + i]] for i in range(first.size)]


def describe_ranges(ranges: list[list[str]], shown: int = 5) -> str:
    """``'a – b, c – d … and 3 more'`` (the first ``shown`` ranges)."""
    text = ", ".join(f"{a} – {b}" if a != b else a for a, b in ranges[:shown])
    return text + (f" … and {len(ranges) - shown} more" if len(ranges) > shown else "")


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


def _fill_gaps(time_ns: np.ndarray, values: pd.DataFrame, step: int):
    """Bars on the full grid: a missing bar is flat at the previous real
    close with volumes 0. Returns times, values and ``is_filled``."""
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


def _check_market(values, lines, labels, sources, limits: Limits) -> None:
    """Across the rows read (all files, in time order): no bar jumps more
    than ``limits.max_bar_jump`` from the previous close; at most
    ``limits.max_zero_volume_share`` of the bars have zero volume."""

    def at(i, column):
        src = sources[labels[i]]
        return {"file": src.label, "row": int(lines[i]), "column": column}

    if limits.max_bar_jump is not None and len(values) > 1:
        prev = values["close"].to_numpy()[:-1]
        jumps = np.abs(np.log(values[PRICE_COLUMNS].to_numpy()[1:] / prev[:, None]))
        row = _first(jumps.max(axis=1) > limits.max_bar_jump)
        if row is not None:
            j = int(jumps[row].argmax())
            col = PRICE_COLUMNS[j]
            price = values[col].iat[row + 1]
            raise DataValidationError(
                f"{col} {price:g} is a one-bar jump of log return "
                f"{np.log(price / prev[row]):+.3f} from the previous bar's close "
                f"{prev[row]:g} (line {lines[row]}), beyond data.max_bar_jump "
                f"({limits.max_bar_jump:g}) — a corrupt row? Raise data.max_bar_jump "
                "(or null) to accept it",
                **at(row + 1, col),
            )  # fmt: skip
    share = limits.max_zero_volume_share
    zero = values["volume"].to_numpy() == 0
    if share is not None and zero.mean() > share:
        raise DataValidationError(
            f"{int(zero.sum())} of {zero.size} bars ({zero.mean():.0%}) have zero "
            f"volume, more than data.max_zero_volume_share ({share:g}): a market "
            "without trading is not one to trade in as if liquid — raise "
            "data.max_zero_volume_share (or null) to load it anyway",
            **at(int(zero.argmax()), "volume"),
        )  # fmt: skip


def _where(sources, labels, lines, real_ns, t_ns) -> dict:
    """File, line and column of the row read for bar time ``t_ns``."""
    i = int(np.searchsorted(real_ns, t_ns))
    src = sources[labels[i]]
    return {"file": src.label, "row": int(lines[i]), "column": src.time_column}


def _halts(values, time_ns, is_filled, min_bars, on_stale, where) -> np.ndarray:
    """``is_stale`` of the bars; raises when ``on_stale`` is ``fail`` and
    there are any (``where(t_ns)`` locates the first in its file)."""
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

    _check_market(values, lines, labels, sources, limits)
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
            file=big["file"], row=big["line"], column=big["column"],
        )  # fmt: skip
    real_ns = time_ns  # the rows read, for the lines of messages
    is_filled = np.zeros(time_ns.size, dtype=bool)
    if gaps:
        time_ns, values, is_filled = _fill_gaps(time_ns, values, step)
    is_stale = _halts(values, time_ns, is_filled, stale_min_bars, on_stale,
                      lambda i: _where(sources, labels, lines, real_ns, i))  # fmt: skip
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
    return Assembled(bars=bars, interval_s=int(interval_s), gaps=gaps, files=files,
                     stale_bars=stale_bars, stale_ranges=time_ranges(time_ns, is_stale),
                     filled_ranges=time_ranges(time_ns, is_filled))  # fmt: skip
