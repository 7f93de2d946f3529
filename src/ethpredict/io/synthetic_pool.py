"""The embedded on-chain market (``data.source: synthetic_pool``).

An exchange path — the ``data.synthetic`` generator (GARCH volatility,
Student-t shocks, jumps), sampled at every block — and a Uniswap v3
USDC/WETH-like pool that follows it block by block
(:func:`ethpredict.core.synthetic.simulate_pool_nb`): token0 USDC (6
decimals), token1 WETH (18), ETH price = 10¹² / 1.0001^tick, the
``data.synthetic_pool`` fee tier (default 0.05 %, tick spacing 10) and one
constant active liquidity L (a full-range Mint), arbitrageurs who trade the
pool back to the edge of the reference × (1 ± fee) band, and Poisson noise
traders.

Written under ``data.path`` (default ``data/01_raw/synthetic_pool/``), once
per setting, in layouts the readers already accept:

* ``<name>.raw.csv.gz`` — the pool's logs as ``eth_getLogs`` returns them
  (demeter-fetch's raw CSV layout, encoded with
  :func:`ethpredict.io.uniswap.encode_log`): the Mint, then every Swap;
* ``<name>.reference-<block>s.csv.gz`` — the exchange as generic OHLCV
  candles, one per block interval (``time`` = open, epoch ms): candle ``j``
  ends at block ``j``'s timestamp and closes at the exchange price the
  arbitrageurs of block ``j`` trade against, so the causal join gives each
  block exactly that price (0 s old at the block: the exchange leads the
  pool, as on the chain). High and low come from the path sampled every
  second, volumes are the minute's spread evenly over its candles. A 1-minute
  reference would be 0–48 s stale at 12-s blocks (median 24 s) and trail the
  pool — the LP's LVR against it came out negative (docs/data.md);
* ``<name>.json`` — the settings, the notice that this is synthetic, and
  what the generation measured.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.core.synthetic import (
    GENERATOR_VERSION,
    POOL_GENERATOR_VERSION,
    SWAP_ARB,
    simulate_pool_nb,
)
from ethpredict.errors import ParameterError
from ethpredict.io.atomic import atomic_path
from ethpredict.io.synthetic import market_tag, simulate_exchange
from ethpredict.io.uniswap.abi import encode_log
from ethpredict.io.uniswap.pools import FEE_TICK_SPACING
from ethpredict.params import DataParams, UniswapParams

log = logging.getLogger(__name__)
DEFAULT_DIR = "data/01_raw/synthetic_pool"
#: a made-up address: the synthetic pool is no pool on any chain
POOL_ADDRESS = "0x000000000000000000000000000000005ca1ab1e"
FIRST_BLOCK = 18_000_000
MAX_TICK = 887_272
DECIMALS0, DECIMALS1 = 6, 18
PRICE_SCALE = 10.0 ** (DECIMALS1 - DECIMALS0)  # ETH price = PRICE_SCALE / P
Q96 = 2**96
NOTICE = (
    "SYNTHETIC DATA: a simulated Uniswap v3 USDC/WETH-like pool following "
    "ethpredict's seeded exchange simulator through arbitrageurs and noise "
    "traders, and that exchange's price per block as its reference. Not a record of any "
    "real market or pool."
)


def pool_params(data: DataParams) -> UniswapParams:
    """What the uniswap reader needs to know of the synthetic pool."""
    sp = data.synthetic_pool
    return UniswapParams(
        form="raw",
        pool=POOL_ADDRESS,
        chain="synthetic",
        eth_token="token1",
        decimals0=DECIMALS0,
        decimals1=DECIMALS1,
        fee_bps=float(sp.fee_bps),
        tick_spacing=FEE_TICK_SPACING[float(sp.fee_bps)],
        block_time_s=float(sp.block_time_s),
    )


@dataclass
class SyntheticPool:
    """A generated pool: its logs (raw CSV layout), the exchange's candles of
    one block interval (generic OHLCV), the reference price at each block,
    each swap's kind and the pool's price before it, and what was measured."""

    logs: pd.DataFrame
    candles: pd.DataFrame
    block_time: np.ndarray  # epoch s of every block
    block_ref: np.ndarray  # the exchange's ETH price at every block
    swaps: np.ndarray  # simulate_pool_nb's rows
    stats: dict


def _full_range(spacing: int) -> tuple[int, int]:
    top = MAX_TICK // spacing * spacing
    return -top, top


def generate_pool(data: DataParams) -> SyntheticPool:
    """Simulate the exchange and the pool for these settings (in memory)."""
    sp, ex = data.synthetic_pool, data.synthetic
    bt = sp.block_time_s
    if 60 % bt:
        raise ParameterError(
            f"parameter data.synthetic_pool.block_time_s = {bt}: must divide a "
            "minute (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60 s)"
        )
    t0 = time.perf_counter()
    klines, per_s = simulate_exchange(ex, sp.days, 60)
    ref = per_s[bt - 1 :: bt]  # the price at the end of every block interval
    start = int(pd.Timestamp(ex.start, tz="UTC").value // 1_000_000_000)
    n = ref.size
    block_time = start + bt * (np.arange(n, dtype=np.int64) + 1)
    fee = sp.fee_bps / 1e4
    rows = np.empty((int(n * (sp.noise_swaps_per_block + 1) * 1.2) + 1000, 7))
    count = simulate_pool_nb(
        ref,
        ex.seed + 7919,
        fee,
        sp.liquidity,
        PRICE_SCALE,
        sp.noise_swaps_per_block,
        sp.noise_size_eth,
        sp.noise_size_sigma,
        10.0**DECIMALS1,
        10.0**DECIMALS0,
        rows,
    )
    if count < 0:  # pragma: no cover - the buffer holds 1.2× the expected swaps
        raise RuntimeError("synthetic pool: more swaps than the buffer holds")
    swaps = rows[:count]
    logs = _logs(
        swaps, block_time, sp.liquidity, ref[0], FEE_TICK_SPACING[float(sp.fee_bps)]
    )
    after = PRICE_SCALE / swaps[:, 4] ** 2
    basis = np.log(after / ref[swaps[:, 0].astype(np.int64)])
    arb = swaps[:, 1] == SWAP_ARB
    stats = {
        "blocks": int(n),
        "swaps": int(count),
        "arbitrage_swaps": int(arb.sum()),
        "noise_swaps": int((~arb).sum()),
        "mean_abs_basis_bp": float(1e4 * np.abs(basis).mean()),
        "generation_s": round(time.perf_counter() - t0, 2),
    }
    candles = _candles(klines, per_s.reshape(n, bt), block_time - bt)
    return SyntheticPool(logs, candles, block_time, ref, swaps, stats)


def _candles(
    klines: pd.DataFrame, path: np.ndarray, open_s: np.ndarray
) -> pd.DataFrame:
    """Generic OHLCV candles of the exchange, one per block interval: ``path``
    its price at the end of each second of every interval (rows), the open
    the previous close; each minute's volumes spread evenly over its
    candles. Prices to the cent, as the klines."""
    close = path[:, -1]
    open_ = np.r_[klines["open"].iat[0], close[:-1]]
    per = path.shape[0] // len(klines)
    vol = np.repeat(klines["volume"].to_numpy() / per, per)
    buy = np.repeat(klines["taker_buy_volume"].to_numpy() / per, per)
    return pd.DataFrame(
        {
            "time": open_s * 1000,
            "open": np.round(open_, 2),
            "high": np.round(np.maximum(open_, path.max(axis=1)), 2),
            "low": np.round(np.minimum(open_, path.min(axis=1)), 2),
            "close": np.round(close, 2),
            "volume": np.round(vol, 4),
            "taker_buy_volume": np.minimum(np.round(buy, 4), np.round(vol, 4)),
        }
    )


def _logs(swaps, block_time, liquidity, first_price, spacing) -> pd.DataFrame:
    """The Mint and every Swap as rows of demeter-fetch's raw log CSV."""
    lo, hi = _full_range(spacing)
    sqrt_p = math.sqrt(PRICE_SCALE / first_price)
    liq = int(liquidity)
    mint = encode_log(
        "MINT",
        tick_lower=lo,
        tick_upper=hi,
        liquidity=liq,
        amount0=math.ceil(liquidity * (1 / sqrt_p - 1.0001 ** (-hi / 2))),
        amount1=math.ceil(liquidity * (sqrt_p - 1.0001 ** (lo / 2))),
    )
    block = swaps[:, 0].astype(np.int64)
    # log index within the block: 1, 2, ... (the Mint is log 0 of block 0)
    first = np.r_[True, block[1:] != block[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(block.size), 0))
    log_index = np.arange(block.size) - start + 1
    topics, data = [str(mint[0])], [mint[1]]
    for a0, a1, sq, tick in zip(
        swaps[:, 2].tolist(),
        swaps[:, 3].tolist(),
        swaps[:, 4].tolist(),
        swaps[:, 5].tolist(),
        strict=True,
    ):
        t, d = encode_log(
            "SWAP",
            amount0=int(a0),
            amount1=int(a1),
            sqrt_price_x96=int(sq * Q96),
            liquidity=liq,
            tick=int(tick),
        )
        topics.append(str(t))
        data.append(d)
    blocks = np.r_[0, block]
    stamps = pd.to_datetime(block_time[blocks], unit="s", utc=True)
    return pd.DataFrame(
        {
            "block_number": FIRST_BLOCK + blocks,
            "block_timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"),
            "transaction_hash": "0x00",
            "transaction_index": 0,
            "log_index": np.r_[0, log_index],
            "topics": topics,
            "data": data,
        }
    )


@dataclass
class PoolFiles:
    pool: Path
    reference: Path
    sidecar: Path


def ensure_synthetic_pool(data: DataParams) -> PoolFiles:
    """Write the pool's logs and the exchange's candles for these settings
    unless they exist (the sidecar's settings match)."""
    sp, ex = data.synthetic_pool, data.synthetic
    folder = Path(data.path or DEFAULT_DIR)
    name = (
        f"synthetic-{POOL_ADDRESS}-seed{ex.seed}-{ex.start}-{sp.days}d-"
        f"{sp.block_time_s}s{market_tag(ex)}"
    )
    files = PoolFiles(
        folder / f"{name}.raw.csv.gz",
        folder / f"{name}.reference-{sp.block_time_s}s.csv.gz",
        folder / f"{name}.json",
    )
    settings = {
        "version": [GENERATOR_VERSION, POOL_GENERATOR_VERSION],
        "symbol": data.symbol,
        "exchange": ex.model_dump(mode="json"),
        "pool": sp.model_dump(mode="json"),
    }
    if files.pool.exists() and files.reference.exists() and files.sidecar.exists():
        try:
            if json.loads(files.sidecar.read_text()).get("settings") == settings:
                return files
        except json.JSONDecodeError:
            pass
    log.info(
        "Generating %d days of a SYNTHETIC Uniswap v3 pool (%d s blocks) and its "
        "exchange -> %s",
        sp.days,
        sp.block_time_s,
        folder,
    )
    g = generate_pool(data)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(files.pool) as tmp:
        g.logs.to_csv(
            tmp, index=False, compression={"method": "gzip", "compresslevel": 1}
        )
    with atomic_path(files.reference) as tmp:
        g.candles.to_csv(
            tmp, index=False, compression={"method": "gzip", "compresslevel": 6}
        )
    meta = {
        "synthetic": True,
        "notice": NOTICE,
        "settings": settings,
        "layout": {
            "pool": "demeter-fetch raw eth_getLogs CSV",
            "reference": f"generic OHLCV CSV, {sp.block_time_s}s candles "
            "ending at the blocks",
        },
        "pool_address": POOL_ADDRESS,
        "stats": g.stats,
    }
    with atomic_path(files.sidecar) as tmp:
        tmp.write_text(json.dumps(meta, indent=2))
    log.info("Synthetic pool: %s", g.stats)
    return files
