"""The Uniswap v3 liquidity provider's book: range orders filled by the pool's
own swaps, marked against an exchange reference, beside passive baselines.

The kernel is :func:`ethpredict.core.pool.pool_book_nb`; this module turns the
bars, the swaps (``trades`` of a pool source) and the pool's liquidity series
into its arrays and wraps the results. Per-minute pool summaries have no
swaps: each minute becomes its price path (the previous close → open → the
nearer of high and low → the other → close) with the minute's inputs spread
over the legs that move the price their way (by Δ(1/√p) for ETH, Δ√p for the
quote token), every input carried, and the minute's active liquidity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ethpredict.backtesting import fills_frame, orders_frame
from ethpredict.core import types as T
from ethpredict.core.liquidity import (
    amounts_array,
    full_range,
    grid,
    liquidity_for_value,
    raw_scale,
)
from ethpredict.core.pool import pool_book_nb, static_position_nb
from ethpredict.errors import ParameterError
from ethpredict.io.gas import gas_price_per_bar
from ethpredict.memo import memo, signature
from ethpredict.params import BacktestParams, MMParams, RiskParams
from ethpredict.timeaxis import epoch_ns
from ethpredict.venues import Venue, activation_delay, venue_of
from ethpredict.volatility import unobserved

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


def _attr(bars: pd.DataFrame, name: str):
    value = bars.attrs.get(name)
    if value is None:
        raise ParameterError(
            f"the bars carry no pool attribute '{name}': re-run the data_engineering "
            "pipeline on the pool's files (kedro run --pipeline=data_engineering)"
        )
    return value


def pool_grid(bars: pd.DataFrame) -> tuple[float, float, int]:
    """``(c0, step, tick_spacing)`` of the pool the bars come from."""
    spacing = int(_attr(bars, "tick_spacing"))
    c0, step, _ = grid(
        _attr(bars, "eth_token"),
        int(_attr(bars, "decimals0")),
        int(_attr(bars, "decimals1")),
        spacing,
    )
    return c0, step, spacing


def mark_prices(bars: pd.DataFrame) -> tuple[np.ndarray, str]:
    """The price the book is valued at per block: the exchange reference
    (``reference_price``: the last one known strictly before the block) where
    there is one, else the pool's close; and which it is."""
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
    share them)."""
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
    scale = raw_scale(int(_attr(bars, "decimals0")), int(_attr(bars, "decimals1")))
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


def gas_prices(bars: pd.DataFrame, venue: Venue) -> np.ndarray:
    """The gas price (gwei) per block: the series when given, else constant."""
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
    it lands (:func:`ethpredict.venues.activation_delay`)."""
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
    (reference or pool price) and ``lvr`` columns."""
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
    parts sum to the total (money is conserved)."""
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
    """A position of liquidity ``L`` on ``[lower, upper]`` (ETH prices),
    minted at the start of block ``start`` (at the pool's price then) and
    held: per block from ``start``, its ``eth`` and ``quote`` (fees collected
    included), ``value`` at the mark, cumulative ``fees_earned``, ``lvr`` and
    ``inventory_pnl`` (ETH held × the mark's change); ``value`` = entry value
    + fees_earned − lvr + inventory_pnl (``attrs["entry_value"]``: the
    position at the mark when minted). No gas."""
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
    starts and a burn and a collect at the end, at the venue's gas."""
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
