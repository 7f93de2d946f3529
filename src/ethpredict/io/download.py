"""Binance public data archive client for kline zips.

Archive layout (``base_url`` = https://data.binance.vision)::

    {base}/data/spot/monthly/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01.zip
    {base}/data/spot/monthly/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01.zip.CHECKSUM
    {base}/data/futures/um/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01-05.zip

Each ``.CHECKSUM`` holds ``<sha256>  <file name>``. Every zip is verified
against it before it is moved into place; a file already present that
matches its checksum is never downloaded again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
import urllib.error
import urllib.request
from pathlib import Path

from ethpredict.errors import DownloadError
from ethpredict.io.atomic import atomic_path
from ethpredict.params import DownloadParams

log = logging.getLogger(__name__)
MARKET_PATHS = {"spot": "spot", "um": "futures/um", "cm": "futures/cm"}


def archive_dates(p: DownloadParams) -> list[str]:
    """``YYYY-MM`` months or ``YYYY-MM-DD`` days from start to end inclusive."""
    if p.period == "daily":
        d0, d1 = dt.date.fromisoformat(p.start), dt.date.fromisoformat(p.end)
        return [str(d0 + dt.timedelta(days=i)) for i in range((d1 - d0).days + 1)]
    y, m = map(int, p.start.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= p.end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def archive_url(p: DownloadParams, date: str) -> str:
    name = f"{p.symbol}-{p.interval}-{date}.zip"
    return (
        f"{p.base_url.rstrip('/')}/data/{MARKET_PATHS[p.market]}/{p.period}/klines/"
        f"{p.symbol}/{p.interval}/{name}"
    )


def destination(p: DownloadParams) -> Path:
    """Folder the zips land in; pass it as ``data.path`` to use them."""
    return Path(p.dest) / p.market / p.symbol / p.interval


def fetch(url: str, timeout: float, retries: int) -> bytes:
    """GET ``url``; retries transient failures with exponential back-off."""
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                return resp.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise DownloadError(
                    f"{url}: not found (404) — the archive has not published it"
                ) from None
            err: Exception = exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            err = exc
        if attempt < retries:
            time.sleep(0.5 * 2**attempt)
    raise DownloadError(f"{url}: failed after {retries + 1} attempt(s): {err}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parse_checksum(text: bytes, name: str, url: str) -> str:
    parts = text.decode("utf-8", "replace").split()
    if len(parts) < 1 or len(parts[0]) != 64 or (len(parts) > 1 and parts[1] != name):
        raise DownloadError(f"{url}: not a checksum file for {name}")
    return parts[0].lower()


def download_klines(p: DownloadParams) -> dict:
    """Fetch and verify every archive zip of the configured range.

    Returns:
        A manifest: destination folder and, per file, its URL, SHA-256 and
        status (``present`` — already there and matching its stored
        checksum; ``verified`` — there, checked against a fresh checksum;
        ``downloaded``).
    """
    dest = destination(p)
    files = []
    for date in archive_dates(p):
        url = archive_url(p, date)
        zip_path = dest / url.rsplit("/", 1)[1]
        ck_path = zip_path.with_name(zip_path.name + ".CHECKSUM")
        status = "downloaded"
        if zip_path.exists() and ck_path.exists():
            expected = _parse_checksum(
                ck_path.read_bytes(), zip_path.name, str(ck_path)
            )
            if _sha256(zip_path.read_bytes()) == expected:
                files.append(
                    {
                        "file": zip_path.name,
                        "url": url,
                        "sha256": expected,
                        "status": "present",
                    }
                )
                continue
        ck_text = fetch(url + ".CHECKSUM", p.timeout_s, p.retries)
        expected = _parse_checksum(ck_text, zip_path.name, url + ".CHECKSUM")
        if zip_path.exists() and _sha256(zip_path.read_bytes()) == expected:
            status = "verified"
        else:
            data = fetch(url, p.timeout_s, p.retries)
            if (got := _sha256(data)) != expected:
                raise DownloadError(
                    f"{url}: checksum mismatch (published {expected}, received {got});"
                    " nothing was written"
                )
            with atomic_path(zip_path) as tmp:
                tmp.write_bytes(data)
        with atomic_path(ck_path) as tmp:
            tmp.write_bytes(ck_text)
        log.info("%s %s", status, zip_path)
        files.append(
            {"file": zip_path.name, "url": url, "sha256": expected, "status": status}
        )
    return {
        "dest": str(dest),
        "files": files,
        "downloaded": sum(f["status"] == "downloaded" for f in files),
        "use_with": f"kedro run --params=data.source:binance_klines,data.path:{dest}",
    }
