"""The LP book: range orders filled by the pool's swaps (the kernel's
wrapper), gas per LP action, and the book's PnL decomposition."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ethpredict.backtesting import fills_frame, orders_frame
from ethpredict.core import types as T
from ethpredict.core.pool import pool_book_nb
from ethpredict.io.gas import gas_price_per_bar
from ethpredict.lp.swaps import mark_prices, pool_grid, swap_path
from ethpredict.params import BacktestParams, MMParams, RiskParams
from ethpredict.venues import Venue, activation_delay, venue_of
from ethpredict.volatility import unobserved


def gas_prices(bars: pd.DataFrame, venue: Venue) -> np.ndarray:
    """The gas price per block: the series when given, else constant.

    Args:
        bars: The pool's bars (one per block or minute; their times).
        venue: The venue (``gas_price_path`` or ``gas_price_gwei``).

    Returns:
        The gas price in gwei, one per bar (float64).
    """
    if venue.gas_price_path:
        return np.asarray(
            gas_price_per_bar(venue.gas_price_path, bars.index), dtype=np.float64
        )
    return np.full(len(bars), venue.gas_price_gwei)


def landing_delay(bars: pd.DataFrame, venue: Venue, bar_s: float) -> int:
    """Whole bars between a decision at a block's close and the start of the
    block it lands in, minus one. On per-block bars a transaction sent
    ``latency_s`` after block ``n`` is in block ``n + 1`` when the latency is
    under a block time (the next proposer includes it), else later; on longer
    bars (a pool's minutes) it is live from the start of the first bar after
    it lands (:func:`ethpredict.venues.activation_delay`).

    Args:
        bars: The pool's bars.
        venue: The venue (``block_time_s``, ``latency_s`` in seconds).
        bar_s: The bar length in seconds.

    Returns:
        The delay in whole bars (≥ 0).
    """
    block = venue.block_time_s
    if block > 0 and bar_s <= block + 1e-9:
        return max(0, math.ceil(venue.latency_s / block - 1e-9) - 1)
    return activation_delay(bars, block, venue.latency_s, bar_s)


def run_pool_book(
    bars: pd.DataFrame,
    trades: pd.DataFrame,
    liquidity: pd.DataFrame | None,
    quotes: pd.DataFrame,
    mp: MMParams,
    bp: BacktestParams,
    rp: RiskParams,
    bar_s: float,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The LP book on a pool: per block, fills and range orders (as
    :func:`ethpredict.backtesting.run_book`), with the book's ``mark``
    (reference or pool price) and ``lvr`` columns.

    Args:
        bars: The pool's bars (``open``, ``close`` in quote currency per ETH,
            the pool's ``attrs``; optional ``reference_price``).
        trades: The pool's swaps (None or empty: per-minute price paths from
            the bars, :func:`ethpredict.lp.swaps.swap_path`).
        liquidity: The pool's active liquidity series (None: none).
        quotes: :func:`ethpredict.market_making.quote_policy`'s frame
            (``skew``, ``bid_depth``, ``ask_depth``, ``bid_size``,
            ``ask_size``).
        mp: The ``mm`` parameters (``order_size`` in ETH, ``max_inventory``
            in order sizes, ``range_width``, levels).
        bp: The ``backtest`` parameters; ``bp.seed`` seeds one uniform per
            block and side, drawn only when ``bp.p_miss`` > 0.
        rp: The ``risk`` parameters (``max_drawdown`` None: no stop).
        bar_s: The bar length in seconds.

    Returns:
        ``(book, fills, orders)``: the per-block book on ``bars.index``
        (``mid`` = close, ``BOOK_COLUMNS``, ``mark``, ``lvr`` = −spread PnL),
        whose ``attrs["venue_settings"]`` adds ``marked_at`` and
        ``swap_path`` to the venue's; the fills with markouts against the
        mark; the orders with ``POOL_ORDER_COLUMNS``. The fee tier enters
        the kernel as a fraction earned (basis points × 1e-4), gas prices in
        gwei.
    """
    venue = venue_of(bars, bp)
    n = len(bars)
    path = swap_path(bars, trades, liquidity)
    mark, marked_at = mark_prices(bars)
    c0, step, _ = pool_grid(bars)
    skew = quotes["skew"].to_numpy(np.float64)
    bid_depth, ask_depth = (
        np.column_stack([quotes[col].to_numpy(np.float64), skew])
        for col in ("bid_depth", "ask_depth")
    )
    # one uniform per block and side, only when transactions can miss
    miss = (
        np.random.default_rng(bp.seed).random(2 * n) if bp.p_miss > 0 else np.empty(0)
    )
    o = bars["open"].to_numpy(np.float64)
    c = bars["close"].to_numpy(np.float64)
    gas = gas_prices(bars, venue)
    names = ["mid", *T.BOOK_COLUMNS]
    block = np.empty((len(names), n))
    block[0] = c
    book = block[1 : 1 + len(T.BOOK_COLUMNS)].T
    cap_f = max(4096, path.sqrt_price.size // 2)
    cap_o = max(1024, n // 8)
    while True:
        fills = np.empty((cap_f, len(T.FILL_COLUMNS)))
        orders = np.empty((cap_o, len(T.POOL_ORDER_COLUMNS)))
        nf, no = pool_book_nb(
            o,
            c,
            mark,
            ~unobserved(bars),
            path.start,
            path.sqrt_price,
            path.amount_in,
            path.liquidity,
            mark,
            bid_depth,
            ask_depth,
            quotes["bid_size"].to_numpy(np.float64),
            quotes["ask_size"].to_numpy(np.float64),
            c0,
            step,
            mp.range_width,
            mp.levels,
            mp.level_size_mult,
            mp.order_size,
            mp.max_inventory,
            bp.range_requote,
            landing_delay(bars, venue, bar_s),
            bp.p_miss,
            miss,
            -venue.maker_fee_bps * 1e-4,
            gas,
            venue.gas_mint,
            venue.gas_burn,
            venue.gas_collect,
            venue.gas_swap,
            rp.max_drawdown or 0.0,
            book,
            fills,
            orders,
        )
        if nf >= 0:
            break
        cap_f, cap_o = 4 * cap_f, 4 * cap_o
    fb = fills[:nf]
    out = pd.DataFrame(block.T, columns=names, index=bars.index, copy=False)
    out["mark"] = mark
    out["lvr"] = -out["spread_pnl"].to_numpy()
    out.attrs["venue_settings"] = {
        **venue.as_dict(),
        "marked_at": marked_at,
        "swap_path": path.form,
    }
    f = fills_frame(fb, bars.index, mark, bp.markouts)
    return out, f, orders_frame(orders[:no], T.POOL_ORDER_COLUMNS)


def lp_decomposition(book: pd.DataFrame) -> dict:
    """The LP's PnL as fees − LVR − gas ± inventory (USD), and whether the
    parts sum to the total (money is conserved).

    Args:
        book: The LP book (:func:`run_pool_book`; ``fees`` is paid, so
            negative when earned).

    Returns:
        At the last block: ``fees_earned`` (positive: earned), ``lvr``,
        ``gas``, ``inventory_pnl``, ``total_pnl`` (equity) and ``residual``
        (total − (fees − lvr − gas + inventory); 0 when money is conserved).
    """
    last = book.iloc[-1]
    parts = {
        "fees_earned": -float(last["fees"]),
        "lvr": float(last["lvr"]),
        "gas": float(last["gas"]),
        "inventory_pnl": float(last["inventory_pnl"]),
    }
    total = float(last["equity"])
    gap = parts["fees_earned"] - parts["lvr"] - parts["gas"] + parts["inventory_pnl"]
    return {**parts, "total_pnl": total, "residual": total - gap}
