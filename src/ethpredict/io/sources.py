"""The data sources ``data.source`` names: one reader each, one signature.

A reader takes the validated ``data`` parameters and the selected period
``[start_ns, end_ns)`` (epoch ns, None: open) and returns a
:class:`SourceData`: the parsed files (bars, before assembly) and what the
source knows beyond them (trades, a pool's liquidity, the venue, manifest
entries, its own symbol) and how its bars are to be checked. Bar assembly,
the period, funding and the exchange reference are the same for every
source (:mod:`ethpredict.io.ingest`). Adding a source is a reader here and
one entry in :data:`READERS` (docs/data.md, "Adding a data source").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ethpredict.io import synthetic_pool
from ethpredict.io.binance import read_kline_files
from ethpredict.io.ohlcv import read_ohlcv_files
from ethpredict.io.synthetic import NOTICE, ensure_synthetic_klines
from ethpredict.io.tables import SourceFrame
from ethpredict.io.trades import bars_from_trades, read_trade_stream
from ethpredict.io.uniswap import PoolData, read_pool
from ethpredict.params import INTERVALS_S, DataParams, ReferenceParams
from ethpredict.timeaxis import epoch_ns, in_window

log = logging.getLogger(__name__)
#: the columns and dtypes of the trades every source returns (empty for candles)
TRADE_TABLE = {
    "trade_id": "int64",
    "price": "float64",
    "qty": "float64",
    "side": "int8",
    "recv_time_ns": "int64",
}


def no_trades() -> pd.DataFrame:
    """The empty trades table (:data:`TRADE_TABLE`, UTC index ``time``)."""
    trades = pd.DataFrame({k: pd.Series(dtype=t) for k, t in TRADE_TABLE.items()})
    trades.index = pd.DatetimeIndex([], tz="UTC", name="time")
    return trades


def no_liquidity() -> pd.DataFrame:
    """The empty pool liquidity table (``liquidity``, ``price``; index ``time``)."""
    return pd.DataFrame(
        {"liquidity": pd.Series(dtype="float64"), "price": pd.Series(dtype="float64")},
        index=pd.DatetimeIndex([], tz="UTC", name="time"),
    )


@dataclass
class SourceData:
    """What a reader gives bar assembly.

    Attributes:
        sources: The parsed files, any order, not yet limited to the period.
        trades: Trades or pool swaps in the period, UTC index ``time``,
            :data:`TRADE_TABLE` columns (more allowed); empty for candles.
        liquidity: A pool's in-range liquidity after each event; else empty.
        venue: Attributes of the venue (``venue`` and a pool's ``fee_bps`` …);
            None: ``{"venue": data.market}``.
        extra: Manifest entries of the source.
        symbol: The symbol the data carries and where it was found; None:
            the one its file names carry.
        reference: Replaces ``data.reference`` (the embedded pool's exchange).
        expected_interval: The interval the bars must have (``data.interval``
            for candles); None: any.
        detect_stale: Whether halts are looked for (``data.stale_min_bars``).
        quiet_bars: Bars without volume are the market's real quiet state (a
            pool's blocks without swaps): ``data.max_zero_volume_share`` is off.
        synthetic: Embedded data: dated as configured (any date accepted),
            labelled ``data.symbol``, flagged ``synthetic``.
        notice: The manifest's notice (what synthetic data is not).
    """

    sources: list[SourceFrame]
    trades: pd.DataFrame = field(default_factory=no_trades)
    liquidity: pd.DataFrame = field(default_factory=no_liquidity)
    venue: dict | None = None
    extra: dict = field(default_factory=dict)
    symbol: tuple[str, str] | None = None
    reference: ReferenceParams | None = None
    expected_interval: str | None = None
    detect_stale: bool = True
    quiet_bars: bool = False
    synthetic: bool = False
    notice: str = ""


#: a reader: (data parameters, period start, period end, epoch ns) → SourceData
Reader = Callable[[DataParams, int | None, int | None], SourceData]


def read_synthetic(p: DataParams, start_ns: int | None, end_ns: int | None):
    """The embedded exchange's klines (written for these settings once)."""
    # an imaginary exchange, quoted at a maker's tier
    venue = {"venue": "synthetic"} if p.market == "spot" else None
    files = read_kline_files(ensure_synthetic_klines(p))
    return SourceData(files, venue=venue, synthetic=True, notice=NOTICE)


def read_klines(p: DataParams, start_ns: int | None, end_ns: int | None):
    """Binance klines under ``data.path``."""
    return SourceData(read_kline_files(p.path), expected_interval=p.interval)


def read_ohlcv(p: DataParams, start_ns: int | None, end_ns: int | None):
    """Generic OHLCV candles under ``data.path``."""
    files = read_ohlcv_files(p.path, p.ohlcv)
    return SourceData(files, expected_interval=p.interval)


def read_trades(p: DataParams, start_ns: int | None, end_ns: int | None):
    """Binance ``@trade`` captures: bars of ``data.interval`` (default 1m) and
    the trades of the period."""
    raw = read_trade_stream(p.path)
    bars = bars_from_trades(raw, INTERVALS_S[p.interval or "1m"])
    trades = raw.set_index("time")[list(TRADE_TABLE)].astype(TRADE_TABLE)
    trades = trades.loc[in_window(epoch_ns(trades.index), start_ns, end_ns)]
    venue = None
    if raw["venue"].iat[0] == "futures" and p.market == "spot":
        log.info(
            "The trade capture under data.path is of a futures market "
            "(USD-M or COIN-M): booked as a perpetual (no funding rates unless "
            "data.market=perpetual and data.funding_path are set)"
        )
        venue = {"venue": "perpetual"}
    symbol = (raw["symbol"].iat[0], "its trade messages")
    return SourceData([bars], trades, venue=venue, symbol=symbol)


def _pool_data(pool: PoolData, **kw) -> SourceData:
    """A pool's bars, swaps and liquidity with its venue attributes."""
    trades = no_trades()
    if len(pool.swaps):
        trades = pool.swaps.set_index("time").drop(columns=["file", "line"])
        trades = trades.astype({k: t for k, t in TRADE_TABLE.items() if k in trades})
    liquidity = pool.liquidity.set_index("time") if len(pool.liquidity) else None
    q = pool.pool
    venue = {
        "venue": "uniswap_v3",
        "fee_bps": q.fee_bps,
        "tick_spacing": q.tick_spacing,
        "block_time_s": q.block_time_s,
        "pool": q.address,
        "chain": q.chain,
        "eth_token": q.eth_token,
        "decimals0": q.decimals0,
        "decimals1": q.decimals1,
    }
    extra = {
        "pool_form": pool.form,
        "pool_events": pool.events,
        "other_logs": pool.other_logs,
        "removed_logs": pool.removed_logs,
        "swaps": len(pool.swaps),
        "pool_quote": q.quote,
    }
    symbol = (f"ETH{q.quote}", "the known-pools table") if q.quote else None
    return SourceData(
        pool.bars,
        trades,
        no_liquidity() if liquidity is None else liquidity,
        venue=venue,
        extra=extra,
        symbol=symbol,
        detect_stale=False,
        quiet_bars=True,
        **kw,
    )


def read_uniswap(p: DataParams, start_ns: int | None, end_ns: int | None):
    """A Uniswap v3 pool's files under ``data.path`` (:mod:`ethpredict.io.uniswap`)."""
    return _pool_data(read_pool(p.path, p.uniswap, p.interval, start_ns, end_ns))


def read_synthetic_pool(p: DataParams, start_ns: int | None, end_ns: int | None):
    """The embedded pool written for these settings; its reference is its
    exchange unless ``data.reference.path`` names another."""
    made = synthetic_pool.ensure_synthetic_pool(p)
    up = synthetic_pool.pool_params(p)
    reference = p.reference
    if reference.path is None:
        reference = ReferenceParams(path=str(made.reference), source="ohlcv")
    pool = read_pool(made.pool, up, p.interval, start_ns, end_ns)
    return _pool_data(
        pool, reference=reference, synthetic=True, notice=synthetic_pool.NOTICE
    )


#: ``data.source`` → its reader
READERS: dict[str, Reader] = {
    "synthetic": read_synthetic,
    "binance_klines": read_klines,
    "ohlcv": read_ohlcv,
    "binance_trades": read_trades,
    "uniswap_v3": read_uniswap,
    "synthetic_pool": read_synthetic_pool,
}
