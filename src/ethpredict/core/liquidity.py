"""Uniswap v3 liquidity math in whole tokens (Uniswap v3 whitepaper §6).

A position of liquidity ``L`` on the ETH-price range ``[pa, pb]`` (quote
token per ETH) holds, at the pool price ``p``, with ``s = √p`` clamped to
``[√pa, √pb]``:

    ETH   x(p) = L · (1/s − 1/√pb)
    quote y(p) = L · (s − √pa)

so below the range it is all ETH, above it all quote token, and inside it a
mix that depends on the price alone — a range converts progressively and
reversibly as the price moves through it. ``L`` here is in √(ETH · quote)
whole-token units; the pool's raw ``liquidity`` is ``L · 10^((d0 + d1)/2)``
(:func:`raw_scale`).

A swap that moves the price from ``p0`` to ``p1`` through active liquidity
``L_act`` takes in ``L_act · |1/√p1 − 1/√p0|`` ETH when the price falls and
``L_act · |√p1 − √p0|`` quote token when it rises, before the fee (the
amount in a Swap event includes the fee: ``fee = tier · amount in``).

Ticks: the pool's price of token1 in token0 (raw units) is ``1.0001^tick``;
:func:`grid` gives the ETH-price grid of tick spacings as ``exp(c0 + g·Δ)``
for an integer grid index ``g`` (ETH price increasing in ``g``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

LN_TICK = math.log(1.0001)
MIN_TICK, MAX_TICK = -887272, 887272


def raw_scale(decimals0: int, decimals1: int) -> float:
    """The pool's raw liquidity per unit of whole-token liquidity."""
    return 10.0 ** ((decimals0 + decimals1) / 2.0)


def grid(eth_token: str, decimals0: int, decimals1: int, tick_spacing: int):
    """The ETH-price grid of a pool's tick spacings.

    Args:
        eth_token: Which token is ETH (``"token0"`` or ``"token1"``).
        decimals0: token0's decimals.
        decimals1: token1's decimals.
        tick_spacing: The pool's tick spacing.

    Returns:
        ``(c0, step, sign)``: the grid price (quote per ETH) of index ``g``
        is ``exp(c0 + g·step)`` and its tick ``sign · g · tick_spacing``.
    """
    if eth_token == "token1":  # ETH price = 10^(d1−d0) / 1.0001^tick
        return (decimals1 - decimals0) * math.log(10.0), tick_spacing * LN_TICK, -1
    return (decimals0 - decimals1) * math.log(10.0), tick_spacing * LN_TICK, 1


def full_range(tick_spacing: int) -> tuple[int, int]:
    """The lowest and highest usable grid index: the full range."""
    top = MAX_TICK // tick_spacing  # the usable ticks are within ±887272
    return -top, top


@njit(cache=True, inline="always")
def amounts(L: float, s: float, sa: float, sb: float) -> tuple[float, float]:
    """ETH and quote token held at ``√p = s`` by liquidity ``L`` on
    ``[sa², sb²]``.

    Args:
        L: Liquidity, √(ETH · quote) whole-token units.
        s: √ of the pool price (quote per ETH).
        sa: √ of the range's lower bound.
        sb: √ of the range's upper bound.

    Returns:
        ``(x, y)``: ETH and quote token (whole tokens).
    """
    c = min(max(s, sa), sb)
    return L * (1.0 / c - 1.0 / sb), L * (c - sa)


@njit(cache=True)
def liquidity_for_eth(size: float, sa: float, sb: float) -> float:
    """The liquidity whose range ``[sa², sb²]`` holds ``size`` ETH when all
    of it is ETH (the price at or below the range).

    Args:
        size: ETH.
        sa: √ of the range's lower bound (quote per ETH).
        sb: √ of the range's upper bound.

    Returns:
        ``L`` in √(ETH · quote) whole-token units.
    """
    return size / (1.0 / sa - 1.0 / sb)


@njit(cache=True)
def liquidity_for_value(value: float, p: float, sa: float, sb: float) -> float:
    """The liquidity whose position is worth ``value`` at ``p``.

    Args:
        value: Quote token.
        p: The price (quote per ETH) it is valued at.
        sa: √ of the range's lower bound.
        sb: √ of the range's upper bound.

    Returns:
        ``L`` in √(ETH · quote) whole-token units.
    """
    x, y = amounts(1.0, math.sqrt(p), sa, sb)
    return value / (x * p + y)


@njit(cache=True, inline="always")
def swap_through(
    s0: float,
    s1: float,
    sa: float,
    sb: float,
    L: float,
    amount_in: float,
    L_act: float,
) -> tuple[float, float, float]:
    """What one swap from ``√p = s0`` to ``s1`` does to a position ``L`` on
    ``[sa², sb²]``: ``(dx, dy, share_in)`` — its ETH and quote-token changes
    (``dx > 0``: it bought ETH) and the share of the swap's input
    ``amount_in`` that crossed the range, diluted by the pool's active
    liquidity: ``amount_in × (part of the move inside the range) × L / (L +
    L_act)``, in the input token (ETH when the price falls). The part of the
    move is measured in the input token's own terms (Δ(1/√p) for ETH, Δ√p
    for the quote token), so a range that holds the whole move gets the
    whole input.

    Args:
        s0: √ of the price before the swap (quote per ETH).
        s1: √ of the price after it.
        sa: √ of the range's lower bound.
        sb: √ of the range's upper bound.
        L: The position's liquidity (whole-token units).
        amount_in: The swap's input, in the input token.
        L_act: The pool's other active liquidity (whole-token units).

    Returns:
        ``(dx, dy, share_in)``: ETH change, quote-token change, and the
        position's share of the input (input token).
    """
    c0, c1 = min(max(s0, sa), sb), min(max(s1, sa), sb)
    dx = L * (1.0 / c1 - 1.0 / c0)
    # dy = L·(c1 − c0) = −dx·c0·c1: written so that the price of the
    # conversion, c0·c1, lies between the two prices even for a tiny move
    dy = -dx * c0 * c1
    lo, hi = max(min(s0, s1), sa), min(max(s0, s1), sb)
    share = 0.0
    if hi > lo and s0 != s1:
        eth_in = s1 < s0
        part = (
            (1.0 / lo - 1.0 / hi) / (1.0 / s1 - 1.0 / s0)
            if eth_in
            else (hi - lo) / (s1 - s0)
        )
        share = amount_in * part * L / (L + L_act)
    return dx, dy, share


@njit(cache=True)
def swap_output(
    L_act: float, p: float, eth_in: float, fee: float
) -> tuple[float, float]:
    """A swap of ETH into (or out of) constant active liquidity. The fee is
    taken from the input.

    Args:
        L_act: Active liquidity, whole-token units.
        p: The price before, quote per ETH.
        eth_in: ETH sold into the pool (negative: ETH bought out of it).
        fee: The fee tier as a fraction (not basis points).

    Returns:
        ``(quote received, price after)`` (negative quote: paid; price in
        quote per ETH).
    """
    s0 = math.sqrt(p)
    if eth_in > 0:
        s1 = 1.0 / (1.0 / s0 + eth_in * (1.0 - fee) / L_act)
        return L_act * (s0 - s1), s1 * s1
    s1 = 1.0 / (1.0 / s0 + eth_in / L_act)  # buys ETH: the quote input pays the fee
    return -L_act * (s1 - s0) / (1.0 - fee), s1 * s1


def amounts_array(L: float, p: np.ndarray, pa: float, pb: float):
    """:func:`amounts` over an array of prices.

    Args:
        L: Liquidity, whole-token units.
        p: Pool prices, quote per ETH (not √).
        pa: The range's lower bound (a price, not √).
        pb: The range's upper bound.

    Returns:
        ``(x, y)``: arrays of ETH and quote token, shaped as ``p``.
    """
    c = np.clip(np.sqrt(np.asarray(p, dtype=np.float64)), math.sqrt(pa), math.sqrt(pb))
    return L * (1.0 / c - 1.0 / math.sqrt(pb)), L * (c - math.sqrt(pa))
