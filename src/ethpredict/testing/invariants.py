"""Physical invariants of a backtest, checked from the market data alone.

They do not share the kernel's rules: whatever the fill model, a market
could only have given fills that satisfy them. Used by the tests on the
synthetic default and on every real dataset, and by anyone who wants to
check a run (``check_execution(bars, fills, orders, book, ...)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethpredict.volatility import unobserved

TOL = 1e-9


def pnl_parts(book: pd.DataFrame) -> pd.Series:
    """The book's equity rebuilt from its PnL parts: spread + inventory −
    fees − gas + funding (cumulative, quote currency). Money is conserved when
    it equals ``book["equity"]`` at every bar."""
    return (
        book["spread_pnl"]
        + book["inventory_pnl"]
        - book["fees"]
        - book["gas"]
        + book["funding"]
    )


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
    parts = pnl_parts(book).to_numpy()
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


def check_pool_execution(
    bars: pd.DataFrame, fills: pd.DataFrame, orders: pd.DataFrame, book: pd.DataFrame
) -> dict[str, int]:
    """Counts of violations of an LP book on a pool (all zero when a pool
    could have given it), from the blocks' swap prices alone.

    Returns:
        ``outside_block`` range fills outside the block's swap price range
        (``low``/``high`` of a block include the price it opened at);
        ``no_swap`` range fills in blocks without swaps (volume 0);
        ``not_live`` range fills outside ``[live_bar, end_bar)`` (a range is
        burned at the start of its end block); ``overfilled`` ranges that
        converted beyond their size after some block, or back beyond none;
        ``fees_without_swap`` blocks that earned fees with no live range
        overlapping the block's swap price range; ``money`` blocks where
        spread + inventory − fees − gas differs from equity.
    """
    r = (fills["kind"].astype(str) == "range").to_numpy()
    f = fills.loc[r]
    bar = f["bar"].to_numpy(np.int64)
    price = f["price"].to_numpy(np.float64)
    # a block's swaps trade from the price it opened at, the previous
    # block's close (per-minute summaries' low and high leave it out)
    before = np.r_[bars["open"].iat[0], bars["close"].to_numpy(np.float64)[:-1]]
    lo = np.minimum(bars["low"].to_numpy(np.float64), before)
    hi = np.maximum(bars["high"].to_numpy(np.float64), before)
    rel = 1e-12
    oid = f["order"].to_numpy(np.int64)
    live = orders["live_bar"].to_numpy()[oid]
    end = orders["end_bar"].to_numpy()[oid]
    signed = f["side"].to_numpy(np.float64) * f["size"].to_numpy(np.float64)
    # per order, its conversion after each block it filled in (a block's buys
    # and sells are two fills whose order within the block is not kept)
    net = (
        pd.DataFrame({"order": oid, "bar": bar, "eth": signed})
        .groupby(["order", "bar"], sort=True)["eth"]
        .sum()
    )
    done = (
        net.groupby(level="order").cumsum().to_numpy()
        * orders["side"].to_numpy(np.float64)[net.index.get_level_values("order")]
    )
    size = orders["size"].to_numpy(np.float64)[net.index.get_level_values("order")]
    earned = np.diff(-book["fees"].to_numpy(), prepend=0.0) > 1e-12
    covered = np.zeros(len(bars), bool)
    rng = orders.loc[
        (orders["type"].astype(str) == "range") & (orders["live_bar"] >= 0)
    ]
    for lv, en, a, b in rng[["live_bar", "end_bar", "price", "price_upper"]].itertuples(
        index=False
    ):
        stop = len(bars) if en < 0 else en
        covered[lv:stop] |= (lo[lv:stop] <= b) & (hi[lv:stop] >= a)
    parts = pnl_parts(book).to_numpy()
    return {
        "outside_block": int(
            np.sum((price < lo[bar] * (1 - rel)) | (price > hi[bar] * (1 + rel)))
        ),
        "no_swap": int(np.sum(bars["volume"].to_numpy()[bar] <= 0)),
        "not_live": int(
            np.sum((live < 0) | (live > bar) | ((end >= 0) & (end <= bar)))
        ),
        "overfilled": int(np.sum((done > size + 1e-9) | (done < -1e-9))),
        "fees_without_swap": int(
            np.sum(earned & ((bars["volume"].to_numpy() <= 0) | ~covered))
        ),
        "money": int(np.sum(np.abs(parts - book["equity"].to_numpy()) > 1e-6)),
    }


def check_metrics(metrics: dict, max_inventory: float) -> list[str]:
    """Risk metrics that no book could have (empty for a sane run).

    Args:
        metrics: ``metrics.json`` (flat ``backtest.*`` and ``baseline.*`` keys).
        max_inventory: ``mm.max_inventory``, the bound in order sizes.

    Returns:
        One line per metric out of its physical range: a time share outside
        [0, 1], a mean inventory beyond the bound, an inventory spread below
        0 or beyond the bound, a negative count.
    """
    bad = []
    for book in ("backtest", "baseline"):
        prefix = f"{book}."
        m = {k[len(prefix) :]: v for k, v in metrics.items() if k.startswith(prefix)}
        if "time_at_bound" not in m:
            continue
        if not 0.0 <= m["time_at_bound"] <= 1.0:
            bad.append(f"{book}.time_at_bound {m['time_at_bound']} is not a share")
        if abs(m["inventory_mean"]) > max_inventory + TOL:
            bad.append(f"{book}.inventory_mean {m['inventory_mean']} beyond the bound")
        if not 0.0 <= m["inventory_std"] <= max_inventory + TOL:
            bad.append(f"{book}.inventory_std {m['inventory_std']} out of range")
        if m["fill_ratio"] < 0 or m["fills"] < 0 or m["updates"] < 0:
            bad.append(f"{book}: a negative count or ratio")
    return bad
