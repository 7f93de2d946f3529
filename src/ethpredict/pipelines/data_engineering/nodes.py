"""Nodes of the data_engineering pipeline: load and validate bars, features.

The nodes only call the domain modules: reading a source is
:mod:`ethpredict.io.ingest` over the readers of :mod:`ethpredict.io.sources`;
the features are :mod:`ethpredict.features`. Their ``params:`` inputs are
validated models (Kedro validates Pydantic-typed ``params:`` inputs before
any node runs).
"""

from __future__ import annotations

import pandas as pd

from ethpredict import features
from ethpredict.io.ingest import load_market
from ethpredict.params import DataParams, FeaturesParams


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
    m = load_market(data)
    return m.bars, m.trades, m.manifest, m.liquidity


def _feature_set(name: str, bars: pd.DataFrame, p: FeaturesParams) -> pd.DataFrame:
    build = {
        "base": features.base_features,
        "advanced": features.advanced_features,
        "reference": features.reference_features,
    }
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
