"""Nodes of the data_engineering pipeline: load and validate bars, features."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd

from ethpredict import features
from ethpredict.errors import DataValidationError
from ethpredict.io import synthetic_pool
from ethpredict.io.bars import (
    NS_PER_S,
    Assembled,
    Limits,
    SourceFrame,
    assemble_bars,
    describe_ranges,
    epoch_ns,
    in_window,
    interval_name,
)
from ethpredict.io.binance import bars_from_trades, read_kline_files, read_trade_stream
from ethpredict.io.files import quote_of, symbol_of
from ethpredict.io.ohlcv import funding_per_bar, read_funding, read_ohlcv_files
from ethpredict.io.reference import join_reference, read_reference
from ethpredict.io.synthetic import NOTICE, ensure_synthetic_klines
from ethpredict.io.uniswap import PoolData, read_pool
from ethpredict.params import (
    INTERVALS_S,
    DataParams,
    FeaturesParams,
    ReferenceParams,
    coerce,
)

log = logging.getLogger(__name__)
TRADE_TABLE = {
    "trade_id": "int64", "price": "float64", "qty": "float64", "side": "int8",
    "recv_time_ns": "int64",
}  # fmt: skip
MAX_GAPS_LISTED = 100
POOLS = ("uniswap_v3", "synthetic_pool")


def _window(sources: list[SourceFrame], start_ns, end_ns) -> list[SourceFrame]:
    """The rows of each file in ``[data.start, data.end)``."""
    if start_ns is None and end_ns is None:
        return sources
    out = []
    for s in sources:
        keep = in_window(s.time_ns, start_ns, end_ns)
        dur = s.duration_ns[keep] if s.duration_ns.size else s.duration_ns
        out.append(SourceFrame(s.label, s.time_ns[keep],
                               s.values.loc[keep].reset_index(drop=True), s.lines[keep],
                               dur, s.time_column))  # fmt: skip
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


def ingest_market_data(
    data: DataParams,
) -> tuple[pd.DataFrame, pd.DataFrame, dict, pd.DataFrame]:
    """Read the configured source, validate it and assemble bars.

    Returns:
        ``bars`` (UTC index ``time`` = bar open; OHLC in quote currency,
        volumes in base currency; ``is_filled`` marks inserted flat bars,
        ``is_stale`` bars of a halt (zero volume at a frozen price);
        ``funding_rate`` paid at the bar's close on a perpetual),
        ``trades`` (exchange trades or pool swaps; empty for candle sources),
        a manifest of what was read, and ``pool_liquidity`` (the pool's
        in-range liquidity after each event; empty unless the source is a
        Uniswap v3 pool). Frames carry ``attrs`` ``source``, ``synthetic``,
        ``symbol``, ``interval`` and ``venue`` (plus the pool's ``fee_bps``,
        ``tick_spacing``, ``block_time_s``, ``eth_token``, ``decimals0``,
        ``decimals1`` for a pool).
    """
    p = coerce(DataParams, data, "data")
    trades = pd.DataFrame({k: pd.Series(dtype=t) for k, t in TRADE_TABLE.items()})
    trades.index = pd.DatetimeIndex([], tz="UTC", name="time")
    liquidity = pd.DataFrame(
        {"liquidity": pd.Series(dtype="float64"), "price": pd.Series(dtype="float64")},
        index=pd.DatetimeIndex([], tz="UTC", name="time"),
    )
    start_ns, end_ns = _ns(p.start), _ns(p.end)
    venue = {"venue": p.market}
    extra: dict = {}
    expected = p.interval if p.source in ("binance_klines", "ohlcv") else None
    reference = p.reference
    if p.source == "synthetic":
        sources = read_kline_files(ensure_synthetic_klines(p))
        if p.market == "spot":  # an imaginary exchange, quoted at a maker's tier
            venue = {"venue": "synthetic"}
    elif p.source == "binance_klines":
        sources = read_kline_files(p.path)
    elif p.source == "ohlcv":
        sources = read_ohlcv_files(p.path, p.ohlcv)
    elif p.source in POOLS:
        pool, reference = _pool(p, start_ns, end_ns)
        sources = pool.bars
        if len(pool.swaps):
            trades = pool.swaps.set_index("time").drop(columns=["file", "line"])
            trades = trades.astype(
                {k: t for k, t in TRADE_TABLE.items() if k in trades}
            )
        if len(pool.liquidity):
            liquidity = pool.liquidity.set_index("time")
        venue = {"venue": "uniswap_v3", "fee_bps": pool.pool.fee_bps,
                 "tick_spacing": pool.pool.tick_spacing,
                 "block_time_s": pool.pool.block_time_s,
                 "pool": pool.pool.address, "chain": pool.pool.chain,
                 "eth_token": pool.pool.eth_token, "decimals0": pool.pool.decimals0,
                 "decimals1": pool.pool.decimals1}  # fmt: skip
        extra = {"pool_form": pool.form, "pool_events": pool.events,
                 "other_logs": pool.other_logs, "removed_logs": pool.removed_logs,
                 "swaps": len(pool.swaps), "pool_quote": pool.pool.quote}  # fmt: skip
    else:
        raw = read_trade_stream(p.path)
        sources = [bars_from_trades(raw, INTERVALS_S[p.interval or "1m"])]
        trades = raw.set_index("time")[list(TRADE_TABLE)].astype(TRADE_TABLE)
        if raw["venue"].iat[0] == "futures" and p.market == "spot":
            log.info(
                "The trade capture under data.path is of a futures market "
                "(USD-M or COIN-M): booked as a perpetual (no funding rates unless "
                "data.market=perpetual and data.funding_path are set)"
            )
            venue = {"venue": "perpetual"}
    symbol = _symbol(
        p, [s.label for s in sources],
        (raw["symbol"].iat[0], "its trade messages") if p.source == "binance_trades"
        else (f"ETH{extra['pool_quote']}", "the known-pools table")
        if extra.get("pool_quote") else None,
    )  # fmt: skip
    sources = _window(sources, start_ns, end_ns)
    limits = Limits.of(p)
    a = assemble_bars(
        sources, on_gap=p.on_gap, expected_interval=expected,
        stale_min_bars=None if p.source in POOLS else p.stale_min_bars,
        on_stale=p.on_stale, limits=_bar_limits(p, limits),
    )  # fmt: skip
    synthetic = p.source in ("synthetic", "synthetic_pool")
    bars = a.bars
    if len(trades) and p.source == "binance_trades":
        trades = trades.loc[in_window(epoch_ns(trades.index), start_ns, end_ns)]
    if p.market == "perpetual":
        funding = read_funding(p.funding_path, p.ohlcv, limits)
        bars["funding_rate"] = funding_per_bar(
            funding, epoch_ns(bars.index), a.interval_s * NS_PER_S
        )
        extra["funding_settlements"] = int(np.count_nonzero(bars["funding_rate"]))
        if not extra["funding_settlements"]:
            raise DataValidationError(
                f"no funding settlement in data.funding_path '{p.funding_path}' falls "
                f"inside the bars ({bars.index[0]} to {bars.index[-1]})"
            )
    ref_attrs: dict = {}
    if p.has_reference:
        bars, extra["reference"] = _with_reference(
            bars, reference, a.interval_s, limits
        )
        ref_attrs = {"reference": extra["reference"]["name"],
                     "reference_source": extra["reference"]["source"]}  # fmt: skip
    attrs = {
        "source": p.source,
        "synthetic": synthetic,
        "symbol": symbol,
        "quote": quote_of(symbol),
        "interval": interval_name(a.interval_s),
        **venue,
        **ref_attrs,
    }
    bars.attrs.update(attrs)
    trades.attrs.update(attrs)
    liquidity.attrs.update(attrs)
    manifest = {
        **attrs,
        "notice": {"synthetic": NOTICE, "synthetic_pool": synthetic_pool.NOTICE}.get(
            p.source, ""
        ),
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
        "trades": len(trades),
        **extra,
        "files": a.files,
    }
    log.info(
        "Loaded %d %s bars of %s%s from %s to %s (%d filled in %d gaps)",
        len(bars), attrs["interval"], symbol, " (SYNTHETIC)" if synthetic else "",
        manifest["start"], manifest["end"], manifest["filled_bars"], len(a.gaps),
    )  # fmt: skip
    _warn_unobserved(a, p)
    return bars, trades, manifest, liquidity


def _symbol(p: DataParams, labels: list[str], in_data: tuple[str, str] | None) -> str:
    """The data's own symbol when it differs from ``data.symbol`` (one
    warning), else ``data.symbol``. ``in_data``: the symbol the data carries
    and where it was found (a trade capture's ``s``; a known pool's tokens,
    ``ETHUSDC``); else the one its file names carry (``ETHUSDC-1m-2024-01.zip``)."""
    if p.source in ("synthetic", "synthetic_pool"):
        return p.symbol
    own, where = in_data or (symbol_of(labels), "its file names")
    if own is None or own == p.symbol:
        return p.symbol
    log.warning(
        "The data is %s (from %s), not data.symbol %s: labelled %s; set "
        "data.symbol=%s to silence this",
        own, where, p.symbol, own, own,
    )  # fmt: skip
    return own


def _pool(p: DataParams, start_ns, end_ns) -> tuple[PoolData, ReferenceParams]:
    """A pool's files (``uniswap_v3``), or the embedded pool written for these
    settings (``synthetic_pool``, whose reference is its exchange unless
    ``data.reference.path`` names another)."""
    path, up, reference = p.path, p.uniswap, p.reference
    if p.source == "synthetic_pool":
        made = synthetic_pool.ensure_synthetic_pool(p)
        path, up = made.pool, synthetic_pool.pool_params(p)
        if reference.path is None:
            reference = ReferenceParams(path=str(made.reference), source="ohlcv")
    return read_pool(path, up, p.interval, start_ns, end_ns), reference


#: a reference whose median age exceeds this many bars is warned about
AGE_WARN_BARS = 1


def _bar_limits(p: DataParams, limits: Limits) -> Limits:
    """The plausibility bounds of the source's bars: the embedded markets are
    dated as configured; a pool's block without swaps is its real quiet
    state, not a market without trading."""
    if p.source in ("synthetic", "synthetic_pool"):
        limits = replace(limits, any_dates=True)
    if p.source in POOLS:
        limits = replace(limits, max_zero_volume_share=None)
    return limits


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
        m["name"], m["source"], m["first_known"], m["last_known"],
        100 * m["coverage"], m["before_first"], m["stale_bars"], age["median"],
        age["p95"],
    )  # fmt: skip
    if age["median"] > AGE_WARN_BARS * bar_s:
        log.warning(
            "The reference %s is stale for %d s bars (median age %g s, 95 %% %g s): "
            "LVR and markouts against it are measured against a price up to %g s "
            "old, which the pool may already lead — give data.reference a finer "
            "series (1-s klines, trades) for a pool",
            m["name"], bar_s, age["median"], age["p95"], age["max"],
        )  # fmt: skip
    if m["stale_bars"]:
        log.warning(
            "%d bar(s) have no current reference price (data.reference %s: no "
            "observation for more than %g s) in %d run(s); their reference_price is "
            "NaN (raise data.reference.max_age_bars or max_age_s to accept older "
            "prices): %s",
            m["stale_bars"], m["name"], m["max_age_s"], len(m["stale_ranges"]),
            describe_ranges(m["stale_ranges"]),
        )  # fmt: skip
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
            a.stale_bars, p.stale_min_bars, len(a.stale_ranges), what, p.on_stale,
            describe_ranges(a.stale_ranges),
        )  # fmt: skip
    if a.filled_ranges:
        log.warning(
            "%d gap-filled bar(s) in %d run(s), marked is_filled (data.on_gap: flag); "
            "features, labels and calibration treat them as missing: %s",
            int(a.bars["is_filled"].sum()), len(a.filled_ranges),
            describe_ranges(a.filled_ranges),
        )  # fmt: skip


def _feature_set(
    name: str, bars: pd.DataFrame, params: FeaturesParams | dict
) -> pd.DataFrame:
    p = coerce(FeaturesParams, params, "features")
    build = {"base": features.base_features, "advanced": features.advanced_features,
             "reference": features.reference_features}  # fmt: skip
    out = build[name](bars, p) if name in p.sets else pd.DataFrame(index=bars.index)
    out.attrs.update(bars.attrs)
    return out


def build_base_features(bars: pd.DataFrame, params: FeaturesParams) -> pd.DataFrame:
    """Base feature set (no columns when ``base`` is not in ``features.sets``)."""
    return _feature_set("base", bars, params)


def build_advanced_features(bars: pd.DataFrame, params: FeaturesParams) -> pd.DataFrame:
    """Advanced feature set (no columns when not in ``features.sets``)."""
    return _feature_set("advanced", bars, params)


def build_reference_features(
    bars: pd.DataFrame, params: FeaturesParams
) -> pd.DataFrame:
    """Exchange-reference feature set (no columns when not in ``features.sets``)."""
    return _feature_set("reference", bars, params)
