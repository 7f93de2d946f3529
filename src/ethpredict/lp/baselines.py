"""Passive-LP baselines on the same blocks: the full range, a static ±x %
range and holding the initial 50/50 mix."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ethpredict.core.liquidity import (
    amounts_array,
    full_range,
    liquidity_for_value,
)
from ethpredict.core.pool import static_position_nb
from ethpredict.lp.book import gas_prices
from ethpredict.lp.swaps import SwapPath, mark_prices, pool_grid, swap_path
from ethpredict.memo import memo, signature
from ethpredict.params import BacktestParams, MMParams
from ethpredict.venues import venue_of


def static_position(
    bars: pd.DataFrame,
    path: SwapPath,
    mark: np.ndarray,
    start: int,
    lower: float,
    upper: float,
    L: float,
    fee: float,
) -> pd.DataFrame:
    """A position of liquidity ``L`` on ``[lower, upper]``, minted at the
    start of block ``start`` (at the pool's price then, the block's open)
    and held. No gas.

    Args:
        bars: The pool's bars.
        path: The pool's swaps (:func:`ethpredict.lp.swaps.swap_path`).
        mark: The mark price per block (quote currency per ETH).
        start: The block (a position) it is minted in.
        lower: The range's lower bound (ETH price, quote per ETH).
        upper: The range's upper bound (ETH price).
        L: The liquidity in √(ETH · quote) whole-token units.
        fee: The pool's fee tier as a fraction (not basis points).

    Returns:
        Per block from ``start`` (on ``bars.index[start:]``): its ``eth`` and
        ``quote`` (fees collected included), ``value`` at the mark,
        cumulative ``fees_earned``, ``lvr`` and ``inventory_pnl`` (ETH held ×
        the mark's change); ``value`` = entry value + fees_earned − lvr +
        inventory_pnl (``attrs["entry_value"]``: the position at the mark
        when minted).
    """
    out, entry = _held(bars, path, mark, start, lower, upper, L, fee)
    eth, quote, fees, spread, inv = (out[start:, k] for k in range(5))
    frame = pd.DataFrame(
        {
            "eth": eth,
            "quote": quote,
            "value": eth * mark[start:] + quote,
            "fees_earned": fees,
            "lvr": -spread,
            "inventory_pnl": inv,
        },
        index=bars.index[start:],
    )
    frame.attrs["entry_value"] = entry
    return frame


def _held(bars, path, mark, start, lower, upper, L, fee) -> tuple[np.ndarray, float]:
    """:func:`static_position_nb`'s output and the position's entry value."""
    p0 = float(bars["open"].iat[start])
    out = np.empty((len(bars), 5))
    static_position_nb(
        mark,
        path.start,
        path.sqrt_price,
        path.amount_in,
        path.liquidity,
        math.sqrt(p0),
        start,
        lower,
        upper,
        L,
        fee,
        out,
    )
    x0, y0 = amounts_array(L, np.array([p0]), lower, upper)
    return out, float(x0[0] * mark[start] + y0[0])


#: ``total_pnl`` = fees_earned − lvr − gas + inventory_pnl + entry_basis (the
#: position bought at the pool price, valued at the mark)
BASELINE_COLUMNS = (
    "capital",
    "total_pnl",
    "fees_earned",
    "lvr",
    "gas",
    "inventory_pnl",
    "entry_basis",
    "final_value",
    "lower",
    "upper",
)


def lp_baselines(
    bars: pd.DataFrame,
    trades: pd.DataFrame,
    liquidity: pd.DataFrame | None,
    quotes: pd.DataFrame,
    mp: MMParams,
    bp: BacktestParams,
) -> pd.DataFrame:
    """Passive positions on the same blocks, from the first quoted block to
    the end, each with the same capital (``backtest.baseline_capital_usd``):
    the full range, a static ±x % range (``backtest.baseline_range_pct``),
    and holding the initial 50/50 mix. Each LP baseline pays a mint when it
    starts and a burn and a collect at the end, at the venue's gas.

    Args:
        bars: The pool's bars.
        trades: The pool's swaps (None or empty: minute paths).
        liquidity: The pool's active liquidity series (None: none).
        quotes: The book's quotes (``valid`` sets the first quoted block).
        mp: The ``mm`` parameters (without a capital, 2 × ``order_size`` ETH
            at the mark is the capital).
        bp: The ``backtest`` parameters (``baseline_capital_usd``,
            ``baseline_range_pct`` in percent).

    Returns:
        One row per baseline (``full range``, ``static ±x %``,
        ``hold 50/50``) with ``BASELINE_COLUMNS``, in USD: ``capital``,
        ``total_pnl``, ``fees_earned``, ``lvr``, ``gas``, ``inventory_pnl``,
        ``entry_basis``, ``final_value``; ``lower`` and ``upper`` the range
        (ETH prices; NaN for holding).
    """
    venue = venue_of(bars, bp)
    valid = quotes["valid"].to_numpy()
    i0 = int(np.argmax(valid)) if valid.any() else 0
    key = (
        "lp_baselines",
        i0,
        mp.order_size,
        bp.baseline_capital_usd,
        bp.baseline_range_pct,
        venue.maker_fee_bps,
        venue.gas_mint,
        venue.gas_burn,
        venue.gas_collect,
        venue.gas_price_gwei,
        venue.gas_price_path,
    )
    objs = tuple(x for x in (bars, trades, liquidity) if x is not None)
    sig = (signature(bars["close"].to_numpy(np.float64)),)
    # the same in every trial of a sweep that varies the book's quoting only
    values = memo(
        objs, key, lambda: [_baselines(bars, trades, liquidity, i0, mp, bp, venue)], sig
    )[0]
    names = ["full range", f"static ±{bp.baseline_range_pct:g} %", "hold 50/50"]
    return pd.DataFrame(values, index=names, columns=list(BASELINE_COLUMNS))


def _baselines(bars, trades, liquidity, i0, mp, bp, venue) -> np.ndarray:
    """:func:`lp_baselines`' rows as an array (``BASELINE_COLUMNS``)."""
    path = swap_path(bars, trades, liquidity)
    mark, _ = mark_prices(bars)
    c0, step, spacing = pool_grid(bars)
    p0 = float(bars["open"].iat[i0])
    m0 = float(mark[i0])
    capital = bp.baseline_capital_usd or 2.0 * mp.order_size * m0
    gas = gas_prices(bars, venue)
    gas_usd = venue.gas_mint * gas[i0] * 1e-9 * m0 + (
        venue.gas_burn + venue.gas_collect
    ) * gas[-1] * 1e-9 * float(mark[-1])
    fee = -venue.maker_fee_bps * 1e-4
    x = 1.0 + bp.baseline_range_pct / 100.0
    lo_g, hi_g = full_range(spacing)
    g_now = (math.log(p0) - c0) / step
    ranges = {
        "full range": (math.exp(c0 + lo_g * step), math.exp(c0 + hi_g * step)),
        f"static ±{bp.baseline_range_pct:g} %": (
            math.exp(c0 + math.floor(g_now - math.log(x) / step) * step),
            math.exp(c0 + math.ceil(g_now + math.log(x) / step) * step),
        ),
    }
    rows = {}
    for name, (lower, upper) in ranges.items():
        # the capital at the mark buys the position's mix at the pool price
        L = liquidity_for_value(capital, p0, math.sqrt(lower), math.sqrt(upper))
        out, entry = _held(bars, path, mark, i0, lower, upper, L, fee)
        eth, quote, fees, spread, inv = out[-1]
        value = eth * mark[-1] + quote
        rows[name] = {
            "capital": capital,
            "total_pnl": float(value - capital - gas_usd),
            "fees_earned": float(fees),
            "lvr": float(-spread),
            "gas": gas_usd,
            "inventory_pnl": float(inv),
            "entry_basis": entry - capital,
            "final_value": float(value - gas_usd),
            "lower": lower,
            "upper": upper,
        }
    half = capital / 2.0
    hold_eth = half / m0
    rows["hold 50/50"] = {
        "capital": capital,
        "total_pnl": float(hold_eth * mark[-1] + half - capital),
        "fees_earned": 0.0,
        "lvr": 0.0,
        "gas": 0.0,
        "inventory_pnl": float(hold_eth * (mark[-1] - m0)),
        "entry_basis": 0.0,
        "final_value": float(hold_eth * mark[-1] + half),
        "lower": np.nan,
        "upper": np.nan,
    }
    return np.array([[row[c] for c in BASELINE_COLUMNS] for row in rows.values()])
