"""Market data of the configured source as validated bars, trades, a manifest
and a pool's liquidity: the source's reader (:data:`~ethpredict.io.sources.
READERS`), the period ``[data.start, data.end)``, bar assembly
(:func:`~ethpredict.io.bars.assemble_bars`), funding on a perpetual, the
exchange reference joined causally, and one warning line per kind of bar
that is no observation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.bars import Assembled, assemble_bars
from ethpredict.io.files import quote_of, symbol_of
from ethpredict.io.funding import funding_per_bar, read_funding
from ethpredict.io.halts import describe_ranges
from ethpredict.io.plausibility import Limits
from ethpredict.io.reference import join_reference, read_reference
from ethpredict.io.sources import READERS, SourceData
from ethpredict.io.tables import SourceFrame
from ethpredict.io.times import interval_name
from ethpredict.params import DataParams, ReferenceParams
from ethpredict.timeaxis import NS_PER_S, epoch_ns, in_window

log = logging.getLogger(__name__)
MAX_GAPS_LISTED = 100
#: a reference whose median age exceeds this many bars is warned about
AGE_WARN_BARS = 1


@dataclass
class Market:
    """What :func:`load_market` gives (see ``ingest_market_data``)."""

    bars: pd.DataFrame
    trades: pd.DataFrame
    manifest: dict
    liquidity: pd.DataFrame


def load_market(p: DataParams) -> Market:
    """Read ``data.source`` with its reader, validate it and assemble bars.

    Args:
        p: The ``data`` parameters.

    Returns:
        The bars (UTC index ``time`` = bar open), the trades, the manifest and
        the pool liquidity, each frame with the source's ``attrs``.
    """
    start_ns, end_ns = _ns(p.start), _ns(p.end)
    d = READERS[p.source](p, start_ns, end_ns)
    symbol = p.symbol if d.synthetic else _symbol(p, d)
    limits = Limits.of(p)
    a = assemble_bars(
        _window(d.sources, start_ns, end_ns),
        on_gap=p.on_gap,
        expected_interval=d.expected_interval,
        stale_min_bars=p.stale_min_bars if d.detect_stale else None,
        on_stale=p.on_stale,
        limits=_bar_limits(d, limits),
    )
    bars, extra = a.bars, dict(d.extra)
    if p.market == "perpetual":
        bars["funding_rate"] = _funding(p, bars, a.interval_s, limits)
        extra["funding_settlements"] = int(np.count_nonzero(bars["funding_rate"]))
    ref_attrs: dict = {}
    if p.has_reference:
        rp = d.reference or p.reference
        bars, extra["reference"] = _with_reference(bars, rp, a.interval_s, limits)
        ref_attrs = {
            "reference": extra["reference"]["name"],
            "reference_source": extra["reference"]["source"],
        }
    attrs = {
        "source": p.source,
        "synthetic": d.synthetic,
        "symbol": symbol,
        "quote": quote_of(symbol),
        "interval": interval_name(a.interval_s),
        **(d.venue or {"venue": p.market}),
        **ref_attrs,
    }
    for frame in (bars, d.trades, d.liquidity):
        frame.attrs.update(attrs)
    manifest = _manifest(attrs, a, d, bars, p, extra)
    log.info(
        "Loaded %d %s bars of %s%s from %s to %s (%d filled in %d gaps)",
        len(bars),
        attrs["interval"],
        symbol,
        " (SYNTHETIC)" if d.synthetic else "",
        manifest["start"],
        manifest["end"],
        manifest["filled_bars"],
        len(a.gaps),
    )
    _warn_unobserved(a, p)
    return Market(bars, d.trades, manifest, d.liquidity)


def _manifest(attrs, a: Assembled, d: SourceData, bars, p: DataParams, extra) -> dict:
    """What was read: the attributes, the span, filled and stale bars, gaps,
    the source's entries and the files."""
    return {
        **attrs,
        "notice": d.notice,
        "interval_s": a.interval_s,
        "start": str(bars.index[0]),
        "end": str(bars.index[-1]),
        "bars": len(bars),
        "filled_bars": int(bars["is_filled"].sum()),
        "filled_ranges": a.filled_ranges[:MAX_GAPS_LISTED],
        "stale_bars": a.stale_bars,
        "stale_ranges": a.stale_ranges[:MAX_GAPS_LISTED],
        "stale_runs": len(a.stale_ranges),
        "on_stale": p.on_stale,
        "gaps": len(a.gaps),
        "gaps_listed": a.gaps[:MAX_GAPS_LISTED],
        "trades": len(d.trades),
        **extra,
        "files": a.files,
    }


def _window(sources: list[SourceFrame], start_ns, end_ns) -> list[SourceFrame]:
    """The rows of each file in ``[data.start, data.end)``."""
    if start_ns is None and end_ns is None:
        return sources
    out = []
    for s in sources:
        keep = in_window(s.time_ns, start_ns, end_ns)
        dur = s.duration_ns[keep] if s.duration_ns.size else s.duration_ns
        values = s.values.loc[keep].reset_index(drop=True)
        out.append(
            SourceFrame(
                s.label, s.time_ns[keep], values, s.lines[keep], dur, s.time_column
            )
        )
    if not any(s.time_ns.size for s in out):
        raise DataValidationError(
            f"no bars between data.start ({_ts(start_ns)}) and data.end "
            f"({_ts(end_ns)}); the files span "
            f"{_ts(min(int(s.time_ns[0]) for s in sources if s.time_ns.size))} to "
            f"{_ts(max(int(s.time_ns[-1]) for s in sources if s.time_ns.size))}"
        )
    return out


def _ts(ns) -> str:
    return "-" if ns is None else str(pd.Timestamp(ns, tz="UTC"))


def _ns(value) -> int | None:
    return None if value is None else int(pd.Timestamp(value).as_unit("ns").value)


def _symbol(p: DataParams, d: SourceData) -> str:
    """The data's own symbol when it differs from ``data.symbol`` (one
    warning), else ``data.symbol``. The data's own: the one the source found
    (a trade capture's ``s``; a known pool's tokens, ``ETHUSDC``), else the
    one its file names carry (``ETHUSDC-1m-2024-01.zip``)."""
    own, where = d.symbol or (symbol_of([s.label for s in d.sources]), "its file names")
    if own is None or own == p.symbol:
        return p.symbol
    log.warning(
        "The data is %s (from %s), not data.symbol %s: labelled %s; set "
        "data.symbol=%s to silence this",
        own,
        where,
        p.symbol,
        own,
        own,
    )
    return own


def _bar_limits(d: SourceData, limits: Limits) -> Limits:
    """The plausibility bounds of the source's bars: the embedded markets are
    dated as configured; a pool's block without swaps is its real quiet
    state, not a market without trading."""
    if d.synthetic:
        limits = replace(limits, any_dates=True)
    if d.quiet_bars:
        limits = replace(limits, max_zero_volume_share=None)
    return limits


def _funding(p: DataParams, bars, interval_s: int, limits: Limits) -> np.ndarray:
    """The funding rate paid at each bar's close; refused when no settlement
    of ``data.funding_path`` falls inside the bars."""
    funding = read_funding(p.funding_path, p.ohlcv, limits)
    rate = funding_per_bar(funding, epoch_ns(bars.index), interval_s * NS_PER_S)
    if not np.count_nonzero(rate):
        raise DataValidationError(
            f"no funding settlement in data.funding_path '{p.funding_path}' falls "
            f"inside the bars ({bars.index[0]} to {bars.index[-1]})"
        )
    return rate


def _with_reference(
    bars: pd.DataFrame, rp: ReferenceParams, bar_s: int, limits: Limits
) -> tuple[pd.DataFrame, dict]:
    """``bars`` with the reference joined causally (:mod:`ethpredict.io.
    reference`): ``reference_price``, and ``reference_volume`` /
    ``reference_buy_volume`` when the reference has them; the manifest entry.
    One warning line when bars have a stale reference, one when its median
    age at the bars exceeds :data:`AGE_WARN_BARS` bars of ``bar_s`` seconds
    (a 1-minute reference for 12-s blocks)."""
    # a reference is not traded: its volume may be absent (zero)
    ref = read_reference(rp, replace(limits, max_zero_volume_share=None))
    j = join_reference(ref, epoch_ns(bars.index), ref.max_age_ns(rp))
    bars = bars.assign(reference_price=j.price)
    if np.isfinite(ref.volume).all():
        bars["reference_volume"] = j.volume
    if np.isfinite(ref.buy_volume).all():
        bars["reference_buy_volume"] = j.buy_volume
    m = j.manifest
    age = m["age_s"]
    log.info(
        "Reference %s (%s): prices known %s to %s; %.1f %% of bars have one "
        "(%d before the first, %d stale); its age at the bars: median %g s, "
        "95 %% %g s",
        m["name"],
        m["source"],
        m["first_known"],
        m["last_known"],
        100 * m["coverage"],
        m["before_first"],
        m["stale_bars"],
        age["median"],
        age["p95"],
    )
    if age["median"] > AGE_WARN_BARS * bar_s:
        log.warning(
            "The reference %s is stale for %d s bars (median age %g s, 95 %% %g s): "
            "LVR and markouts against it are measured against a price up to %g s "
            "old, which the pool may already lead — give data.reference a finer "
            "series (1-s klines, trades) for a pool",
            m["name"],
            bar_s,
            age["median"],
            age["p95"],
            age["max"],
        )
    if m["stale_bars"]:
        log.warning(
            "%d bar(s) have no current reference price (data.reference %s: no "
            "observation for more than %g s) in %d run(s); their reference_price is "
            "NaN (raise data.reference.max_age_bars or max_age_s to accept older "
            "prices): %s",
            m["stale_bars"],
            m["name"],
            m["max_age_s"],
            len(m["stale_ranges"]),
            describe_ranges(m["stale_ranges"]),
        )
    m["stale_runs"] = len(m["stale_ranges"])
    m["stale_ranges"] = m["stale_ranges"][:MAX_GAPS_LISTED]
    return bars, m


def _warn_unobserved(a: Assembled, p: DataParams) -> None:
    """One warning line each for stale and for gap-filled bars: count, runs,
    the first time ranges."""
    if a.stale_bars:
        what = "removed" if p.on_stale == "drop" else "kept, marked is_stale"
        log.warning(
            "%d stale bar(s) (a halt: zero volume at a frozen price for ≥ %d bars) in "
            "%d run(s), %s (data.on_stale: %s); features, labels and calibration "
            "treat them as missing: %s",
            a.stale_bars,
            p.stale_min_bars,
            len(a.stale_ranges),
            what,
            p.on_stale,
            describe_ranges(a.stale_ranges),
        )
    if a.filled_ranges:
        log.warning(
            "%d gap-filled bar(s) in %d run(s), marked is_filled (data.on_gap: flag); "
            "features, labels and calibration treat them as missing: %s",
            int(a.bars["is_filled"].sum()),
            len(a.filled_ranges),
            describe_ranges(a.filled_ranges),
        )
