"""Pools: what prices and sizes need (token order, decimals, fee tier, tick
spacing, block time), the known-pools table, and resolving a pool from the
parameters and the table."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ethpredict.errors import DataValidationError
from ethpredict.params import UniswapParams

FEE_TICK_SPACING = {1.0: 1, 5.0: 10, 30.0: 60, 100.0: 200}


@dataclass(frozen=True)
class Pool:
    """What prices and sizes of a pool need."""

    address: str
    chain: str
    eth_token: str  # "token0" | "token1"
    decimals0: int
    decimals1: int
    fee_bps: float
    tick_spacing: int
    block_time_s: float | None = None
    quote: str | None = None  # the other token's symbol (USDC.e counts as USDC)


#: pools whose token order and decimals need no parameters (lower-case address)
_POOL_TABLE = """
# address                                   chain    ETH is  dec0 dec1 fee_bp spacing block_s quote
# USDC/WETH 0.05 % and 0.30 % (token0 USDC, token1 WETH)
0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640  ethereum token1  6    18   5      10      12      USDC
0x8ad599c3a0ff1de082011efddc58f1908eb6e6d8  ethereum token1  6    18   30     60      12      USDC
# WETH/USDT 0.05 % and 0.30 % (token0 WETH, token1 USDT)
0x11b815efb8f581194ae79006d24e0d814b7697f6  ethereum token0  18   6    5      10      12      USDT
0x4e68ccd3e89f51c3074ca5072bbac773960dfa36  ethereum token0  18   6    30     60      12      USDT
# Polygon USDC.e/WETH 0.05 % (block time measured from the events)
0x45dda9cb7c25131df268515131f647d726f50608  polygon  token1  6    18   5      10      -       USDC
"""
#: usual block times, for pool files without blocks (per-minute summaries);
#: raw logs and decoded events measure it (:func:`block_time_s`)
CHAIN_BLOCK_S = {
    "ethereum": 12.0,
    "polygon": 2.0,
    "optimism": 2.0,
    "base": 2.0,
    "arbitrum": 0.25,
}


def _pool_row(f: list[str]) -> Pool:
    block = None if f[7] == "-" else float(f[7])
    return Pool(
        f[0], f[1], f[2], int(f[3]), int(f[4]), float(f[5]), int(f[6]), block, f[8]
    )


KNOWN_POOLS: dict[str, Pool] = {
    f[0]: _pool_row(f)
    for line in _POOL_TABLE.splitlines()
    if line.strip() and not line.startswith("#") and (f := line.split())
}
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def resolve_pool(p: UniswapParams, address: str | None) -> Pool:
    """Parameters first, then the known-pools table; refuses what is unknown."""
    address = (p.pool or address or "").lower()
    known = KNOWN_POOLS.get(address)
    fields = {}
    for name in (
        "chain",
        "eth_token",
        "decimals0",
        "decimals1",
        "fee_bps",
        "tick_spacing",
        "block_time_s",
    ):
        given = getattr(p, name)
        fields[name] = given if given is not None else getattr(known, name, None)
    if fields["tick_spacing"] is None and fields["fee_bps"] is not None:
        fields["tick_spacing"] = FEE_TICK_SPACING.get(float(fields["fee_bps"]))
    missing = [
        f"data.uniswap.{k}"
        for k in ("eth_token", "decimals0", "decimals1", "fee_bps", "tick_spacing")
        if fields[k] is None
    ]
    if missing:
        where = (
            f"pool {address}" if address else "the pool (no address in the file names)"
        )
        raise DataValidationError(
            f"{where} is not in the known-pools table ({', '.join(KNOWN_POOLS)}); "
            f"set {', '.join(missing)}"
        )
    return Pool(
        address=address or "unknown",
        **{
            **fields,
            "chain": fields["chain"] or "unknown",
            "quote": getattr(known, "quote", None),
        },
    )
