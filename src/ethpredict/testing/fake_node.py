"""A local Ethereum JSON-RPC node serving one pool's logs, with faults on
demand — for the ``download_pool`` tests and benchmark (127.0.0.1 only).

The chain: every block from 0 to ``head``. Blocks that carry a log take the
log's timestamp; the others are placed on the 12-second slot grid, counted
back from the next known block (Ethereum's slots; a missed slot is a gap of
24 s or more, which is kept). Hashes are deterministic; :meth:`FakeChain.reorg`
replaces one block's hash (and so its child's ``parentHash``).

Faults (attributes of :class:`FakeNode`, changeable while it runs):
``range_limit`` (an ``eth_getLogs`` over more blocks answers -32602 "block
range too large"), ``max_results`` (more logs answers -32005 "query returned
more than N results"), ``http429_every`` (every N-th HTTP request gets 429),
``sleep_on`` (request numbers that sleep ``sleep_s`` before answering),
``fail_after_getlogs`` (after that many ``eth_getLogs`` calls every request
gets 503: a node that went away mid-download), ``other_contracts``
(addresses with code that are not pools), ``removed_copies`` (each log
is also served once with ``"removed": true``, as after a reorg).
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import http.server
import json
import threading
import time
from pathlib import Path

TOKEN0_SELECTOR = "0x0dfe1681"
USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
SLOT_S = 12


def _hash(n: int, salt: str) -> str:
    return "0x" + hashlib.sha256(f"{salt}:{n}".encode()).hexdigest()


class FakeChain:
    """Blocks 0..``head`` around ``logs`` (eth_getLogs objects with int
    ``blockNumber`` and ``timestamp`` keys, sorted)."""

    def __init__(self, logs: list[dict], pool: str, tail_blocks: int = 200) -> None:
        self.pool = pool.lower()
        self.logs = logs
        self.log_blocks = [g["blockNumber"] for g in logs]
        known: dict[int, int] = {}
        for g in logs:
            known[g["blockNumber"]] = g["timestamp"]
        self.known_blocks = sorted(known)
        self.known_ts = [known[b] for b in self.known_blocks]
        self.head = self.known_blocks[-1] + tail_blocks
        self.overrides: dict[int, str] = {}

    def timestamp(self, n: int) -> int:
        i = bisect.bisect_left(self.known_blocks, n)
        if i < len(self.known_blocks):  # back from the next known block
            return self.known_ts[i] - SLOT_S * (self.known_blocks[i] - n)
        return self.known_ts[-1] + SLOT_S * (n - self.known_blocks[-1])

    def block_hash(self, n: int) -> str:
        return self.overrides.get(n) or _hash(n, "block")

    def reorg(self, n: int) -> None:
        self.overrides[n] = _hash(n, f"reorg{len(self.overrides)}")

    def block(self, n: int) -> dict | None:
        if not 0 <= n <= self.head:
            return None
        base_fee = 8_000_000_000 + (n * 7919) % 30_000_000_000  # 8–38 gwei
        return {
            "number": hex(n),
            "hash": self.block_hash(n),
            "parentHash": self.block_hash(n - 1) if n else "0x" + "0" * 64,
            "timestamp": hex(self.timestamp(n)),
            "baseFeePerGas": hex(base_fee),
            "gasUsed": hex(12_000_000 + (n * 104729) % 18_000_000),
            "gasLimit": hex(30_000_000),
            "transactions": [],
        }

    def get_logs(self, lo: int, hi: int) -> list[dict]:
        i = bisect.bisect_left(self.log_blocks, lo)
        j = bisect.bisect_right(self.log_blocks, hi)
        out = []
        for g in self.logs[i:j]:
            n = g["blockNumber"]
            out.append(
                {
                    "address": self.pool,
                    "topics": g["topics"],
                    "data": g["data"],
                    "blockNumber": hex(n),
                    "transactionHash": g["transactionHash"],
                    "transactionIndex": hex(g["transactionIndex"]),
                    "blockHash": self.block_hash(n),
                    "logIndex": hex(g["logIndex"]),
                    "removed": False,
                }
            )
        return out


def chain_from_raw_csv(path: str | Path, pool: str) -> FakeChain:
    """A chain around demeter-fetch's raw log CSV (``*.raw.csv[.gz]``)."""
    import ast

    import pandas as pd

    frame = pd.read_csv(path, dtype=str)
    ts = pd.to_datetime(frame["block_timestamp"], utc=True)
    secs = ((ts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy()
    logs = [
        {
            "blockNumber": int(b),
            "timestamp": int(t),
            "logIndex": int(li),
            "transactionIndex": int(ti),
            "transactionHash": th,
            "topics": [str(x) for x in ast.literal_eval(tp)],
            "data": d,
        }
        for b, t, li, ti, th, tp, d in zip(
            frame["block_number"],
            secs,
            frame["log_index"],
            frame["transaction_index"],
            frame["transaction_hash"],
            frame["topics"],
            frame["data"],
            strict=True,
        )
    ]
    logs.sort(key=lambda g: (g["blockNumber"], g["logIndex"]))
    return FakeChain(logs, pool)


class FakeNode:
    """``with FakeNode(chain) as node:`` serves ``node.url`` on 127.0.0.1."""

    def __init__(self, chain: FakeChain) -> None:
        self.chain = chain
        self.range_limit: int | None = None
        self.max_results: int | None = None
        self.http429_every: int | None = None
        self.sleep_on: set[int] = set()
        self.sleep_s = 0.0
        self.fail_after_getlogs: int | None = None
        self.removed_copies = False
        self.other_contracts: set[str] = set()  # code, but no token0()
        self.http_requests = 0
        self.calls: list[tuple[str, list]] = []  # every JSON-RPC call answered
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), self._handler()
        )
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"

    def getlogs_ranges(self) -> list[tuple[int, int]]:
        return [
            (int(p[0]["fromBlock"], 16), int(p[0]["toBlock"], 16))
            for m, p in self.calls
            if m == "eth_getLogs"
        ]

    def __enter__(self) -> FakeNode:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, req: dict) -> dict:
        method, params = req.get("method"), req.get("params") or []
        rid = req.get("id")

        def err(code, message):
            return {
                "jsonrpc": "2.0",
                "id": rid,
                "error": {"code": code, "message": message},
            }

        c = self.chain
        if method == "eth_blockNumber":
            result: object = hex(c.head)
        elif method == "eth_chainId":
            result = "0x1"
        elif method == "eth_getBlockByNumber":
            tag = params[0]
            result = c.block(c.head if tag == "latest" else int(tag, 16))
        elif method == "eth_getCode":
            has_code = params[0].lower() in {c.pool, *self.other_contracts}
            result = "0x6080604052" if has_code else "0x"
        elif method == "eth_call":
            call = params[0]
            if (
                call.get("to", "").lower() != c.pool
                or call.get("data") != TOKEN0_SELECTOR
            ):
                return err(-32000, "execution reverted")
            result = "0x" + USDC[2:].rjust(64, "0")
        elif method == "eth_getLogs":
            f = params[0]
            lo, hi = int(f["fromBlock"], 16), int(f["toBlock"], 16)
            if f.get("address", "").lower() != c.pool:
                result = []
            elif self.range_limit and hi - lo + 1 > self.range_limit:
                return err(-32602, f"block range too large (max {self.range_limit})")
            else:
                result = c.get_logs(lo, hi)
                if self.max_results and len(result) > self.max_results:
                    return err(
                        -32005, f"query returned more than {self.max_results} results"
                    )
                if self.removed_copies:
                    result = [*result, *({**g, "removed": True} for g in result)]
        else:
            return err(-32601, f"the method {method} does not exist")
        return {"jsonrpc": "2.0", "id": rid, "result": result}

    def _handler(self):
        node = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code: int, body: bytes = b"") -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with node._lock:
                    node.http_requests += 1
                    n = node.http_requests
                    every = node.http429_every
                    gone = (
                        node.fail_after_getlogs is not None
                        and sum(m == "eth_getLogs" for m, _ in node.calls)
                        >= node.fail_after_getlogs
                    )
                if every and n % every == 0:
                    return self._send(429, b'{"error": "rate limited"}')
                if gone:
                    return self._send(503, b"node unavailable")
                if n in node.sleep_on:
                    time.sleep(node.sleep_s)
                doc = json.loads(body)
                reqs = doc if isinstance(doc, list) else [doc]
                with node._lock:
                    node.calls += [
                        (r.get("method"), r.get("params") or []) for r in reqs
                    ]
                out = [node._answer(r) for r in reqs]
                answer = json.dumps(out if isinstance(doc, list) else out[0]).encode()
                # a client that timed out has gone away
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(200, answer)

        return Handler
