"""Node of the download pipeline."""

from __future__ import annotations

from ethpredict.io.download import download_klines
from ethpredict.params import DownloadParams


def download_binance_klines(download: DownloadParams) -> dict:
    """Fetch the configured Binance archive kline zips into ``download.dest``
    (verified, never twice) and return the download manifest. ``download``
    is the validated model (Kedro validates typed ``params:`` inputs)."""
    return download_klines(download)
