"""Pool arithmetic: the ETH price of ``sqrtPriceX96`` or a tick, ETH and
quote amounts in whole tokens, the swaps as trades, the in-range liquidity
after every event, the chain's block time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.uniswap.pools import Pool
from ethpredict.timeaxis import NS_PER_S

Q96 = 2.0**96


def eth_price(pool: Pool, sqrt_price_x96=None, tick=None) -> np.ndarray:
    """ETH price in the pool's other token from ``sqrtPriceX96`` or a tick.

    Args:
        pool: Token order and decimals.
        sqrt_price_x96: ``sqrt(token1/token0 in raw units) · 2^96``.
        tick: Else the tick (``1.0001^tick`` = token1/token0 in raw units).

    Returns:
        Whole quote tokens per ETH.
    """
    if sqrt_price_x96 is not None:
        raw = (np.asarray(sqrt_price_x96, dtype=np.float64) / Q96) ** 2
    else:
        raw = 1.0001 ** np.asarray(tick, dtype=np.float64)
    if pool.eth_token == "token1":
        return 10.0 ** (pool.decimals1 - pool.decimals0) / raw
    return raw * 10.0 ** (pool.decimals0 - pool.decimals1)


def eth_quote_amounts(pool: Pool, a0, a1) -> tuple[np.ndarray, np.ndarray]:
    """Signed ETH and quote amounts into the pool, in whole tokens."""
    d0, d1 = 10.0**pool.decimals0, 10.0**pool.decimals1
    if pool.eth_token == "token1":
        return np.asarray(a1) / d1, np.asarray(a0) / d0
    return np.asarray(a0) / d0, np.asarray(a1) / d1


def swaps_table(events: pd.DataFrame, pool: Pool) -> pd.DataFrame:
    """The swaps as trades: ``time`` (UTC), ``trade_id`` (block·10^6 + log
    index), ``price`` (pool price after the swap), ``qty`` (ETH), ``side``
    (+1 taker bought ETH), ``block``, ``log_index``, ``liquidity`` (in-range,
    after the swap), ``fee_bps``, ``exec_price`` (quote paid per ETH, fee
    included), ``quote_qty``, ``recv_time_ns`` (−1: not a capture),
    ``file``/``line``."""
    s = events[events["event"] == "SWAP"]
    eth, quote = eth_quote_amounts(
        pool, s["amount0"].to_numpy(), s["amount1"].to_numpy()
    )
    sp = s["sqrt_price_x96"].to_numpy()
    price = eth_price(pool, sqrt_price_x96=sp)
    bad = np.flatnonzero(~(np.isfinite(price) & (price > 0)) | (eth == 0))
    if bad.size:
        i = int(bad[0])
        raise DataValidationError(
            "swap with a zero ETH amount or no price (sqrtPriceX96 "
            f"{sp[i]:.0f}, ETH amount {eth[i]})",
            file=str(s["file"].iat[i]) if "file" in s else None,
            row=int(s["line"].iat[i]),
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        exec_price = np.abs(quote / eth)
    out = pd.DataFrame(
        {
            "time": pd.to_datetime(s["time_ns"].to_numpy(), unit="ns", utc=True),
            "trade_id": s["block"].to_numpy() * 1_000_000 + s["log_index"].to_numpy(),
            "price": price,
            "qty": np.abs(eth),
            "side": np.where(eth < 0, 1, -1).astype(np.int8),
            "block": s["block"].to_numpy(),
            "log_index": s["log_index"].to_numpy(),
            "liquidity": s["liquidity"].to_numpy(),
            "fee_bps": pool.fee_bps,
            "exec_price": exec_price,
            "quote_qty": np.abs(quote),
            "recv_time_ns": -1,
            "file": s["file"].to_numpy() if "file" in s else "",
            "line": s["line"].to_numpy(),
        }
    )
    return out.reset_index(drop=True)


def liquidity_series(events: pd.DataFrame, pool: Pool) -> pd.DataFrame:
    """In-range liquidity after every event: a swap reports it; a Mint (Burn)
    whose range holds the current tick adds (removes) its amount; unknown
    (NaN) before the first swap shows the current tick."""
    ev = events["event"].to_numpy()
    liq_in = events["liquidity"].to_numpy()
    tick_in = events["tick"].to_numpy()
    lo, hi = events["tick_lower"].to_numpy(), events["tick_upper"].to_numpy()
    n = len(events)
    liq, tick, delta = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n)
    cur_l, cur_t = np.nan, np.nan
    for i in range(n):
        if ev[i] == "SWAP":
            cur_l, cur_t = liq_in[i], tick_in[i]
        elif ev[i] in ("MINT", "BURN"):
            delta[i] = liq_in[i] if ev[i] == "MINT" else -liq_in[i]
            if np.isfinite(cur_t) and lo[i] <= cur_t < hi[i]:
                cur_l += delta[i]
        liq[i], tick[i] = cur_l, cur_t
    return pd.DataFrame(
        {
            "time": pd.to_datetime(events["time_ns"].to_numpy(), unit="ns", utc=True),
            "block": events["block"].to_numpy(),
            "log_index": events["log_index"].to_numpy(),
            "event": ev.astype(str),
            "tick": tick,
            "price": eth_price(pool, tick=tick),
            "liquidity": liq,
            "liquidity_delta": delta,
        }
    )


def block_time_s(events: pd.DataFrame) -> float:
    """The chain's block time: the median seconds per block between events of
    different blocks (whole seconds, at least 1)."""
    b = events.drop_duplicates("block")
    db = np.diff(b["block"].to_numpy())
    dt = np.diff(b["time_ns"].to_numpy()) / NS_PER_S
    ok = db > 0
    if not ok.any():
        return 12.0
    return float(max(1, round(float(np.median(dt[ok] / db[ok])))))
