"""Uniswap v3 pool events: raw logs, decoded event tables, per-minute summaries.

Three forms are read (``data.uniswap.form``; ``auto`` takes the first form a
folder holds, in this order):

* **raw** — logs as ``eth_getLogs`` returns them: ``topics`` + ``data`` hex,
  decoded here with the pool's event ABI (Swap, Mint, Burn, Collect; other
  events such as Flash are counted and skipped). As CSV (demeter-fetch's
  ``*.raw.csv`` layout: ``block_number, block_timestamp, transaction_hash,
  transaction_index, log_index, topics, data``) or as the JSON-RPC result (a
  list of log objects, ``{"result": [...]}``, or one object per line), which
  must carry ``blockTimestamp`` (recent clients add it; it is what places a
  log in time).
* **decoded** — the same events already decoded (demeter-fetch's
  ``*.pool.tick.csv`` / ``*.tick.csv``: ``tx_type``, ``amount0/1``,
  ``sqrtPriceX96``, ``current_tick``, ``tick_lower/upper``, ``liquidity``).
* **minute** — per-minute pool summaries (demeter's ``*.minute.csv``:
  ``timestamp, netAmount0/1, open/close/lowest/highestTick, inAmount0/1,
  currentLiquidity``); these load directly as bars.

Prices: ``P = (sqrtPriceX96 / 2^96)^2 = 1.0001^tick`` is token1 per token0 in
raw units; the ETH price in the other token is ``10^(d1−d0) / P`` when ETH is
token1 and ``P · 10^(d0−d1)`` when it is token0. A swap's price is the pool
price after it (where a resting order at that level would have been
crossed); its size is the ETH amount; its side is +1 when the taker bought
ETH from the pool, −1 when the taker sold ETH into it.

The package, by concern: :mod:`~ethpredict.io.uniswap.abi` (the event ABI,
decoding and encoding logs), :mod:`~ethpredict.io.uniswap.pools` (the
known-pools table), :mod:`~ethpredict.io.uniswap.readers` (one reader per
form), :mod:`~ethpredict.io.uniswap.prices` (pool arithmetic, swaps,
liquidity), :mod:`~ethpredict.io.uniswap.bars` (bars from swaps) and
:mod:`~ethpredict.io.uniswap.load` (choosing the files, :func:`read_pool`).
"""

from ethpredict.io.uniswap.abi import (
    BURN,
    COLLECT,
    EVENT_COLUMNS,
    EVENTS,
    MINT,
    SWAP,
    decode_logs,
    encode_log,
)
from ethpredict.io.uniswap.bars import bars_from_swaps
from ethpredict.io.uniswap.load import (
    UNISWAP_SUFFIXES,
    PoolData,
    _read_events,
    read_pool,
)
from ethpredict.io.uniswap.pools import (
    CHAIN_BLOCK_S,
    FEE_TICK_SPACING,
    KNOWN_POOLS,
    Pool,
    resolve_pool,
)
from ethpredict.io.uniswap.prices import (
    Q96,
    block_time_s,
    eth_price,
    liquidity_series,
    swaps_table,
)
from ethpredict.io.uniswap.readers import (
    read_decoded,
    read_minutes,
    read_raw_csv,
    read_raw_json,
)

__all__ = [
    "BURN",
    "CHAIN_BLOCK_S",
    "COLLECT",
    "EVENTS",
    "EVENT_COLUMNS",
    "FEE_TICK_SPACING",
    "KNOWN_POOLS",
    "MINT",
    "Q96",
    "SWAP",
    "UNISWAP_SUFFIXES",
    "Pool",
    "PoolData",
    "_read_events",
    "bars_from_swaps",
    "block_time_s",
    "decode_logs",
    "encode_log",
    "eth_price",
    "liquidity_series",
    "read_decoded",
    "read_minutes",
    "read_pool",
    "read_raw_csv",
    "read_raw_json",
    "resolve_pool",
    "swaps_table",
]
