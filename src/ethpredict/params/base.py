"""Shared pieces of the parameter models: the strict base and common types."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Binance kline intervals and their length in seconds (``1M`` is calendar).
INTERVALS_S: dict[str, int] = {
    "1s": 1,
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "6h": 21600,
    "8h": 28800,
    "12h": 43200,
    "1d": 86400,
    "3d": 259200,
    "1w": 604800,
}
Interval = Literal[
    "1s",
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "8h",
    "12h",
    "1d",
    "3d",
    "1w",
]

PosInt = Annotated[int, Field(ge=1)]


class Strict(BaseModel):
    """Base for every namespace: unknown keys rejected, values immutable,
    no infinite or NaN number."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def __repr_args__(self):  # str() and repr() (kedro-mlflow logs str()) mask secrets
        from ethpredict.secrets import redact_tree

        for name, value in super().__repr_args__():
            yield (
                name,
                redact_tree(value, name or "") if isinstance(value, str) else value,
            )
