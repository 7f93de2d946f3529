"""``download`` and ``rpc``: the download pipelines (not part of the default run)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ethpredict.params.base import Interval, Strict


class DownloadParams(Strict):
    """Binance public data archive download (``kedro run --pipeline=download``)."""

    base_url: str = Field(
        "https://data.binance.vision",
        pattern=r"^https?://\S+$",
        description="the Binance public data archive",
    )
    market: Literal["spot", "um", "cm"] = Field(
        "spot",
        description="um: USD-M futures, cm: COIN-M futures",
    )
    symbol: str = Field(
        "ETHUSDT",
        pattern=r"^[A-Z0-9]{2,20}$",
        json_schema_extra={"conf": "${globals:symbol}"},
    )
    interval: Interval = Field("1m", json_schema_extra={"conf": "${globals:interval}"})
    period: Literal["monthly", "daily"] = Field(
        "monthly",
        description="monthly: start/end YYYY-MM; daily: YYYY-MM-DD",
    )
    start: str = Field(
        "2024-01",
        description="YYYY-MM (monthly) or YYYY-MM-DD (daily)",
    )
    end: str = Field(
        "2024-03",
        description="inclusive, same form as start; end ≥ start",
    )
    dest: str = Field(
        "data/01_raw/binance",
        description="folder the archives are written to",
    )
    timeout_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="seconds per request",
    )
    retries: int = Field(
        3,
        ge=0,
        le=20,
        description="retries of a failed request",
    )

    @model_validator(mode="after")
    def _dates(self) -> DownloadParams:
        form = r"^\d{4}-\d{2}$" if self.period == "monthly" else r"^\d{4}-\d{2}-\d{2}$"
        for name in ("start", "end"):
            value = getattr(self, name)
            if not re.match(form, value):
                want = "YYYY-MM" if self.period == "monthly" else "YYYY-MM-DD"
                raise ValueError(
                    f"download.{name} must be {want} for {self.period} files, "
                    f"got '{value}'"
                )
        if self.end < self.start:
            raise ValueError(
                f"download.end ({self.end}) is before download.start ({self.start})"
            )
        return self


_BLOCK_OR_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?(Z|[+-]00:?00)?)?$"
)


class RpcParams(Strict):
    """A Uniswap v3 pool's logs and the per-block table from a JSON-RPC node
    (``kedro run --pipeline=download_pool``)."""

    url: str | None = Field(
        None,
        pattern=r"^https?://\S+$",
        description="the node's URL; required unless url_credentials",
    )
    url_credentials: str | None = Field(
        None, description="a key of credentials.yml whose `url` is the node's URL"
    )
    pool: str | None = Field(
        None,
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="the pool's address (required)",
    )
    start: int | str | None = Field(
        None,
        description=(
            "first block, or a UTC date YYYY-MM-DD[THH:MM[:SS]] (its first "
            "block); required"
        ),
    )
    end: int | str | None = Field(
        None,
        description=(
            "last block (inclusive), or a UTC date (its last block); "
            "required; end ≥ start"
        ),
    )
    confirmations: int = Field(
        64,
        ge=0,
        le=100_000,
        description="never read blocks closer than this to the node's head",
    )
    batch_size: int = Field(
        100,
        ge=1,
        le=1000,
        description="JSON-RPC requests per HTTP batch (block headers)",
    )
    max_range: int = Field(
        2000,
        ge=1,
        le=1_000_000,
        description="blocks per eth_getLogs; halves on range errors, grows back",
    )
    dest: str | None = Field(None, description="null: data/01_raw/uniswap_v3/<pool>")
    timeout_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="seconds per request",
    )
    retries: int = Field(
        5,
        ge=0,
        le=20,
        description="retries of a failed request",
    )

    @field_validator("pool", mode="before")
    @classmethod
    def _hex_address(cls, value: Any) -> Any:
        # --params=rpc.pool=0x88e6… is read as a YAML hex number
        return f"0x{value:040x}" if isinstance(value, int) and value >= 0 else value

    @model_validator(mode="after")
    def _range(self) -> RpcParams:
        if self.url and self.url_credentials:
            raise ValueError("set rpc.url or rpc.url_credentials, not both")
        for name in ("start", "end"):
            v = getattr(self, name)
            if isinstance(v, int) and v < 0:
                raise ValueError(f"rpc.{name} must be a block number ≥ 0, got {v}")
            if isinstance(v, str) and not (v.isdigit() or _BLOCK_OR_DATE.match(v)):
                raise ValueError(
                    f"rpc.{name} must be a block number or a UTC date "
                    f"(YYYY-MM-DD[THH:MM[:SS]]), got '{v}'"
                )
        s, e = self.start, self.end
        if isinstance(s, int) and isinstance(e, int) and e < s:
            raise ValueError(f"rpc.end ({e}) is before rpc.start ({s})")
        return self
