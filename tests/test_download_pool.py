"""download_pool against a local JSON-RPC node serving the real pool day."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ethpredict.errors import DownloadError
from ethpredict.io.gas import gas_price_per_bar, read_gas_prices
from ethpredict.io.pool_download import download_pool
from ethpredict.io.rpc import RpcClient, show_url
from ethpredict.io.uniswap import _read_events, read_raw_csv
from ethpredict.io.uniswap.abi import EVENT_COLUMNS
from ethpredict.params import RpcParams
from ethpredict.testing.fake_node import FakeNode, chain_from_raw_csv
from ethpredict.testing.project import (
    kedro,
    kedro_command,
    project_root,
    scratch_project,
)

PROJECT = project_root(__file__)

POOL = "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"
DAY = "uniswap-v3/ethereum-usdc-weth-005-2024-01-05"
#: the decoded events compared between the two files (not their line numbers)
COLS = [c for c in EVENT_COLUMNS if c != "line"]


@pytest.fixture
def raw_file(real_data) -> Path:
    return real_data / DAY / f"ethereum-{POOL}-2024-01-05.raw.csv.gz"


@pytest.fixture
def node(raw_file):
    with FakeNode(chain_from_raw_csv(raw_file, POOL)) as n:
        yield n


def params(node, dest, **kw) -> RpcParams:
    base = {
        "url": node.url,
        "pool": POOL,
        "start": "2024-01-05",
        "end": "2024-01-05",
        "dest": str(dest),
        "timeout_s": 1.0,
        "retries": 4,
    }
    return RpcParams(**{**base, **kw})


def events(dest: Path) -> pd.DataFrame:
    ev, _, _, _ = _read_events(sorted(dest.glob("*.raw.jsonl")), "raw")
    return ev[COLS].reset_index(drop=True)


def reference(raw_file: Path) -> pd.DataFrame:
    ev, _, _ = read_raw_csv(pd.read_csv(raw_file, dtype=str), str(raw_file))
    return ev[COLS].reset_index(drop=True)


def test_every_fault_survived_and_the_day_equals_the_shared_file(
    node, raw_file, tmp_path, monkeypatch
):
    monkeypatch.setattr("ethpredict.io.rpc.MAX_SLEEP_S", 0.05)
    node.range_limit, node.max_results = 1500, 600  # both kinds of refusal
    node.http429_every = 7
    node.sleep_on, node.sleep_s = {5, 40}, 1.5  # past the client's 1 s timeout
    node.removed_copies = True
    m = download_pool(params(node, tmp_path), node.url)
    pd.testing.assert_frame_equal(events(tmp_path), reference(raw_file))
    assert m["logs_fetched"] == 6234 and m["ranges_fetched"] == 4
    spans = node.getlogs_ranges()
    assert max(b - a + 1 for a, b in spans) == 2000  # asked, refused, halved
    # the per-block table is a gas price series as it is, covering the day
    table = pd.read_csv(tmp_path / "blocks.csv")
    assert table["number"].is_monotonic_increasing and table["number"].is_unique
    assert (np.diff(table["number"]) == 1).all()
    assert table["number"].iat[0] == m["start_block"] == 18937381
    assert pd.Timestamp(table["timestamp"].iat[0], unit="s") >= pd.Timestamp(
        "2024-01-05"
    )
    assert pd.Timestamp(table["timestamp"].iat[-1], unit="s") < pd.Timestamp(
        "2024-01-06"
    )
    g = read_gas_prices(tmp_path / "blocks.csv")
    assert len(g["gwei"]) == len(table) and "block" in g and "time_ns" in g
    idx = pd.date_range("2024-01-05 01:00", periods=3, freq="1h", tz="UTC")
    assert (gas_price_per_bar(str(tmp_path / "blocks.csv"), idx) > 0).all()


def test_a_kill_mid_download_resumes_with_only_the_missing_ranges(
    node, raw_file, tmp_path, monkeypatch
):
    monkeypatch.setattr("ethpredict.io.rpc.MAX_SLEEP_S", 0.01)
    node.fail_after_getlogs = 2  # the node goes away after two ranges
    with pytest.raises(DownloadError, match="503"):
        download_pool(params(node, tmp_path, retries=1), node.url)
    done = node.getlogs_ranges()
    assert len(done) == 2
    node.fail_after_getlogs, node.calls = None, []
    m = download_pool(params(node, tmp_path), node.url)
    again = node.getlogs_ranges()
    assert m["ranges_fetched"] == 2 and len(again) == 2
    assert not set(again) & set(done)
    pd.testing.assert_frame_equal(events(tmp_path), reference(raw_file))
    node.calls = []  # a third run has nothing to fetch
    assert download_pool(params(node, tmp_path), node.url)["ranges_fetched"] == 0
    assert node.getlogs_ranges() == []


def test_a_process_killed_mid_download_leaves_no_half_file_and_resumes(
    node, raw_file, tmp_path
):
    """A real SIGKILL of a download in another process, once it has recorded
    a range: every log file it left is whole, and a restart fetches only the
    missing ranges and gives the shared day exactly."""
    import os
    import signal
    import sys
    import time

    node.sleep_on, node.sleep_s = set(range(100_000)), 0.03  # a slow node
    code = (
        "import sys; from ethpredict.io.pool_download import download_pool; "
        "from ethpredict.params import RpcParams; "
        f"download_pool(RpcParams(url={node.url!r}, pool={POOL!r}, start='2024-01-05', "
        f"end='2024-01-05', dest={str(tmp_path)!r}, max_range=500), {node.url!r})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE)
    state = tmp_path / ".download_state.json"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if state.exists() and json.loads(state.read_text()).get("ranges"):
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    recorded = json.loads(state.read_text())["ranges"]
    assert recorded  # killed after some, before all
    for f in tmp_path.glob("*.raw.jsonl"):  # every file left is whole JSON lines
        for line in f.read_text().splitlines():
            json.loads(line)
    node.sleep_on, node.calls = set(), []
    m = download_pool(params(node, tmp_path, max_range=500), node.url)
    assert m["ranges_fetched"] > 0
    fetched = node.getlogs_ranges()
    assert fetched and not [
        (a, b) for a, b in fetched for r in recorded if a <= r["to"] and r["from"] <= b
    ]  # nothing recorded is fetched again
    pd.testing.assert_frame_equal(events(tmp_path), reference(raw_file))


def test_a_reorg_below_the_recorded_end_is_refused_in_one_line(node, tmp_path):
    first = params(node, tmp_path, start=18937400, end=18938399)
    download_pool(first, node.url)
    node.chain.reorg(18938399)
    with pytest.raises(DownloadError) as exc:
        download_pool(params(node, tmp_path, start=18937400, end=18940000), node.url)
    msg = str(exc.value)
    assert "\n" not in msg and "reorg" in msg and "18938399" in msg


def test_one_line_errors(node, tmp_path):
    head = node.chain.head
    node.other_contracts = {"0x" + "2" * 40}
    cases = [
        ({"pool": "0x" + "1" * 40}, "no contract code"),
        ({"pool": "0x" + "2" * 40}, "not a Uniswap v3 pool"),
        ({"start": 1, "end": head - 10}, "beyond the node's head"),
        ({"end": "2024-01-06"}, "beyond the node's head"),
        ({"url": "http://127.0.0.1:9/"}, "cannot reach the node"),
    ]
    for kw, want in cases:
        p = params(node, tmp_path / "x", **kw)
        with pytest.raises(DownloadError, match=want) as exc:
            download_pool(p, p.url)
        assert "\n" not in str(exc.value)


def test_the_url_is_never_shown_past_its_host():
    url = "https://eth-mainnet.example.com/v2/abcDEF123456ghiJKL7890?x=1"
    assert show_url(url) == "https://eth-mainnet.example.com/***"
    with pytest.raises(DownloadError) as exc:
        RpcClient("http://127.0.0.1:9/v2/secretKEY123456789012", retries=0).call(
            "eth_blockNumber"
        )
    assert "secret" not in str(exc.value)


def test_rpc_params_refuse_a_bad_range():
    with pytest.raises(ValueError, match="rpc.end"):
        RpcParams(start=10, end=5)
    with pytest.raises(ValueError, match="UTC date"):
        RpcParams(start="5 Jan 2024")


@pytest.mark.parametrize("how", ["params", "credentials", "env"])
def test_a_sliced_kedro_run_against_the_local_node(node, tmp_path, how):
    project = scratch_project(tmp_path / "project", PROJECT)
    dest = tmp_path / "pool"
    given = f"rpc.pool={POOL},rpc.start=18937400,rpc.end=18939399,rpc.dest={dest}"
    env = {}
    if how == "params":
        given += f",rpc.url={node.url}"
    elif how == "credentials":
        local = project / "conf" / "local"
        local.mkdir(parents=True, exist_ok=True)
        (local / "credentials.yml").write_text(f"my_node:\n  url: {node.url}\n")
        given += ",rpc.url_credentials=my_node"
    else:
        local = project / "conf" / "local"
        local.mkdir(parents=True, exist_ok=True)
        (local / "parameters_download_pool.yml").write_text(
            "rpc:\n  url: ${oc.env:ETH_RPC_URL}\n"
        )
        env = {"ETH_RPC_URL": node.url}
    argv, full_env = kedro_command(
        "run", "--pipeline=download_pool", f"--params={given}", **env
    )
    r = subprocess.run(
        argv,
        cwd=project,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(events(dest)) > 1000
    manifest = project / "data" / "01_raw" / "download_pool_manifest.json"
    assert json.loads(manifest.read_text())["node"] == node.url.rstrip("/")


def test_a_kedro_run_without_a_url_says_so_in_one_line(tmp_path):
    project = scratch_project(tmp_path / "project", PROJECT)
    r = kedro(
        project,
        "run",
        "--pipeline=download_pool",
        f"--params=rpc.pool={POOL},rpc.start=1,rpc.end=2",
    )
    assert r.returncode == 1
    assert "download_pool needs rpc.url" in r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
