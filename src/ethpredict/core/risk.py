"""One pass over a book's per-bar path for the risk metrics.

:func:`ethpredict.backtesting.risk_metrics` needs the maximum drawdown with
where it starts and ends, how many quotes were live and the inventory's
histogram; in NumPy that is about ten passes over a year of bars (≈ 10 ms,
once per book and sweep trial), here one. The NumPy expressions it replaces
are the reference in ``tests/test_backtesting.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def path_stats_nb(
    equity: np.ndarray,
    q: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    bound: float,
    edges: np.ndarray,
    hist: np.ndarray,
) -> tuple[float, int, int, int, int]:
    """``(max drawdown, bar of its peak, bar it recovered (or the last),
    live quotes, bars at the inventory bound)`` of one book; ``q`` is the
    inventory in order sizes, binned into ``hist`` by the uniform ``edges``
    (``np.histogram``'s rule: values outside are left out, the last bin is
    closed). Ties resolve to the first bar, as ``np.argmax`` does.

    Args:
        equity: Equity per bar, quote currency.
        q: Inventory per bar in order sizes.
        bid: Live level-0 bid per bar (NaN: none).
        ask: Live level-0 ask per bar (NaN: none).
        bound: ``|q|`` at or beyond this counts as at the bound.
        edges: The histogram's uniform bin edges (``len(hist) + 1``).
        hist: Out, int64 counts per bin, zeroed and written in place.

    Returns:
        ``(max drawdown, peak bar, recovery bar, live quotes, bars at the
        bound)``: the drawdown as a positive amount in quote currency; the
        bars as positions; live quotes counted per side and bar.
    """
    n = equity.shape[0]
    peak, peak_at = -np.inf, 0
    max_dd, top, end = 0.0, 0, 0
    quoted = at_bound = 0
    bins = hist.shape[0]
    lo, hi = edges[0], edges[bins]
    norm = bins / (hi - lo)
    hist[:] = 0
    for j in range(n):
        e = equity[j]
        if e > peak:
            peak, peak_at = e, j
        d = peak - e
        if d > max_dd:
            max_dd, top, end = d, peak_at, j
        quoted += (not np.isnan(bid[j])) + (not np.isnan(ask[j]))
        x = q[j]
        at_bound += abs(x) >= bound
        if lo <= x <= hi:
            k = int((x - lo) * norm)
            if k == bins:
                k -= 1
            if x < edges[k]:
                k -= 1
            elif k != bins - 1 and x >= edges[k + 1]:
                k += 1
            hist[k] += 1
    recovered = n - 1
    level = equity[top] if n else 0.0
    for j in range(end, n):
        if equity[j] >= level:
            recovered = j
            break
    return max_dd, top, recovered, quoted, at_bound
