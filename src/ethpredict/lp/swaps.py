"""The pool's swaps as the LP kernel's arrays: the swap path (real swaps,
or per-minute summaries turned into price paths), marks and the pool grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ethpredict.core.liquidity import (
    grid,
    raw_scale,
)
from ethpredict.errors import ParameterError
from ethpredict.memo import memo, signature
from ethpredict.timeaxis import epoch_ns

#: relative √price step of the legs that carry an input no leg of its minute
#: moved (per-minute summaries)
WIGGLE = 1e-9


@dataclass(frozen=True)
class SwapPath:
    """The pool's swaps as the kernel reads them: ``start[j]:start[j+1]`` are
    block ``j``'s swaps; per swap √price after it, its gross input (ETH when
    the price fell, else quote token) and the active liquidity (whole-token
    units). ``form``: ``swaps`` or ``minute paths``."""

    start: np.ndarray
    sqrt_price: np.ndarray
    amount_in: np.ndarray
    liquidity: np.ndarray
    form: str


def pool_attr(bars: pd.DataFrame, name: str):
    """A pool attribute of the bars (``bars.attrs[name]``).

    Args:
        bars: The pool's bars.
        name: The attribute (``tick_spacing``, ``decimals0``, ...).

    Returns:
        Its value.

    Raises:
        ParameterError: The bars carry no such attribute (or it is None).
    """
    value = bars.attrs.get(name)
    if value is None:
        raise ParameterError(
            f"the bars carry no pool attribute '{name}': re-run the data_engineering "
            "pipeline on the pool's files (kedro run --pipeline=data_engineering)"
        )
    return value


def pool_grid(bars: pd.DataFrame) -> tuple[float, float, int]:
    """The price grid of the pool the bars come from.

    Args:
        bars: The pool's bars (``attrs``: ``tick_spacing``, ``eth_token``,
            ``decimals0``, ``decimals1``).

    Returns:
        ``(c0, step, tick_spacing)``: the grid's ETH prices are
        ``exp(c0 + g·step)`` at grid index ``g``.

    Raises:
        ParameterError: A pool attribute is missing (:func:`pool_attr`).
    """
    spacing = int(pool_attr(bars, "tick_spacing"))
    c0, step, _ = grid(
        pool_attr(bars, "eth_token"),
        int(pool_attr(bars, "decimals0")),
        int(pool_attr(bars, "decimals1")),
        spacing,
    )
    return c0, step, spacing


def mark_prices(bars: pd.DataFrame) -> tuple[np.ndarray, str]:
    """The price the book is valued at per block.

    Args:
        bars: The pool's bars (``close``; optional ``reference_price``).

    Returns:
        ``(mark, which)``: per block, the exchange reference
        (``reference_price``: the last one known strictly before the block)
        where there is one, else the pool's close (quote currency per ETH);
        ``which`` is ``"reference"`` when the bars have the column, else
        ``"pool"``.
    """
    close = bars["close"].to_numpy(np.float64)
    if "reference_price" not in bars:
        return close, "pool"
    ref = bars["reference_price"].to_numpy(np.float64)
    return np.where(np.isfinite(ref), ref, close), "reference"


def _liquidity_at(bars: pd.DataFrame, liquidity: pd.DataFrame, scale: float):
    """The pool's active liquidity (whole-token units) at each block's start:
    the last level known at or before it (NaN before the first)."""
    n = len(bars)
    if liquidity is None or not len(liquidity) or "liquidity" not in liquidity:
        return np.full(n, np.nan)
    t = epoch_ns(liquidity.index)
    lv = liquidity["liquidity"].to_numpy(np.float64) / scale
    pos = np.searchsorted(t, epoch_ns(bars.index), side="right") - 1
    out = np.full(n, np.nan)
    ok = pos >= 0
    out[ok] = lv[pos[ok]]
    return out


def swap_path(
    bars: pd.DataFrame, trades: pd.DataFrame, liquidity: pd.DataFrame | None
) -> SwapPath:
    """The kernel's swap arrays from a pool's swaps, or from per-minute
    summaries when the source has no swaps (see the module docstring);
    remembered for the same frames (:mod:`ethpredict.memo`: a sweep's trials
    share them).

    Args:
        bars: The pool's bars (one per block or minute; ``open``, ``high``,
            ``low``, ``close``, ``volume`` and, if present, the taker-buy
            volumes; the pool's decimals in ``attrs``).
        trades: The swaps (``price``, ``side`` > 0 when a taker bought ETH,
            ``qty`` in ETH, ``quote_qty``, ``liquidity`` in raw units); None
            or empty: the bars' price paths.
        liquidity: The pool's active liquidity series (raw units), for the
            minute paths (None: implied by the minutes' ETH inputs).

    Returns:
        The :class:`SwapPath` (read-only arrays; ``form`` ``"swaps"`` or
        ``"minute paths"``).
    """
    swaps = trades is not None and len(trades) > 0
    objs = tuple(x for x in (bars, trades, liquidity) if x is not None)
    sig = (
        signature(bars["close"].to_numpy(np.float64)),
        signature(trades["price"].to_numpy(np.float64)) if swaps else (),
    )
    arrays = memo(
        objs, ("swap_path",), lambda: list(_swap_arrays(bars, trades, liquidity)), sig
    )
    return SwapPath(*arrays, "swaps" if swaps else "minute paths")


def _swap_arrays(bars, trades, liquidity):
    n = len(bars)
    scale = raw_scale(
        int(pool_attr(bars, "decimals0")), int(pool_attr(bars, "decimals1"))
    )
    if trades is not None and len(trades):
        bar_ns = epoch_ns(bars.index)
        t = epoch_ns(trades.index)
        keep = (t >= bar_ns[0]) & (
            t < bar_ns[-1] + (bar_ns[-1] - bar_ns[-2] if n > 1 else 1)
        )
        tr = trades.loc[keep]
        t = t[keep]
        which = np.searchsorted(bar_ns, t, side="right") - 1
        start = np.searchsorted(which, np.arange(n + 1), side="left").astype(np.int64)
        up = tr["side"].to_numpy() > 0  # a taker bought ETH: the price rose
        amount = np.where(
            up, tr["quote_qty"].to_numpy(np.float64), tr["qty"].to_numpy(np.float64)
        )
        return (
            start,
            np.sqrt(tr["price"].to_numpy(np.float64)),
            amount,
            tr["liquidity"].to_numpy(np.float64) / scale,
        )
    o, h, lo, c = (
        bars[k].to_numpy(np.float64) for k in ("open", "high", "low", "close")
    )
    high_first = (h - o) < (o - lo)
    # the prices after each leg; the first leg is the minute's first swap,
    # from the previous minute's close to the minute's open (demeter-fetch's
    # open is the tick after it)
    pts = np.sqrt(
        np.column_stack(
            [
                np.r_[o[0], c[:-1]],
                o,
                np.where(high_first, h, lo),
                np.where(high_first, lo, h),
                c,
            ]
        )
    )
    d = np.diff(pts, axis=1)
    down_w = np.where(d < 0, 1.0 / pts[:, 1:] - 1.0 / pts[:, :-1], 0.0)
    up_w = np.where(d > 0, d, 0.0)
    vol = bars["volume"].to_numpy(np.float64)
    if "taker_buy_volume" in bars and "taker_buy_quote_volume" in bars:
        eth_in = vol - bars["taker_buy_volume"].to_numpy(np.float64)
        quote_in = bars["taker_buy_quote_volume"].to_numpy(np.float64)
    else:  # no split of the volume: half each way
        eth_in, quote_in = vol / 2, vol / 2 * c
    down_sum, up_sum = down_w.sum(axis=1), up_w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        amount = np.where(
            d < 0,
            eth_in[:, None] * down_w / down_sum[:, None],
            quote_in[:, None] * up_w / up_sum[:, None],
        )
    # an input no leg moved its way (a monotone minute) is not dropped: it
    # rides a tiny leg out of the close and back (in the range iff the close
    # is), kept inside the minute's price range — a minute whose price never
    # left its tick has no room, and its inputs earn nothing here
    cs = pts[:, -1]
    before = np.r_[o[0], c[:-1]]
    down_to = np.maximum(cs * (1 - WIGGLE), np.sqrt(np.minimum(lo, before)))
    up_to = np.minimum(cs * (1 + WIGGLE), np.sqrt(np.maximum(h, before)))
    lone_eth = (eth_in > 0) & (down_sum == 0) & (down_to < cs)
    lone_quote = (quote_in > 0) & (up_sum == 0) & (up_to > cs)
    zero = np.zeros_like(cs)
    extra = np.column_stack([down_to, cs, up_to, cs])
    extra_amt = np.column_stack([eth_in, zero, quote_in, zero])
    extra_on = np.column_stack([lone_eth, lone_eth, lone_quote, lone_quote])
    sqrt_all = np.column_stack([pts[:, 1:], extra])
    amt_all = np.nan_to_num(np.column_stack([amount, extra_amt]))
    on = np.column_stack([d != 0, extra_on])
    level = _liquidity_at(bars, liquidity, scale)
    if not np.isfinite(level).any():  # implied by the minute's ETH input
        with np.errstate(divide="ignore", invalid="ignore"):
            level = eth_in / down_sum
    level = pd.Series(level).replace([np.inf, -np.inf], np.nan).ffill().bfill()
    liq = np.repeat(level.fillna(0.0).to_numpy()[:, None], on.shape[1], axis=1)
    start = np.concatenate([[0], np.cumsum(on.sum(axis=1))]).astype(np.int64)
    return start, sqrt_all[on], amt_all[on], liq[on]
