"""A Uniswap v3 pool's logs and per-block table from a JSON-RPC node.

Written to ``dest`` (``data/01_raw/uniswap_v3/<pool>`` by default):

* ``<pool>-<from>-<to>.raw.jsonl`` — the pool's Swap/Mint/Burn/Collect logs
  as ``eth_getLogs`` returns them, one per line, each with
  ``blockTimestamp`` (from its block) — the ``raw`` form the ``uniswap_v3``
  reader takes (``data.path: <dest>``). Logs with ``"removed": true`` are
  dropped.
* ``blocks.csv`` — one row per block: ``number, timestamp`` (epoch s),
  ``base_fee_gwei`` (0 before London), ``base_fee_wei, gas_used,
  gas_limit, hash`` — a ``backtest.gas_price_path`` as it is.
* ``.download_state.json`` — the finished block ranges with the hashes at
  their ends; a rerun fetches only what is missing, and refuses (one line)
  when a recorded hash no longer matches the chain.

Every file is written atomically; a range is recorded only after its files.
Blocks closer than ``confirmations`` to the node's head are never read.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pandas as pd

from ethpredict.errors import DownloadError
from ethpredict.io.atomic import atomic_path
from ethpredict.io.rpc import RpcClient, RpcError
from ethpredict.io.uniswap.abi import BURN, COLLECT, MINT, SWAP
from ethpredict.params import RpcParams

log = logging.getLogger(__name__)
TOPICS = [SWAP, MINT, BURN, COLLECT]
TOKEN0 = "0x0dfe1681"  # token0()
STATE = ".download_state.json"
BLOCK_PARTS = ".blocks"
BLOCK_COLUMNS = [
    "number",
    "timestamp",
    "base_fee_gwei",
    "base_fee_wei",
    "gas_used",
    "gas_limit",
    "hash",
]


def destination(p: RpcParams) -> Path:
    return Path(p.dest or f"data/01_raw/uniswap_v3/{p.pool.lower()}")


def url_from_credentials(p: RpcParams, config_loader) -> str:
    """``rpc.url_credentials: KEY`` → ``credentials[KEY].url`` (from
    ``conf/<env>/credentials.yml``), so the key is in no parameter file."""
    key = p.url_credentials
    try:
        entry = (config_loader["credentials"] or {}).get(key)
    except (KeyError, ValueError):
        entry = None
    url = entry.get("url") if isinstance(entry, dict) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise DownloadError(
            f"rpc.url_credentials: '{key}' needs an entry `{key}: {{url: "
            "https://…}` in conf/local/credentials.yml "
            f"(found {'no entry' if entry is None else 'no http(s) `url`'})"
        )
    return url


def check_pool(client: RpcClient, pool: str) -> None:
    """Refuse an address without code, or whose ``token0()`` fails."""
    code = client.call("eth_getCode", [pool, "latest"])
    if not code or code in ("0x", "0x0"):
        raise DownloadError(f"rpc.pool {pool} has no contract code on this chain")
    try:
        out = client.call("eth_call", [{"to": pool, "data": TOKEN0}, "latest"])
    except RpcError as exc:
        raise DownloadError(
            f"rpc.pool {pool} is not a Uniswap v3 pool (token0() failed: "
            f"{exc.rpc_message})"
        ) from None
    if not isinstance(out, str) or len(out) < 66:
        raise DownloadError(f"rpc.pool {pool} is not a Uniswap v3 pool (no token0())")


def _block(client: RpcClient, n: int) -> dict:
    b = client.call("eth_getBlockByNumber", [hex(n), False])
    if not b:
        raise DownloadError(f"{client.where}: block {n} is unknown to the node")
    return b


def _as_time(value: str, end: bool) -> tuple[int, bool]:
    """Epoch seconds of a UTC date/time; for an end date, the next day (exclusive)."""
    text = value.replace(" ", "T").replace("Z", "+00:00")
    if len(text) == 10:
        day = dt.date.fromisoformat(text) + dt.timedelta(days=int(end))
        t = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    else:
        t = dt.datetime.fromisoformat(text)
        t = t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t
    return int(t.timestamp()), end


def first_block_at(client: RpcClient, t: int, hi: int) -> int:
    """The first block with timestamp ≥ ``t`` in 0..``hi`` (``hi`` + 1 if none):
    a binary search over block timestamps."""
    lo = 0
    while lo <= hi:
        mid = (lo + hi) // 2
        if int(_block(client, mid)["timestamp"], 16) >= t:
            hi = mid - 1
        else:
            lo = mid + 1
    return lo


def resolve_block(client: RpcClient, value: int | str, end: bool, safe: int) -> int:
    """A block number, or the first (start) / last (end) block of a UTC date
    (a time: the first block at it / the last block before it)."""
    if isinstance(value, int) or value.isdigit():
        return int(value)
    t, _ = _as_time(value, end)
    first = first_block_at(client, t, safe)
    if first > safe:  # an end's range is complete only once a later block exists
        raise DownloadError(
            f"rpc.{'end' if end else 'start'} '{value}' is beyond the node's head minus "
            f"the confirmations (block {safe}); choose an earlier date"
        )
    return first - 1 if end else first


def _missing(done: list[dict], lo: int, hi: int, step: int) -> list[tuple[int, int]]:
    """The block spans of ``lo``..``hi`` not in ``done``, cut into ``step`` blocks."""
    out, a = [], lo
    for r in sorted(done, key=lambda r: r["from"]):
        if r["to"] < a or r["from"] > hi:
            continue
        if r["from"] > a:
            out.append((a, r["from"] - 1))
        a = max(a, r["to"] + 1)
    if a <= hi:
        out.append((a, hi))
    return [(s, min(b, s + step - 1)) for a, b in out for s in range(a, b + 1, step)]


def _load_state(dest: Path, pool: str) -> dict:
    path = dest / STATE
    if not path.exists():
        return {"pool": pool, "ranges": []}
    state = json.loads(path.read_text())
    if state.get("pool") != pool:
        raise DownloadError(
            f"{dest} holds pool {state.get('pool')}'s download, not {pool}; "
            "choose another rpc.dest"
        )
    return state


def _write_json(path: Path, doc: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=1))


def check_recorded(client: RpcClient, state: dict, dest: Path) -> None:
    """Refuse (one line) when a recorded range's last block hash differs from
    the chain's: the files hold blocks the chain has since replaced."""
    ends = sorted(state["ranges"], key=lambda r: r["to"])
    if not ends:
        return
    blocks = client.batch("eth_getBlockByNumber", [[hex(r["to"]), False] for r in ends])
    for r, b in zip(ends, blocks, strict=True):
        if not b or b["hash"] != r["hash"]:
            raise DownloadError(
                f"{dest}: block {r['to']} was {r['hash'][:12]}… when downloaded but the "
                f"chain now has {(b or {}).get('hash', 'none')[:12]}… (a reorg); "
                "refusing to extend it — move the folder away and download again"
            )


def _fetch_range(client, p: RpcParams, pool, a, b, state) -> tuple[list, list, int]:
    blocks = client.batch(
        "eth_getBlockByNumber", [[hex(n), False] for n in range(a, b + 1)]
    )
    known = {r["to"]: r["hash"] for r in state["ranges"]}
    parents = {r["from"]: r["parent"] for r in state["ranges"]}
    prev = known.get(a - 1)
    for n, blk in zip(range(a, b + 1), blocks, strict=True):
        if not blk or int(blk["number"], 16) != n:
            raise DownloadError(f"{client.where}: block {n} is unknown to the node")
        if prev is not None and blk["parentHash"] != prev:
            raise DownloadError(
                f"block {n}'s parent is not the block {n - 1} recorded (a reorg); "
                "refusing to extend the download — move the folder away and retry"
            )
        prev = blk["hash"]
    if b + 1 in parents and parents[b + 1] != prev:
        raise DownloadError(
            f"block {b} is not the parent recorded for block {b + 1} (a reorg); "
            "refusing to extend the download — move the folder away and retry"
        )
    logs, spans = client.get_logs(pool, TOPICS, a, b, p.max_range)
    by_n = {int(blk["number"], 16): blk for blk in blocks}
    kept = []
    for g in logs:
        if g.get("removed"):
            continue
        n = int(g["blockNumber"], 16)
        blk = by_n.get(n)
        if blk is None or g.get("blockHash", blk["hash"]) != blk["hash"]:
            raise DownloadError(
                f"a log of block {n} is from block hash {g.get('blockHash')}, not the "
                "chain's (a reorg during the download); run the command again"
            )
        g.setdefault("blockTimestamp", blk["timestamp"])
        kept.append(g)
    kept.sort(key=lambda g: (int(g["blockNumber"], 16), int(g["logIndex"], 16)))
    return kept, blocks, len(spans)


def _block_rows(blocks: list[dict]) -> pd.DataFrame:
    def num(b, k):
        return int(b.get(k) or "0x0", 16)

    return pd.DataFrame(
        {
            "number": [num(b, "number") for b in blocks],
            "timestamp": [num(b, "timestamp") for b in blocks],
            "base_fee_gwei": [num(b, "baseFeePerGas") / 1e9 for b in blocks],
            "base_fee_wei": [num(b, "baseFeePerGas") for b in blocks],
            "gas_used": [num(b, "gasUsed") for b in blocks],
            "gas_limit": [num(b, "gasLimit") for b in blocks],
            "hash": [b["hash"] for b in blocks],
        }
    )


def _merge_blocks(dest: Path) -> int:
    parts = sorted((dest / BLOCK_PARTS).glob("*.csv"))
    if not parts:
        return 0
    table = pd.concat([pd.read_csv(f) for f in parts], ignore_index=True)
    table = table.sort_values("number").drop_duplicates("number")
    with atomic_path(dest / "blocks.csv") as tmp:
        table[BLOCK_COLUMNS].to_csv(tmp, index=False)
    return len(table)


def download_pool(p: RpcParams, url: str) -> dict:
    """Fetch the missing block ranges of ``p.start``..``p.end`` (see the
    module docstring) and return a manifest."""
    if not p.pool or p.start is None or p.end is None:
        raise DownloadError("download_pool needs rpc.pool, rpc.start and rpc.end")
    pool = p.pool.lower()
    client = RpcClient(
        url, timeout_s=p.timeout_s, retries=p.retries, batch_size=p.batch_size
    )
    head = int(client.call("eth_blockNumber"), 16)
    safe = head - p.confirmations
    check_pool(client, pool)
    start = resolve_block(client, p.start, False, safe)
    end = resolve_block(client, p.end, True, safe)
    if end > safe:
        raise DownloadError(
            f"rpc.end (block {end}) is beyond the node's head {head} minus "
            f"{p.confirmations} confirmations (block {safe}); choose an earlier end"
        )
    if end < start:
        raise DownloadError(
            f"rpc.end (block {end}) is before rpc.start (block {start})"
        )
    dest = destination(p)
    state = _load_state(dest, pool)
    check_recorded(client, state, dest)
    todo = _missing(state["ranges"], start, end, p.max_range)
    n_logs = n_calls = 0
    for a, b in todo:
        logs, blocks, calls = _fetch_range(client, p, pool, a, b, state)
        if logs:
            with atomic_path(dest / f"{pool}-{a}-{b}.raw.jsonl") as tmp:
                tmp.write_text("".join(json.dumps(g) + "\n" for g in logs))
        with atomic_path(dest / BLOCK_PARTS / f"{a:012d}-{b:012d}.csv") as tmp:
            _block_rows(blocks).to_csv(tmp, index=False)
        state["ranges"].append(
            {
                "from": a,
                "to": b,
                "hash": blocks[-1]["hash"],
                "parent": blocks[0]["parentHash"],
                "logs": len(logs),
            }
        )
        _write_json(dest / STATE, state)
        n_logs, n_calls = n_logs + len(logs), n_calls + calls
        log.info("blocks %d–%d: %d logs", a, b, len(logs))
    n_blocks = (
        _merge_blocks(dest) if todo or not (dest / "blocks.csv").exists() else None
    )
    return {
        "dest": str(dest),
        "node": client.where,
        "pool": pool,
        "start_block": start,
        "end_block": end,
        "head": head,
        "ranges_fetched": len(todo),
        "logs_fetched": n_logs,
        "get_logs_calls": n_calls,
        "http_requests": client.http_requests,
        "blocks": n_blocks if n_blocks is not None else "unchanged",
        "use_with": f"kedro run --params=data.source:uniswap_v3,data.path:{dest},"
        f"backtest.gas_price_path:{dest / 'blocks.csv'}",
    }
