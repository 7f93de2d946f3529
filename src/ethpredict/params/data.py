"""``data``: where market data comes from and how it is validated."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ethpredict.params.base import Interval, Strict
from ethpredict.params.sources import OHLCVParams, ReferenceParams, UniswapParams
from ethpredict.params.synthetic import SyntheticParams, SyntheticPoolParams

__all__ = [
    "DataParams",
    "OHLCVParams",
    "ReferenceParams",
    "SyntheticParams",
    "SyntheticPoolParams",
    "UniswapParams",
]


class DataParams(Strict):
    """Where market data comes from and how it is validated."""

    source: Literal[
        "synthetic",
        "binance_klines",
        "binance_trades",
        "ohlcv",
        "uniswap_v3",
        "synthetic_pool",
    ] = Field(
        "synthetic",
        description=(
            "synthetic_pool: an embedded Uniswap v3 pool and its exchange "
            "(docs/data.md)"
        ),
    )
    path: str | None = Field(
        None,
        description=(
            "file, folder or .zip; required unless synthetic / synthetic_pool"
            " (then the output folder, default data/01_raw/synthetic, "
            "data/01_raw/synthetic_pool)"
        ),
    )
    symbol: str = Field(
        "ETHUSDT",
        pattern=r"^[A-Z0-9]{2,20}$",
        description="2-20 capitals/digits; conf/base/globals.yml sets it for all",
        json_schema_extra={"conf": "${globals:symbol}"},
    )
    interval: Interval | None = Field(
        None,
        description=(
            "bar interval: checked against klines and OHLCV files if set; the"
            " bar size built from trades (default 1m) and from pool swaps "
            "(default: one bar per block)"
        ),
    )
    on_gap: Literal["fail", "flag"] = Field(
        "flag",
        description="flag: fill with flat bars marked is_filled",
    )
    stale_min_bars: int = Field(
        3,
        ge=1,
        description=(
            "a halt: a run of at least this many bars with zero volume at a "
            "frozen price (OHLC = the previous close), its bars is_stale; not"
            " applied to uniswap_v3, where a block without swaps is the "
            "pool's real quiet state (docs/data.md)"
        ),
    )
    on_stale: Literal["flag", "drop", "fail"] = Field(
        "flag",
        description="stale bars: flag (keep, marked is_stale), drop (remove), "
        "fail (stop with their count and time ranges)",
    )
    start: dt.datetime | None = Field(
        None,
        description=(
            "keep bars from this UTC time on (e.g. 2024-08-01): bars in [start, end)"
        ),
    )
    end: dt.datetime | None = Field(
        None,
        description="keep bars before this UTC time; after start",
    )
    market: Literal["spot", "perpetual"] = Field(
        "spot",
        description=(
            "perpetual: funding from data.funding_path enters PnL (not with a"
            " Uniswap pool)"
        ),
    )
    funding_path: str | None = Field(
        None,
        description=(
            "funding-rate file or folder (any ohlcv format; market: perpetual)"
        ),
    )
    # plausibility (docs/data.md, "Plausibility"): each bound refuses with one line
    allow_any_dates: bool = Field(
        False,
        description=(
            "accept bars dated before ETH's first trading day (2015-07-30) or"
            " after now + 1 day (a 1970 or 2099 bar is refused by default; "
            "docs/data.md)"
        ),
    )
    max_gap_fill: dt.timedelta | None = Field(
        dt.timedelta(days=1),
        gt=dt.timedelta(0),
        description="data.on_gap flag: a gap whose missing bars span longer than "
        "this is refused, not filled ('1 day', '7 days', 'PT6H', '06:00:00', "
        "seconds); null: no limit",
    )
    max_price: float | None = Field(
        1e9,
        gt=0,
        description=(
            "a price above this (quote currency) is refused as absurd; null: no limit"
        ),
    )
    max_bar_jump: float | None = Field(
        0.5,
        gt=0,
        description="a bar whose open, high, low or close is more than this |log "
        "return| from the previous bar's close is refused; null: no limit",
    )
    max_funding_rate: float = Field(
        0.01,
        gt=0,
        le=1,
        description=(
            "a funding rate beyond ± this fraction per settlement (1 %) is "
            "refused (it looks like percent)"
        ),
    )
    max_zero_volume_share: float | None = Field(
        0.5,
        ge=0,
        le=1,
        description="refuse candles when more than this share of the bars read "
        "have zero volume (a market without trading); not applied to uniswap_v3 "
        "blocks; null: no limit",
    )
    synthetic: SyntheticParams = SyntheticParams()
    synthetic_pool: SyntheticPoolParams = SyntheticPoolParams()
    ohlcv: OHLCVParams = OHLCVParams()
    uniswap: UniswapParams = UniswapParams()
    reference: ReferenceParams = ReferenceParams()

    @property
    def has_reference(self) -> bool:
        """A reference is joined: ``reference.path`` set, or the embedded pool
        (whose exchange path is its reference)."""
        return self.reference.path is not None or self.source == "synthetic_pool"

    @model_validator(mode="after")
    def _path_needed(self) -> DataParams:
        if self.source not in ("synthetic", "synthetic_pool") and not self.path:
            raise ValueError(
                f"data.path is required when data.source is '{self.source}' "
                "(a file, a folder of files or a .zip)"
            )
        if self.market == "perpetual" and not self.funding_path:
            raise ValueError(
                "data.funding_path is required when data.market is 'perpetual' "
                "(a funding-rate file or folder)"
            )
        if self.market == "perpetual" and self.source in (
            "uniswap_v3",
            "synthetic_pool",
        ):
            raise ValueError("data.market 'perpetual' does not apply to a Uniswap pool")
        if self.start and self.end and self.end <= self.start:
            raise ValueError(
                f"data.end ({self.end}) must be after data.start ({self.start})"
            )
        return self

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, v: dt.datetime | None) -> dt.datetime | None:
        if v is not None and v.tzinfo is None:
            v = v.replace(tzinfo=dt.UTC)
        return v
