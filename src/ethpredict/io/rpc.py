"""A small Ethereum JSON-RPC client (standard library only).

* Batches: :meth:`RpcClient.batch` sends up to ``batch_size`` requests per
  HTTP POST and returns the results in request order.
* Retries: timeouts, dropped connections, HTTP 429 and 5xx are retried with
  exponential back-off and jitter (0.5 s · 2^attempt · U(0.5, 1.5), at most
  8 s each, ``retries`` times), so the wait is bounded; a ``Retry-After`` up
  to 8 s is honoured.
* Errors are one line (:class:`~ethpredict.errors.DownloadError`) and never
  show the URL beyond its host (:func:`show_url`): RPC URLs carry API keys.
* :meth:`RpcClient.get_logs` walks a block range with ``eth_getLogs``,
  halving the span when the node refuses it (too many results, range too
  large) and doubling it back after each success.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ethpredict.errors import DownloadError

#: messages of nodes refusing an eth_getLogs span (geth, erigon, Infura,
#: Alchemy, QuickNode, Ankr …): the span is halved and retried
_RANGE_ERROR = re.compile(
    r"more than \d+ results|too many|block range|range (is )?too (large|wide)|"
    r"exceed|limited to|response size|query timeout|max.*range|range.*max",
    re.I,
)
_RANGE_CODES = {-32005, -32602, -32614, -32000, -32600, -32001}
MAX_SLEEP_S = 8.0


def show_url(url: str) -> str:
    """``scheme://host[:port]`` and ``/***`` for any path or query: the part
    of a node's URL that may be written in a message."""
    u = urllib.parse.urlsplit(url)
    host = u.hostname or "?"
    port = f":{u.port}" if u.port else ""
    rest = "/***" if (u.path.strip("/") or u.query) else ""
    return f"{u.scheme}://{host}{port}{rest}"


class RpcError(DownloadError):
    """The node answered a request with a JSON-RPC error."""

    def __init__(self, method: str, code: int, message: str, where: str) -> None:
        self.method, self.code, self.rpc_message = method, code, message
        super().__init__(f"{where}: {method} failed: {message} (code {code})")

    def is_range_error(self) -> bool:
        return self.code in _RANGE_CODES and bool(_RANGE_ERROR.search(self.rpc_message))


class RpcClient:
    """JSON-RPC over HTTP(S) POST to ``url``.

    Attributes:
        http_requests: HTTP POSTs sent (retries included).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 30.0,
        retries: int = 5,
        batch_size: int = 100,
        backoff_s: float = 0.5,
    ) -> None:
        self.url, self.where = url, show_url(url)
        self.timeout_s, self.retries = timeout_s, retries
        self.batch_size, self.backoff_s = batch_size, backoff_s
        self.http_requests = 0
        self._id = 0
        self._answered = False  # an unreachable node on the first request fails fast

    def _post(self, payload: Any) -> Any:
        body = json.dumps(payload).encode()
        why = ""
        for attempt in range(self.retries + 1):
            retry_after = None
            req = urllib.request.Request(
                self.url,
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "ethpredict",
                },
            )
            self.http_requests += 1
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    text = resp.read()
                self._answered = True
                try:
                    return json.loads(text)
                except json.JSONDecodeError:
                    raise DownloadError(
                        f"{self.where}: the answer is not JSON — is this a JSON-RPC "
                        "node's URL?"
                    ) from None
            except urllib.error.HTTPError as exc:
                if exc.code != 429 and exc.code < 500:
                    raise DownloadError(
                        f"{self.where}: HTTP {exc.code} {exc.reason} — check rpc.url "
                        "(and its key)"
                    ) from None
                why = f"HTTP {exc.code}"
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
            except urllib.error.URLError as exc:
                reason = exc.reason
                if isinstance(reason, socket.timeout | TimeoutError):
                    why = f"no answer within {self.timeout_s:g} s"
                elif isinstance(reason, socket.gaierror) or not self._answered:
                    raise DownloadError(
                        f"{self.where}: cannot reach the node "
                        f"({getattr(reason, 'strerror', None) or reason}) — check rpc.url"
                    ) from None
                else:
                    why = str(getattr(reason, "strerror", None) or reason)
            except TimeoutError:
                why = f"no answer within {self.timeout_s:g} s"
            except (ConnectionError, http.client.HTTPException) as exc:
                why = type(exc).__name__
            if attempt < self.retries:
                wait = self.backoff_s * 2**attempt * random.uniform(0.5, 1.5)
                if retry_after and retry_after.isdigit():
                    wait = max(wait, float(retry_after))
                time.sleep(min(MAX_SLEEP_S, wait))
        raise DownloadError(
            f"{self.where}: failed after {self.retries + 1} attempt(s): {why}"
        )

    def _request(self, method: str, params: list) -> dict:
        self._id += 1
        return {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}

    def _result(self, method: str, answer: Any) -> Any:
        if not isinstance(answer, dict) or (
            "result" not in answer and "error" not in answer
        ):
            raise DownloadError(f"{self.where}: {method}: not a JSON-RPC answer")
        if answer.get("error") is not None:
            e = answer["error"]
            code = e.get("code", 0) if isinstance(e, dict) else 0
            msg = str(e.get("message", e) if isinstance(e, dict) else e)
            raise RpcError(method, int(code), msg.splitlines()[0][:300], self.where)
        return answer["result"]

    def call(self, method: str, params: list | None = None) -> Any:
        """One request's result; :class:`RpcError` on a JSON-RPC error."""
        return self._result(method, self._post(self._request(method, params or [])))

    def batch(self, method: str, params_list: list[list]) -> list[Any]:
        """``method`` once per entry of ``params_list``, ``batch_size`` per
        POST; the results in order (the first error raised)."""
        out: list[Any] = []
        for i in range(0, len(params_list), self.batch_size):
            reqs = [
                self._request(method, p) for p in params_list[i : i + self.batch_size]
            ]
            answer = self._post(reqs)
            if isinstance(answer, dict):  # one error for the whole batch
                self._result(method, answer)
                raise DownloadError(f"{self.where}: {method}: a batch got one answer")
            by_id = {a.get("id"): a for a in answer if isinstance(a, dict)}
            for r in reqs:
                if r["id"] not in by_id:
                    raise DownloadError(
                        f"{self.where}: {method}: the batch answer lacks request {r['id']}"
                    )
                out.append(self._result(method, by_id[r["id"]]))
        return out

    def get_logs(
        self, address: str, topics: list[str], lo: int, hi: int, max_range: int
    ) -> tuple[list[dict], list[tuple[int, int]]]:
        """Every log of ``address`` with topic 0 in ``topics`` in blocks
        ``lo``..``hi`` and the block spans asked (in order)."""
        logs: list[dict] = []
        spans: list[tuple[int, int]] = []
        a, span = lo, max_range
        while a <= hi:
            b = min(hi, a + span - 1)
            flt = {
                "address": address,
                "topics": [topics],
                "fromBlock": hex(a),
                "toBlock": hex(b),
            }
            try:
                got = self.call("eth_getLogs", [flt])
            except RpcError as exc:
                if exc.is_range_error() and b > a:
                    span = max(1, (b - a + 1) // 2)
                    continue
                raise
            if not isinstance(got, list):
                raise DownloadError(f"{self.where}: eth_getLogs: not a list of logs")
            logs += got
            spans.append((a, b))
            a, span = b + 1, min(max_range, span * 2)
        return logs, spans
