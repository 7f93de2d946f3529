"""An exchange reference for the bars (``data.reference``).

A second market-data source — Binance klines, generic OHLCV candles or Binance
trade captures, read with the same readers as ``data.source`` — joined
causally to the bars' clock: each bar gets the last reference price *known
strictly before its open time*. A trade is known at its time. A candle's close
is the price of its last trade, which happened *before* the candle's end
(open + its interval; Binance's ``close_time`` is that end − 1 ms): so a bar
opening at or after a candle's end may use it — clocks that line up (12-s
candles on 12-s blocks, minutes on minutes) would otherwise read one whole
candle stale. Gap-filled and halted candles
(``is_filled``, ``is_stale`` after assembly) are no observations.

Age: how old the price a bar gets is at the bar's open (open − known time);
the manifest records its median, 95th percentile and maximum.

Staleness: when the last observation is older than ``max_age`` at a bar's
open (``data.reference.max_age_bars`` of the reference's own bars, or
``data.reference.max_age_s``; trade captures 60 s), the bar's reference is
NaN and counted, never passed off as a current exchange price.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.bars import assemble_bars
from ethpredict.io.binance import read_kline_files
from ethpredict.io.files import check_path, list_files, open_text
from ethpredict.io.halts import time_ranges
from ethpredict.io.ohlcv import read_ohlcv_files
from ethpredict.io.plausibility import DEFAULT_LIMITS, Limits
from ethpredict.io.tables import KLINE_SUFFIXES, OHLCV_SUFFIXES, TRADE_SUFFIXES
from ethpredict.io.times import interval_name
from ethpredict.io.trades import is_trade_capture, read_trade_stream
from ethpredict.params import ReferenceParams
from ethpredict.timeaxis import NS_PER_S, epoch_ns

#: trade captures: a reference older than this is stale unless
#: ``data.reference.max_age_s`` says otherwise
TRADES_MAX_AGE_S = 60.0


@dataclass
class Reference:
    """A reference series, one row per observation, in the order known.

    Attributes:
        label: The file (or ``<n> files in <folder>``) it was read from.
        source: ``binance_klines`` | ``ohlcv`` | ``binance_trades``.
        known_ns: When each price became known, int64 ns since the epoch: a
            trade's time; a candle's end (its close, the last trade, is known
            strictly before that, so a bar opening at the end may use it).
        price: The price known then (a candle's close, a trade's price).
        volume: Base volume of each observation (NaN: the source has none).
        buy_volume: Taker-buy part of it (NaN: not in the source).
        interval_s: A candle's length (``None`` for trades).
        files: Every file read.
    """

    label: str
    source: str
    known_ns: np.ndarray
    price: np.ndarray
    volume: np.ndarray
    buy_volume: np.ndarray
    interval_s: int | None
    files: list[str]

    @property
    def side(self) -> str:
        """``searchsorted`` side of "known before a bar's open": a candle
        ending at the open counts, a trade at the open does not."""
        return "left" if self.interval_s is None else "right"

    def max_age_ns(self, p: ReferenceParams) -> int:
        if p.max_age_s is not None:
            return int(p.max_age_s * NS_PER_S)
        if self.interval_s is None:
            return int(TRADES_MAX_AGE_S * NS_PER_S)
        return int(p.max_age_bars * self.interval_s * NS_PER_S)


def _looks_like_klines(path: Path) -> bool:
    """A CSV in Binance's kline layout: a header-less row of numbers, or a
    header naming ``open_time`` (what the kline reader takes)."""
    try:
        with open_text(path) as fh:
            first = next((ln for ln in fh if ln.strip()), "")
    except (OSError, ValueError):  # not text: the reader says why
        return False
    cells = [c.strip().strip('"').lower() for c in first.split(",")]
    try:
        float(cells[0])
        return len(cells) >= 6
    except ValueError:
        return cells[0] in ("open_time", "open time")


def detect_source(path: str | Path) -> str:
    """The reader for ``data.reference.source: auto``, from the (first) file:
    ``.jsonl``/``.jsonl.gz`` trade captures; CSVs in the kline layout;
    everything else generic OHLCV."""
    files = list_files(
        path,
        (*TRADE_SUFFIXES, *KLINE_SUFFIXES, *OHLCV_SUFFIXES),
        "reference",
        is_trade_capture,
    )
    name = files[0].name.lower()
    if name.endswith((".jsonl", ".jsonl.gz")) or is_trade_capture(files[0]):
        return "binance_trades"
    if name.endswith(".json.gz"):  # a trade capture or freqtrade candles
        with open_text(files[0]) as fh:
            head = fh.read(1).strip()
        return "ohlcv" if head == "[" else "binance_trades"
    if name.endswith(".zip") or (
        name.endswith((".csv", ".csv.gz")) and _looks_like_klines(files[0])
    ):
        return "binance_klines"
    return "ohlcv"


def _label(files: list[str]) -> str:
    if len(files) == 1:
        return Path(files[0].split(":")[0]).name
    return f"{len(files)} files in {Path(files[0]).parent}"


def read_reference(p: ReferenceParams, limits: Limits = DEFAULT_LIMITS) -> Reference:
    """Read ``data.reference.path`` with the reader its source names; candles
    get the plausibility bounds ``limits`` (those of ``data``).

    Raises:
        DataValidationError: the path is missing, or a file is malformed (the
            message names the file, line and column, prefixed
            ``data.reference``).
    """
    if p.path is None:
        raise ValueError("read_reference needs data.reference.path")
    check_path(p.path, "data.reference.path")
    try:
        source = detect_source(p.path) if p.source == "auto" else p.source
        if source == "binance_trades":
            t = read_trade_stream(p.path)
            files = sorted(t["file"].unique().tolist())
            qty = t["qty"].to_numpy(np.float64)
            return Reference(
                _label(files),
                source,
                epoch_ns(t["time"]).copy(),
                t["price"].to_numpy(np.float64),
                qty,
                np.where(t["side"].to_numpy() > 0, qty, 0.0),
                None,
                files,
            )
        sources = (
            read_kline_files(p.path)
            if source == "binance_klines"
            else read_ohlcv_files(p.path, p.ohlcv)
        )
        a = assemble_bars(
            sources, on_gap="flag", stale_min_bars=3, on_stale="flag", limits=limits
        )
    except DataValidationError as exc:
        raise DataValidationError(f"data.reference: {exc}") from None
    b = a.bars
    seen = ~(b["is_filled"].to_numpy() | b["is_stale"].to_numpy())
    files = [f["file"] for f in a.files]
    step = a.interval_s * NS_PER_S
    buy = b["taker_buy_volume"].to_numpy(np.float64)[seen]
    return Reference(
        _label(files),
        source,
        epoch_ns(b.index)[seen] + step,
        b["close"].to_numpy(np.float64)[seen],
        b["volume"].to_numpy(np.float64)[seen],
        buy if np.isfinite(buy).all() else np.full(buy.size, np.nan),
        a.interval_s,
        files,
    )


def _ts(ns: int) -> str:
    return pd.Timestamp(int(ns), tz="UTC").isoformat()


@dataclass
class Joined:
    """The reference on the bars' clock, and what the join found."""

    price: np.ndarray
    volume: np.ndarray
    buy_volume: np.ndarray
    manifest: dict
    stale: np.ndarray


def join_reference(ref: Reference, bar_ns: np.ndarray, max_age_ns: int) -> Joined:
    """For each bar open ``bar_ns[i]`` the last reference price known strictly
    before it (a candle ending at it counts: see the module), NaN before the
    first and where it is older than
    ``max_age_ns``; the reference volume (and taker-buy volume) that became
    known since the previous bar's open (the first bar: one bar back),
    NaN where the price is. The manifest's ``age_s``: median, 95th
    percentile and maximum seconds from a bar's open back to when the price
    it got became known (bars with a price).

    Slow reference: for each bar, scan the observations (tests).

    Args:
        ref: The reference read by :func:`read_reference`.
        bar_ns: Bar open times, epoch nanoseconds, increasing.
        max_age_ns: The oldest a price may be at a bar's open, nanoseconds.

    Returns:
        The :class:`Joined` per-bar ``price`` (the reference's quote per
        ETH), ``volume`` and ``buy_volume`` (NaN where there is no price),
        the ``manifest`` (ages in seconds) and ``stale`` (bars whose last
        price is older than ``max_age_ns``).

    Raises:
        DataValidationError: no bar gets a reference price (the spans do not
            overlap).
    """
    n = bar_ns.size
    known = ref.known_ns
    j = np.searchsorted(known, bar_ns, side=ref.side) - 1
    has = j >= 0
    jj = np.clip(j, 0, None)
    age = bar_ns - known[jj]
    fresh = has & (age <= max_age_ns)
    if not fresh.any():
        raise DataValidationError(
            f"data.reference '{ref.label}' does not overlap the bars: its prices "
            f"are known from {_ts(known[0])} to {_ts(known[-1])}, the bars open from "
            f"{_ts(bar_ns[0])} to {_ts(bar_ns[-1])} (a bar takes the last price "
            f"known before its open, at most {max_age_ns / NS_PER_S:g} s old)",
            file=ref.files[0],
        )
    price = np.where(fresh, ref.price[jj], np.nan)
    prev = np.r_[bar_ns[0] - (bar_ns[1] - bar_ns[0] if n > 1 else 0), bar_ns[:-1]]
    lo = np.searchsorted(known, prev, side=ref.side)
    hi = j + 1
    out = []
    for v in (ref.volume, ref.buy_volume):
        cum = np.r_[0.0, np.cumsum(np.nan_to_num(v))]
        flow = cum[hi] - cum[lo]
        out.append(np.where(fresh & np.isfinite(v).all(), flow, np.nan))
    stale = has & ~fresh
    age = age[fresh] / NS_PER_S
    manifest = {
        "name": ref.label,
        "source": ref.source,
        "interval": None if ref.interval_s is None else interval_name(ref.interval_s),
        "files": ref.files,
        "first_known": _ts(known[0]),
        "last_known": _ts(known[-1]),
        "observations": int(known.size),
        "max_age_s": max_age_ns / NS_PER_S,
        "coverage": float(fresh.mean()),
        "bars_without_reference": int(n - fresh.sum()),
        "before_first": int((~has).sum()),
        "stale_bars": int(stale.sum()),
        "stale_ranges": time_ranges(bar_ns, stale),
        "age_s": {
            "median": round(float(np.median(age)), 3),
            "p95": round(float(np.quantile(age, 0.95)), 3),
            "max": round(float(age.max()), 3),
        },
    }
    return Joined(price, out[0], out[1], manifest, stale)
