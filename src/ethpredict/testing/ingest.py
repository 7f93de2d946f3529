"""The ingest node on data parameters as Kedro passes them, and the check
that a refusal is one line naming what it should."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ethpredict.params import DataParams
from ethpredict.pipelines.data_engineering.nodes import ingest_market_data
from ethpredict.testing.builders import write_csv


def ingest(data: dict):
    """The node on ``data`` as Kedro passes it: a validated ``DataParams``."""
    return ingest_market_data(DataParams(**data))


def klines(
    folder: Path, rows: list[list[str]], name: str = "k.csv", **data
) -> pd.DataFrame:
    """Write kline ``rows`` to ``folder/name`` and ingest them (``data``
    overrides the data parameters, ``path`` included)."""
    path = write_csv(folder / name, rows)
    return ingest({"source": "binance_klines", "path": str(path), **data})


def ohlcv(path: Path, **data):
    """Ingest the generic OHLCV file or folder ``path``."""
    return ingest({"source": "ohlcv", "path": str(path), **data})


def refused(call, *words: str):
    """Call ``call`` and check it raises ``DataValidationError`` with a
    one-line message holding every one of ``words``; returns the error.
    Needs pytest (imported here, so the module imports without it)."""
    import pytest

    from ethpredict.errors import DataValidationError

    with pytest.raises(DataValidationError) as err:
        call()
    msg = str(err.value)
    assert len(msg.splitlines()) == 1, msg
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    return err.value
