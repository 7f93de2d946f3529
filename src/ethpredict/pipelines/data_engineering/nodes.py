"""Nodes of the data_engineering pipeline: load and validate bars, features."""

from __future__ import annotations

import logging

import pandas as pd

from ethpredict import features
from ethpredict.io.bars import assemble_bars, interval_name
from ethpredict.io.binance import bars_from_trades, read_kline_files, read_trade_stream
from ethpredict.io.synthetic import NOTICE, ensure_synthetic_klines
from ethpredict.params import INTERVALS_S, DataParams, FeaturesParams, coerce

log = logging.getLogger(__name__)
TRADE_TABLE = {
    "trade_id": "int64", "price": "float64", "qty": "float64", "side": "int8",
    "recv_time_ns": "int64",
}  # fmt: skip
MAX_GAPS_LISTED = 100


def ingest_market_data(data: DataParams) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read the configured source, validate it and assemble bars.

    Returns:
        ``bars`` (UTC index ``time`` = bar open; OHLC in quote currency,
        volumes in base currency; ``is_filled`` marks inserted flat bars),
        ``trades`` (empty unless the source is a trade capture) and a manifest
        of what was read. Frames carry ``attrs`` ``source``, ``synthetic``,
        ``symbol`` and ``interval``.
    """
    p = coerce(DataParams, data, "data")
    trades = pd.DataFrame({k: pd.Series(dtype=t) for k, t in TRADE_TABLE.items()})
    trades.index = pd.DatetimeIndex([], tz="UTC", name="time")
    if p.source == "synthetic":
        sources = read_kline_files(ensure_synthetic_klines(p))
    elif p.source == "binance_klines":
        sources = read_kline_files(p.path)
    else:
        raw = read_trade_stream(p.path)
        sources = [bars_from_trades(raw, INTERVALS_S[p.interval or "1m"])]
        trades = raw.set_index("time")[list(TRADE_TABLE)].astype(TRADE_TABLE)
    expected = p.interval if p.source == "binance_klines" else None
    a = assemble_bars(sources, on_gap=p.on_gap, expected_interval=expected)
    synthetic = p.source == "synthetic"
    attrs = {
        "source": p.source,
        "synthetic": synthetic,
        "symbol": p.symbol,
        "interval": interval_name(a.interval_s),
    }
    bars = a.bars
    bars.attrs.update(attrs)
    trades.attrs.update(attrs)
    manifest = {
        **attrs,
        "notice": NOTICE if synthetic else "",
        "interval_s": a.interval_s,
        "start": str(bars.index[0]),
        "end": str(bars.index[-1]),
        "bars": len(bars),
        "filled_bars": int(bars["is_filled"].sum()),
        "gaps": len(a.gaps),
        "gaps_listed": a.gaps[:MAX_GAPS_LISTED],
        "trades": len(trades),
        "files": a.files,
    }
    log.info(
        "Loaded %d %s bars of %s%s from %s to %s (%d filled in %d gaps)",
        len(bars), attrs["interval"], p.symbol, " (SYNTHETIC)" if synthetic else "",
        manifest["start"], manifest["end"], manifest["filled_bars"], len(a.gaps),
    )  # fmt: skip
    return bars, trades, manifest


def _feature_set(
    name: str, bars: pd.DataFrame, params: FeaturesParams | dict
) -> pd.DataFrame:
    p = coerce(FeaturesParams, params, "features")
    build = {"base": features.base_features, "advanced": features.advanced_features}
    out = build[name](bars, p) if name in p.sets else pd.DataFrame(index=bars.index)
    out.attrs.update(bars.attrs)
    return out


def build_base_features(bars: pd.DataFrame, params: FeaturesParams) -> pd.DataFrame:
    """Base feature set (no columns when ``base`` is not in ``features.sets``)."""
    return _feature_set("base", bars, params)


def build_advanced_features(bars: pd.DataFrame, params: FeaturesParams) -> pd.DataFrame:
    """Advanced feature set (no columns when not in ``features.sets``)."""
    return _feature_set("advanced", bars, params)
