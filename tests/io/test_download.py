"""The download pipeline against a local server in the archive's real layout."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from ethpredict.errors import DownloadError
from ethpredict.io.bars import assemble_bars
from ethpredict.io.binance import read_kline_files
from ethpredict.io.download import download_klines
from ethpredict.params import DownloadParams
from ethpredict.pipelines.download import create_pipeline
from ethpredict.testing.builders import kline_rows


def publish(
    root: Path, market_path: str, name: str, rows, corrupt: bool = False
) -> None:
    folder = root / "data" / market_path / "monthly" / "klines" / "ETHUSDT" / "1m"
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name.replace(".zip", ".csv"), "\n".join(",".join(r) for r in rows))
    data = buf.getvalue()
    (folder / name).write_bytes(data)
    digest = hashlib.sha256(b"tampered" if corrupt else data).hexdigest()
    (folder / f"{name}.CHECKSUM").write_text(f"{digest}  {name}\n")


@pytest.fixture
def archive(tmp_path):
    root = tmp_path / "archive"
    rows = kline_rows(60)
    publish(root, "spot", "ETHUSDT-1m-2024-01.zip", rows[:30])
    publish(root, "spot", "ETHUSDT-1m-2024-02.zip", rows[30:])
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def params(url, tmp_path, **kw) -> DownloadParams:
    base = {
        "base_url": url,
        "start": "2024-01",
        "end": "2024-02",
        "dest": str(tmp_path / "raw"),
        "retries": 0,
        "timeout_s": 5,
    }
    return DownloadParams(**{**base, **kw})


def test_download_verify_and_never_twice(archive, tmp_path):
    _, url, requests = archive
    cat = DataCatalog({"params:download": MemoryDataset(params(url, tmp_path))})
    SequentialRunner().run(create_pipeline(), cat)
    manifest = cat["download_manifest"].load()
    assert [f["status"] for f in manifest["files"]] == ["downloaded", "downloaded"]
    dest = Path(manifest["dest"])
    assert dest == tmp_path / "raw" / "spot" / "ETHUSDT" / "1m"
    assert len(requests) == 4
    bars = assemble_bars(read_kline_files(dest), on_gap="fail").bars
    assert len(bars) == 60

    requests.clear()
    again = download_klines(params(url, tmp_path))
    assert [f["status"] for f in again["files"]] == ["present", "present"]
    assert requests == []

    (dest / "ETHUSDT-1m-2024-01.zip.CHECKSUM").unlink()
    third = download_klines(params(url, tmp_path))
    assert [f["status"] for f in third["files"]] == ["verified", "present"]
    assert requests == [
        "/data/spot/monthly/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01.zip.CHECKSUM"
    ]


def test_checksum_mismatch_writes_nothing(archive, tmp_path):
    root, url, _ = archive
    publish(root, "spot", "ETHUSDT-1m-2024-03.zip", kline_rows(5), corrupt=True)
    with pytest.raises(DownloadError, match="2024-03.zip: checksum mismatch"):
        download_klines(params(url, tmp_path, start="2024-03", end="2024-03"))
    assert not list((tmp_path / "raw").rglob("*2024-03*"))


def test_missing_month_is_a_clear_error(archive, tmp_path):
    _, url, _ = archive
    with pytest.raises(DownloadError, match=r"2024-05.zip.CHECKSUM: not found \(404\)"):
        download_klines(params(url, tmp_path, start="2024-05", end="2024-05"))


def test_futures_and_daily_urls():
    from ethpredict.io.download import archive_dates, archive_url

    p = DownloadParams(
        market="um", period="daily", start="2024-02-28", end="2024-03-01"
    )
    assert archive_dates(p) == ["2024-02-28", "2024-02-29", "2024-03-01"]
    assert archive_url(p, "2024-02-29") == (
        "https://data.binance.vision/data/futures/um/daily/klines/ETHUSDT/1m/"
        "ETHUSDT-1m-2024-02-29.zip"
    )
    m = DownloadParams(start="2023-11", end="2024-02")
    assert archive_dates(m) == ["2023-11", "2023-12", "2024-01", "2024-02"]


def test_unreachable_server_retries_then_fails(tmp_path):
    with pytest.raises(DownloadError, match="failed after 2 attempt"):
        download_klines(params("http://127.0.0.1:9", tmp_path, retries=1, timeout_s=1))
