"""Plausibility of bars (docs/data.md, "Plausibility"): values present,
positive, OHLC-consistent, below an absurd price, dated in ETH's era, sorted
and unique per file; across files no implausible one-bar jump and not too
many bars without volume. Bounds are :class:`Limits` (``data.allow_any_dates``,
``data.max_*``); every refusal names the file, the line and the column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.tables import (
    OPTIONAL_COLUMNS,
    PRICE_COLUMNS,
    REQUIRED_COLUMNS,
    SourceFrame,
)
from ethpredict.io.times import ETH_FIRST_DAY, era_ns
from ethpredict.timeaxis import DAY_NS, NS_PER_S


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
            any_dates=p.allow_any_dates,
            max_price=p.max_price,
            max_bar_jump=p.max_bar_jump,
            max_gap_fill_ns=None
            if gap is None
            else int(gap.total_seconds() * NS_PER_S),
            max_zero_volume_share=p.max_zero_volume_share,
            max_funding_rate=p.max_funding_rate,
        )


DEFAULT_LIMITS = Limits()


def first_true(mask: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def check_dates(
    time_ns: np.ndarray, label: str, lines: np.ndarray, column: str, limits: Limits
) -> None:
    """Refuse the first time outside ETH's era (unless ``limits.any_dates``)."""
    if limits.any_dates or not time_ns.size:
        return
    lo, hi = era_ns()
    bad = first_true((time_ns < lo) | (time_ns > hi))
    if bad is not None:
        raise DataValidationError(
            f"bar dated {pd.Timestamp(int(time_ns[bad]), tz='UTC')} is outside ETH's "
            f"trading era ({ETH_FIRST_DAY.date()} to now + 1 day); a corrupt row or "
            "a wrong epoch unit? — set data.allow_any_dates: true to accept it",
            file=label,
            row=int(lines[bad]),
            column=column,
        )


def check_rows(src: SourceFrame, limits: Limits = DEFAULT_LIMITS) -> None:
    """Row-level checks of one file: values present, positive, below
    ``limits.max_price``, OHLC-consistent, times in ETH's era, sorted and
    unique. Raises on the first bad row."""
    v, lines, label = src.values, src.lines, src.label
    for col in REQUIRED_COLUMNS[1:]:
        bad = first_true(~np.isfinite(v[col].to_numpy()))
        if bad is not None:
            raw = v[col].iat[bad]
            what = "is empty" if pd.isna(raw) else f"is {raw}"
            raise DataValidationError(
                f"{what}; expected a finite number",
                file=label,
                row=int(lines[bad]),
                column=col,
            )
    for col in PRICE_COLUMNS:
        bad = first_true(v[col].to_numpy() <= 0)
        if bad is not None:
            raise DataValidationError(
                f"price {v[col].iat[bad]} is not > 0",
                file=label,
                row=int(lines[bad]),
                column=col,
            )
        if limits.max_price is not None:
            bad = first_true(v[col].to_numpy() > limits.max_price)
            if bad is not None:
                raise DataValidationError(
                    f"price {v[col].iat[bad]:g} is absurd: above data.max_price "
                    f"({limits.max_price:g}) — a corrupt row or a wrong unit? Raise "
                    "data.max_price (or null) to accept it",
                    file=label,
                    row=int(lines[bad]),
                    column=col,
                )
    o, h, lo, c = (v[k].to_numpy() for k in PRICE_COLUMNS)
    for col, mask, rule in (
        ("high", h < np.maximum(o, c), "high must be ≥ open and close"),
        ("low", lo > np.minimum(o, c), "low must be ≤ open and close"),
    ):
        bad = first_true(mask)
        if bad is not None:
            raise DataValidationError(
                f"{rule} (open {o[bad]}, high {h[bad]}, low {lo[bad]}, close {c[bad]})",
                file=label,
                row=int(lines[bad]),
                column=col,
            )
    for col in ["volume", *OPTIONAL_COLUMNS]:
        if col in v:
            bad = first_true(v[col].to_numpy() < 0)
            if bad is not None:
                raise DataValidationError(
                    f"{v[col].iat[bad]} is negative; expected ≥ 0",
                    file=label,
                    row=int(lines[bad]),
                    column=col,
                )
    if "taker_buy_volume" in v:
        tb, vol = v["taker_buy_volume"].to_numpy(), v["volume"].to_numpy()
        bad = first_true(tb > vol * (1 + 1e-9) + 1e-12)
        if bad is not None:
            raise DataValidationError(
                f"taker buy volume {tb[bad]} exceeds volume {vol[bad]}",
                file=label,
                row=int(lines[bad]),
                column="taker_buy_volume",
            )
    check_dates(src.time_ns, label, lines, src.time_column, limits)
    d = np.diff(src.time_ns)
    bad = first_true(d <= 0)
    if bad is not None:
        t0, t1 = (pd.Timestamp(src.time_ns[i], tz="UTC") for i in (bad, bad + 1))
        if d[bad] == 0:
            msg = f"duplicate bar {t1} (also at line {lines[bad]})"
        else:
            msg = f"rows are not sorted by time: {t1} comes after {t0} (line {lines[bad]})"
        raise DataValidationError(
            msg, file=label, row=int(lines[bad + 1]), column=src.time_column
        )


def check_market(values, lines, labels, sources, limits: Limits) -> None:
    """Across the rows read (all files, in time order): no bar jumps more
    than ``limits.max_bar_jump`` from the previous close; at most
    ``limits.max_zero_volume_share`` of the bars have zero volume."""

    def at(i, column):
        src = sources[labels[i]]
        return {"file": src.label, "row": int(lines[i]), "column": column}

    if limits.max_bar_jump is not None and len(values) > 1:
        prev = values["close"].to_numpy()[:-1]
        jumps = np.abs(np.log(values[PRICE_COLUMNS].to_numpy()[1:] / prev[:, None]))
        row = first_true(jumps.max(axis=1) > limits.max_bar_jump)
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
            )
    share = limits.max_zero_volume_share
    zero = values["volume"].to_numpy() == 0
    if share is not None and zero.mean() > share:
        raise DataValidationError(
            f"{int(zero.sum())} of {zero.size} bars ({zero.mean():.0%}) have zero "
            f"volume, more than data.max_zero_volume_share ({share:g}): a market "
            "without trading is not one to trade in as if liquid — raise "
            "data.max_zero_volume_share (or null) to load it anyway",
            **at(int(zero.argmax()), "volume"),
        )
