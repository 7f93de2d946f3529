"""Bars from a pool's swaps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethpredict.io.tables import SourceFrame
from ethpredict.timeaxis import NS_PER_S, epoch_ns


def bars_from_swaps(swaps: pd.DataFrame, step_s: int, label: str) -> SourceFrame:
    """Bars over the whole span of the swaps: each bar opens at the pool
    price left by the previous one; a bar without swaps is a real quiet
    interval of the pool (flat, volume 0), not a gap.

    Args:
        swaps: :func:`~ethpredict.io.uniswap.prices.swaps_table`'s frame, in
            chain order.
        step_s: The bar length in seconds (bars open at multiples of it).
        label: The file(s), for messages.
    """
    step = step_s * NS_PER_S
    t = epoch_ns(swaps["time"])
    b = t // step
    first, last = int(b[0]), int(b[-1])
    m = last - first + 1
    pos = b - first
    price = swaps["price"].to_numpy()
    qty = swaps["qty"].to_numpy()
    qq = swaps["quote_qty"].to_numpy()
    buy = swaps["side"].to_numpy() > 0
    starts = np.searchsorted(pos, np.arange(m), side="left")
    ends = np.searchsorted(pos, np.arange(m), side="right")
    has = ends > starts
    close = np.empty(m)
    close[has] = price[ends[has] - 1]
    close = pd.Series(np.where(has, close, np.nan)).ffill().to_numpy()
    open_ = np.r_[price[0], close[:-1]]
    hi = np.full(m, -np.inf)
    lo = np.full(m, np.inf)
    np.maximum.at(hi, pos, price)
    np.minimum.at(lo, pos, price)
    hi, lo = (
        np.maximum(hi, np.maximum(open_, close)),
        np.minimum(lo, np.minimum(open_, close)),
    )
    vals = {
        "open": open_,
        "high": hi,
        "low": lo,
        "close": close,
        "volume": np.bincount(pos, qty, m),
        "quote_volume": np.bincount(pos, qq, m),
        "trades": np.bincount(pos, minlength=m).astype(np.float64),
        "taker_buy_volume": np.bincount(pos, np.where(buy, qty, 0.0), m),
        "taker_buy_quote_volume": np.bincount(pos, np.where(buy, qq, 0.0), m),
    }
    line = swaps["line"].to_numpy()[np.minimum(starts, len(price) - 1)]
    return SourceFrame(
        label=label,
        time_ns=(np.arange(first, last + 1) * step).astype(np.int64),
        values=pd.DataFrame(vals),
        lines=line,
        time_column="block_timestamp",
    )
