"""Physical invariants of a backtest, checked from the market data alone.

They do not share the kernel's rules: whatever the fill model, a market
could only have given fills that satisfy them. Used by the tests on the
synthetic default and on every real dataset, and by anyone who wants to
check a run (``check_execution(bars, fills, orders, book, ...)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethpredict.io.bars import unobserved

TOL = 1e-9


def check_execution(
    bars: pd.DataFrame,
    fills: pd.DataFrame,
    orders: pd.DataFrame,
    book: pd.DataFrame,
    max_participation: float,
    max_position: float | None = None,
) -> dict[str, int]:
    """Counts of violations (all zero for a run a market could have given).

    Args:
        bars: The bars the backtest ran on (``low``, ``high``, ``volume``,
            flags ``is_filled`` / ``is_stale``).
        fills: The ``fills`` dataset (``bar``, ``side``, ``price``, ``size``,
            ``order``, ``taker``).
        orders: The ``orders`` dataset (index = order id).
        book: The ``book`` dataset (``spread_pnl`` … ``equity``, ``position``).
        max_participation: ``backtest.max_participation``.
        max_position: ``mm.max_inventory × mm.order_size`` in ETH (None: skip).

    Returns:
        ``outside_bar`` fills outside their bar's [low, high]; ``overfilled``
        limit orders filled beyond their size; ``order_mismatch`` orders whose
        ``filled`` is not the sum of their fills; ``over_cap`` bars whose fills
        exceed the participation cap; ``on_unobserved`` fills on stale or
        gap-filled bars; ``not_live`` fills of orders not live at their bar's
        start (or already ended); ``worse_than_limit`` maker fills at a price
        worse than their limit; ``money`` bars where spread + inventory − fees −
        gas + funding differs from equity; ``position`` bars beyond the bound.
    """
    bar = fills["bar"].to_numpy(np.int64)
    price = fills["price"].to_numpy(np.float64)
    size = fills["size"].to_numpy(np.float64)
    lo, hi = (bars[c].to_numpy(np.float64)[bar] for c in ("low", "high"))
    volume = bars["volume"].to_numpy(np.float64)
    oid = fills["order"].to_numpy(np.int64)
    filled = np.bincount(oid, weights=size, minlength=len(orders))
    limit = (orders["type"].astype(str) == "limit").to_numpy()
    per_bar = np.bincount(bar, weights=size, minlength=len(bars))
    live = orders["live_bar"].to_numpy()[oid]
    end = orders["end_bar"].to_numpy()[oid]
    # an order may fill in the bar it ends in only if its fill ended it
    ended_by_fill = (orders["end_reason"].astype(str) == "filled").to_numpy()[oid]
    maker = ~fills["taker"].to_numpy(bool)
    lim = orders["price"].to_numpy()[oid]
    side = fills["side"].to_numpy(np.float64)
    parts = (book["spread_pnl"] + book["inventory_pnl"] - book["fees"] - book["gas"]
             + book["funding"]).to_numpy()  # fmt: skip
    out = {
        "outside_bar": int(np.sum((price < lo - TOL) | (price > hi + TOL))),
        "overfilled": int(
            np.sum(filled[limit] > orders["size"].to_numpy()[limit] + TOL)
        ),
        "order_mismatch": int(
            np.sum(np.abs(filled - orders["filled"].to_numpy()) > 1e-7)
        ),
        "over_cap": int(np.sum(per_bar > max_participation * volume + 1e-7)),
        "on_unobserved": int(np.sum(unobserved(bars)[bar])),
        "not_live": int(
            np.sum(
                (live < 0)
                | (live > bar)
                | ((end >= 0) & ((end < bar) | ((end == bar) & ~ended_by_fill)))
            )
        ),
        "worse_than_limit": int(
            np.sum(side[maker] * (lim[maker] - price[maker]) < -TOL)
        ),
        "money": int(np.sum(np.abs(parts - book["equity"].to_numpy()) > 1e-6)),
    }
    if max_position is not None:
        pos = np.abs(book["position"].to_numpy())
        out["position"] = int(np.sum(pos > max_position + 1e-7))
    return out
