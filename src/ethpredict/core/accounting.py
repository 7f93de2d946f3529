"""Average-cost accounting of a book's fills (realised and unrealised PnL)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def average_cost_nb(
    fill_bar: np.ndarray,
    fill_side: np.ndarray,
    fill_price: np.ndarray,
    fill_size: np.ndarray,
    close: np.ndarray,
    avg_out: np.ndarray,
    realized_out: np.ndarray,
    unrealized_out: np.ndarray,
) -> None:
    """Average-cost accounting of the fills, per bar.

    Adding to a position moves the average entry to the size-weighted mean;
    reducing it realises ``closed size × (price − average) × sign(position)``;
    a trade through zero realises the old position and opens the rest at its
    price. Unrealised = position × (close − average). Trading PnL (realised +
    unrealised) equals spread + inventory PnL of the book (the risk stop's
    flatten is a fill like any other). Slow reference: the loop written with
    Python floats in the tests.

    Args:
        fill_bar: int64 bar position of each fill, in bar order.
        fill_side: +1 buy / −1 sell per fill.
        fill_price: Per fill, quote currency per ETH.
        fill_size: Per fill, ETH (unsigned: the side gives the sign).
        close: Closes per bar, quote currency per ETH.
        avg_out: Out, per bar: the average entry price after the bar's fills
            (NaN when flat), in place.
        realized_out: Out, per bar: cumulative realised PnL, quote currency,
            in place.
        unrealized_out: Out, per bar: position × (close − average), quote
            currency (0 when flat), in place.
    """
    pos = 0.0
    avg = np.nan
    realized = 0.0
    f = 0
    for j in range(close.shape[0]):
        while f < fill_bar.shape[0] and fill_bar[f] == j:
            signed = fill_side[f] * fill_size[f]
            price = fill_price[f]
            if pos == 0.0 or (pos > 0) == (signed > 0):
                avg = (
                    price
                    if pos == 0.0
                    else (avg * abs(pos) + price * abs(signed))
                    / (abs(pos) + abs(signed))
                )
                pos += signed
            else:
                closed = min(abs(pos), abs(signed))
                realized += closed * (price - avg) * (1.0 if pos > 0 else -1.0)
                new = pos + signed
                if abs(new) < 1e-12:
                    pos, avg = 0.0, np.nan
                elif (new > 0) != (pos > 0):
                    pos, avg = new, price
                else:
                    pos = new
            f += 1
        avg_out[j] = avg
        realized_out[j] = realized
        unrealized_out[j] = pos * (close[j] - avg) if pos != 0.0 else 0.0
