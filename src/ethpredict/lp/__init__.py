"""The Uniswap v3 liquidity provider's book: range orders filled by the pool's
own swaps, marked against an exchange reference, beside passive baselines.

The kernel is :func:`ethpredict.core.pool.pool_book_nb`; this package turns the
bars, the swaps (``trades`` of a pool source) and the pool's liquidity series
into its arrays and wraps the results. Per-minute pool summaries have no
swaps: each minute becomes its price path (the previous close → open → the
nearer of high and low → the other → close) with the minute's inputs spread
over the legs that move the price their way (by Δ(1/√p) for ETH, Δ√p for the
quote token), every input carried, and the minute's active liquidity.

Modules: :mod:`.swaps` (the swap path and marks), :mod:`.book` (the kernel's
wrapper, gas, the PnL decomposition), :mod:`.baselines` (passive LPs).
"""

from ethpredict.lp.baselines import BASELINE_COLUMNS, lp_baselines, static_position
from ethpredict.lp.book import (
    gas_prices,
    landing_delay,
    lp_decomposition,
    run_pool_book,
)
from ethpredict.lp.swaps import SwapPath, mark_prices, pool_attr, pool_grid, swap_path

__all__ = [
    "BASELINE_COLUMNS",
    "SwapPath",
    "gas_prices",
    "landing_delay",
    "lp_baselines",
    "lp_decomposition",
    "mark_prices",
    "pool_attr",
    "pool_grid",
    "run_pool_book",
    "static_position",
    "swap_path",
]
