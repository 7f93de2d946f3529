"""``data.ohlcv``, ``data.uniswap`` and ``data.reference``: how files are read."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ethpredict.params.base import Strict


class OHLCVParams(Strict):
    """Generic OHLCV files (``data.source: ohlcv``)."""

    format: Literal["auto", "csv", "parquet", "feather", "json"] = Field(
        "auto",
        description="auto: from the file name",
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "standard name -> the file's column, e.g. {time: Date, volume: "
            "Vol}; keys time, open, high, low, close, volume, quote_volume, "
            "trades, taker_buy_volume, taker_buy_quote_volume"
        ),
    )
    time_unit: Literal["auto", "s", "ms", "us", "ns"] = Field(
        "auto",
        description="epoch numbers: auto detects the unit from the magnitude",
    )
    timezone: str = Field(
        "UTC",
        description=(
            "an IANA zone: the zone of timestamps written without an offset; "
            "text with an offset is converted to UTC whatever this says"
        ),
    )
    delimiter: Literal["auto", ",", ";", "\t", "|"] = Field(
        "auto",
        description=(
            "CSV column separator; auto: the one of , ; tab | in the first line"
        ),
    )
    decimal: Literal["auto", ".", ","] = Field(
        "auto",
        description=(
            "CSV decimal mark; auto: ',' when the separator is not ',' and "
            "the first data row has a digit-comma-digit"
        ),
    )

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, v: dict[str, str]) -> dict[str, str]:
        allowed = {
            "time",
            "open",
            "high",
            "low",
            "close",
            "volume",
            "quote_volume",
            "trades",
            "taker_buy_volume",
            "taker_buy_quote_volume",
        }
        bad = sorted(set(v) - allowed)
        if bad:
            raise ValueError(
                f"unknown standard column(s) {', '.join(bad)}; the keys are "
                f"{', '.join(sorted(allowed))}"
            )
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"'{v}' is not an IANA time zone (such as UTC or Europe/Berlin)"
            ) from None
        return v


class UniswapParams(Strict):
    """Uniswap v3 pool events (``data.source: uniswap_v3``). Unset values come
    from the known-pools table (``ethpredict.io.uniswap.KNOWN_POOLS``) by the
    pool address found in the file names or the logs."""

    form: Literal["auto", "raw", "decoded", "minute"] = Field(
        "auto",
        description=(
            "raw: eth_getLogs; decoded: decoded events; minute: minute bars; "
            "auto: raw logs, else decoded events, else minutes"
        ),
    )
    pool: str | None = Field(
        None,
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="the pool's address; null: from the file names or logs",
    )
    chain: str | None = Field(
        None,
        description="ethereum, polygon, arbitrum, ...",
    )
    eth_token: Literal["token0", "token1"] | None = Field(
        None,
        description="which of the pool's tokens is (W)ETH",
    )
    decimals0: int | None = Field(
        None,
        ge=0,
        le=36,
        description="token0's decimals",
    )
    decimals1: int | None = Field(
        None,
        ge=0,
        le=36,
        description="token1's decimals",
    )
    fee_bps: float | None = Field(
        None,
        gt=0,
        le=10_000,
        description="fee tier in bp (5 = 0.05 %)",
    )
    tick_spacing: int | None = Field(
        None,
        ge=1,
        le=16_384,
        description="null: from the fee tier",
    )
    block_time_s: float | None = Field(
        None, gt=0, le=3600, description="null: measured from the events"
    )


class ReferenceParams(Strict):
    """An exchange reference for the bars (``data.reference``): a second
    market-data source joined causally to the bars' clock (docs/data.md)."""

    path: str | None = Field(
        None,
        description=(
            "exchange reference klines / OHLCV / trade-capture file or folder"
            " (docs/data.md); null: none"
        ),
    )
    source: Literal["auto", "binance_klines", "ohlcv", "binance_trades"] = Field(
        "auto",
        description="auto: trade captures by name (.jsonl), else klines "
        "when the CSV is in Binance's layout, else generic OHLCV",
    )
    ohlcv: OHLCVParams = OHLCVParams()
    max_age_bars: int = Field(
        5,
        ge=1,
        le=10_000,
        description="candles: a reference price older than this many of the "
        "reference's own bars at a bar's open is stale (NaN, counted, warned)",
    )
    max_age_s: float | None = Field(
        None,
        gt=0,
        le=30 * 86_400,
        description=(
            "the same limit in seconds; overrides max_age_bars; null: "
            "max_age_bars for candles, 60 s for trade captures"
        ),
    )
