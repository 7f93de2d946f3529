"""Backtest wrapper, markouts and risk metrics.

The bar length is :func:`ethpredict.timeaxis.bar_seconds` (importable from
here too, as before).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd

from ethpredict.core import types as T
from ethpredict.core.accounting import average_cost_nb
from ethpredict.core.backtest import backtest_nb
from ethpredict.core.risk import path_stats_nb
from ethpredict.params import BacktestParams, MMParams, RiskParams
from ethpredict.timeaxis import DAY_NS, bar_seconds, epoch_ns, utc_day_ends
from ethpredict.venues import activation_delay, venue_of
from ethpredict.volatility import unobserved

AVG_COLUMNS = ("avg_entry", "realized_pnl", "unrealized_pnl")


def _before(x: np.ndarray) -> np.ndarray:
    """``x`` one bar later: the value fitted on bars strictly before each bar."""
    out = np.empty_like(x)
    out[0] = np.nan
    out[1:] = x[:-1]
    return out


def _frame(block: np.ndarray, columns, index) -> pd.DataFrame:
    return pd.DataFrame(block, columns=list(columns), index=index, copy=False)


def orders_frame(
    orders: np.ndarray, columns: tuple[str, ...] = T.ORDER_COLUMNS
) -> pd.DataFrame:
    """The orders table: one row per order (its id).

    No time columns, which would cost more than the kernel in a sweep (it
    builds this twice per trial).

    Args:
        orders: The kernel's float64 orders block, one row per order and one
            column per name in ``columns``. Column-major ``orders`` gives its
            columns without copies where their dtype allows.
        columns: ``ORDER_COLUMNS`` and any float columns after them (a pool's
            ``POOL_ORDER_COLUMNS``).

    Returns:
        A frame indexed by order id (``order``): ``side`` (int8, +1 bid/buy,
        −1 ask/sell), ``level`` (int16), ``type`` and ``end_reason``
        (categoricals), ``submit_bar`` / ``live_bar`` / ``end_bar`` (int64
        positions in ``bars``; their times: ``bars.index[bar]``; −1: never),
        ``price`` (the limit, quote currency per ETH), ``size`` and ``filled``
        (ETH), then the extra float columns. The float columns stay views of
        ``orders``.
    """
    c = {name: orders[:, i] for i, name in enumerate(columns)}
    cols = {
        "side": c["side"].astype(np.int8),
        "level": c["level"].astype(np.int16),
        "type": pd.Categorical.from_codes(c["type"].astype(np.int8), T.ORDER_TYPES),
        **{k: c[k].astype(np.int64) for k in ("submit_bar", "live_bar", "end_bar")},
        **{k: c[k] for k in ("price", "size", "filled")},
        "end_reason": pd.Categorical.from_codes(
            c["end_reason"].astype(np.int8), T.END_REASONS
        ),
        **{k: c[k] for k in columns[len(T.ORDER_COLUMNS) :]},
    }
    # one constructor call (inserting column by column costs a copy of the
    # block manager each time); the float columns stay views of ``orders``
    return pd.DataFrame(
        cols, index=pd.RangeIndex(len(orders), name="order"), copy=False
    )


def fills_frame(
    fb: np.ndarray, index: pd.DatetimeIndex, mark: np.ndarray, markouts: list[int]
) -> pd.DataFrame:
    """The fills table from the kernel's ``fills`` rows.

    Args:
        fb: The kernel's fills rows, columns ``FILL_COLUMNS`` (``bar`` a
            position in ``index``, ``side`` +1 buy / −1 sell, ``price`` quote
            currency per ETH, ``size`` ETH, ``level``, ``order`` id, ``kind``
            code).
        index: The bars' times (a fill's time is ``index[bar]``).
        mark: The mark price per bar (quote currency per ETH), one per bar of
            ``index``.
        markouts: Markout horizons in bars.

    Returns:
        One row per fill indexed by its bar's time (``time``): ``bar``,
        ``side`` (int8), ``price``, ``size``, ``level``, ``order``, ``kind``
        (categorical), ``taker`` (bool) and, per horizon ``h`` of
        ``markouts``, ``markout_h`` = side × (``mark`` h bars later − price),
        quote currency per ETH (NaN past the end).
    """
    n = len(mark)
    bar = fb[:, T.F_BAR].astype(np.int64)
    side, price = fb[:, T.F_SIDE], fb[:, T.F_PRICE]
    kind = fb[:, T.F_KIND].astype(np.int8)
    cols: dict[str, object] = {
        "bar": bar,
        "side": side.astype(np.int8),
        "price": price.copy(),
        "size": fb[:, T.F_SIZE].copy(),
        "level": fb[:, T.F_LEVEL].astype(np.int16),
        "order": fb[:, T.F_ORDER].astype(np.int64),
        "kind": pd.Categorical.from_codes(kind, T.FILL_KINDS),
        "taker": np.isin(kind, T.TAKER_KINDS),
    }
    for hz in markouts:
        later = bar + hz
        m = np.full(len(bar), np.nan)
        ok = later < n
        m[ok] = side[ok] * (mark[later[ok]] - price[ok])
        cols[f"markout_{hz}"] = m
    return pd.DataFrame(cols, index=pd.DatetimeIndex(index[bar], name="time"))


def run_book(
    bars: pd.DataFrame,
    quotes: pd.DataFrame,
    mp: MMParams,
    bp: BacktestParams,
    rp: RiskParams,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run the kernel on one set of bars and quotes.

    Args:
        bars: The bars (``open``, ``high``, ``low``, ``close`` in quote
            currency per ETH; ``volume``, if present, caps fills through
            ``backtest.max_participation``, else unlimited;
            ``funding_rate`` when the venue has funding; the unobserved-bar
            flags of :func:`ethpredict.volatility.unobserved`), with the
            bars' ``DatetimeIndex`` and ``attrs`` that select the venue.
        quotes: :func:`ethpredict.market_making.quote_policy`'s frame, one row
            per bar (``skew``, ``bid_depth``, ``ask_depth``, ``bid_size``,
            ``ask_size``; ``A`` and ``k`` for the ``intensity`` fill model,
            which uses the values of the bar before, fitted on bars strictly
            before the bar they fill in).
        mp: The ``mm`` parameters (levels, order size in ETH, inventory bound
            in order sizes, tick).
        bp: The ``backtest`` parameters; ``bp.seed`` seeds the uniforms of the
            ``intensity`` fill model; the venue's fees (basis points) enter
            the kernel as fractions (× 1e-4).
        rp: The ``risk`` parameters (``max_drawdown`` None: no stop).

    Returns:
        ``(book, fills, orders)``: the per-bar book on ``bars.index`` (``mid``
        = close, the kernel's ``BOOK_COLUMNS``, then ``avg_entry``,
        ``realized_pnl``, ``unrealized_pnl`` by average cost), whose
        ``attrs["venue_settings"]`` holds the resolved
        :class:`~ethpredict.venues.Venue`; the fills with markouts at
        ``bp.markouts`` bars against the close (:func:`fills_frame`); the
        orders (:func:`orders_frame`).
    """
    bar_s = bar_seconds(bars)
    venue = venue_of(bars, bp)
    n = len(bars)
    funding = (
        bars["funding_rate"].to_numpy(np.float64) if venue.funding else np.zeros(n)
    )
    arr = [bars[c].to_numpy(np.float64) for c in ("open", "high", "low", "close")]
    volume = (
        bars["volume"].to_numpy(np.float64) if "volume" in bars else np.full(n, np.inf)
    )
    skew = quotes["skew"].to_numpy(np.float64)
    bid_depth, ask_depth = (
        quotes[c].to_numpy(np.float64) for c in ("bid_depth", "ask_depth")
    )
    intensity = bp.fill_model == "intensity"
    L = mp.levels
    if intensity:  # fitted on bars strictly before the bar they fill in
        A, k = (_before(np.nan_to_num(quotes[c].to_numpy(np.float64))) for c in "Ak")
        uniforms = np.random.default_rng(bp.seed).random((n, 2 * L))
    else:  # the touch model reads none of them
        A = k = np.zeros(1)
        uniforms = np.zeros((1, 2 * L))
    # one block for the whole book (mid, the kernel's columns, average-cost
    # columns), column-major so that each column is contiguous; every cell is
    # written below, so nothing needs zeroing
    names = ["mid", *T.BOOK_COLUMNS, *AVG_COLUMNS]
    block = np.empty((len(names), n))
    block[0] = arr[3]
    book = block[1 : 1 + len(T.BOOK_COLUMNS)].T
    fills = np.empty((len(T.FILL_COLUMNS), n * (2 * L + 1))).T
    orders = np.empty((len(T.ORDER_COLUMNS), n * 2 * L + 1)).T  # column-major
    nf, no = backtest_nb(
        *arr,
        volume,
        ~unobserved(bars),
        bid_depth,
        skew,
        ask_depth,
        skew,
        quotes["bid_size"].to_numpy(np.float64),
        quotes["ask_size"].to_numpy(np.float64),
        A,
        k,
        uniforms,
        funding,
        L,
        mp.level_spacing,
        mp.level_size_mult,
        mp.tick,
        venue.log_tick,
        mp.order_size,
        mp.max_inventory,
        bp.requote_threshold,
        activation_delay(bars, venue.block_time_s, venue.latency_s, bar_s),
        venue.gas_eth,
        venue.maker_fee_bps * 1e-4,
        venue.taker_fee_bps * 1e-4,
        bp.post_only,
        bp.max_participation,
        T.FILL_MODELS[bp.fill_model],
        bp.through_ticks,
        bar_s,
        rp.max_drawdown or 0.0,
        book,
        fills,
        orders,
    )
    avg, realized, unrealized = block[1 + len(T.BOOK_COLUMNS) :]
    fb = fills[:nf]
    average_cost_nb(
        fb[:, T.F_BAR].astype(np.int64),
        fb[:, T.F_SIDE],
        fb[:, T.F_PRICE],
        fb[:, T.F_SIZE],
        arr[3],
        avg,
        realized,
        unrealized,
    )
    out = _frame(block.T, names, bars.index)
    out.attrs["venue_settings"] = venue.as_dict()
    f = fills_frame(fb, bars.index, arr[3], bp.markouts)
    return out, f, orders_frame(orders[:no])


def _counts(column: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    """How often each category of a categorical column occurs (by its codes:
    no strings made for a year of orders)."""
    codes = np.asarray(column.cat.codes) if len(column) else np.empty(0, np.int8)
    return np.bincount(codes, minlength=len(names))


def order_summary(orders: pd.DataFrame, fills: pd.DataFrame) -> dict:
    """How the orders ended and how the fills happened (counts)."""
    fate = _counts(orders["end_reason"], T.END_REASONS)
    filled_code = T.END_REASONS.index("filled")
    part = (orders["filled"].to_numpy() > 0) & (
        np.asarray(orders["end_reason"].cat.codes) != filled_code
    )
    kinds = _counts(fills["kind"], T.FILL_KINDS)
    return {
        "orders": len(orders),
        **{f"orders_{r}": int(v) for r, v in zip(T.END_REASONS, fate, strict=True)},
        "orders_partly_filled": int(part.sum()),
        **{f"fills_{k}": int(v) for k, v in zip(T.FILL_KINDS, kinds, strict=True)},
        "taker_fills": int(fills["taker"].sum()) if len(fills) else 0,
    }


_NORM_PPF = np.vectorize(NormalDist().inv_cdf, otypes=[np.float64])


def cornish_fisher_z(alpha, skew: float, kurt: float):
    """Cornish–Fisher quantile of a standardised variable.

    Args:
        alpha: The probability (a lower tail for a small ``alpha``); may be
            an array.
        skew: Skewness.
        kurt: Excess kurtosis (0 for a normal).

    Returns:
        The standardised quantile(s), shaped as ``alpha``.
    """
    z = _NORM_PPF(np.asarray(alpha, dtype=np.float64))
    return (
        z
        + (z**2 - 1) * skew / 6
        + (z**3 - 3 * z) * kurt / 24
        - (2 * z**3 - 5 * z) * skew**2 / 36
    )


def _none_if_nan(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def daily_pnl(book: pd.DataFrame, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """PnL per UTC day from bar ``start`` on.

    Args:
        book: A per-bar book (``equity``, quote currency) on a
            ``DatetimeIndex``.
        start: The first bar (a position) counted.

    Returns:
        ``(days, pnl)``: the starts of the UTC days (int64 epoch
        nanoseconds) and each day's PnL, the change of end-of-day equity
        (the first day counts from zero), in the book's quote currency; days
        without bars are left out. Both empty when the book has no bar from
        ``start`` on.
    """
    if len(book) <= start:
        return np.empty(0, np.int64), np.empty(0)
    ends = utc_day_ends(book.index)
    last = ends[np.searchsorted(ends, start) :]  # the days that end at or after start
    eod = book["equity"].to_numpy(np.float64)[last]
    days = epoch_ns(book.index)[last] // DAY_NS * DAY_NS
    return days, np.diff(eod, prepend=0.0)


def _skew_kurt(x: np.ndarray) -> tuple[float, float]:
    """Bias-corrected sample skewness and excess kurtosis (pandas' ``skew``
    and ``kurt``)."""
    n = x.size
    if n <= 3:
        return 0.0, 0.0
    d = x - x.mean()
    m2, m3, m4 = (np.mean(d**j) for j in (2, 3, 4))
    if m2 <= 0:
        return 0.0, 0.0
    g1, g2 = m3 / m2**1.5, m4 / m2**2 - 3.0
    skew = math.sqrt(n * (n - 1)) / (n - 2) * g1
    kurt = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6)
    return float(skew), float(kurt)


def risk_metrics(
    book: pd.DataFrame,
    fills: pd.DataFrame,
    mp: MMParams,
    rp: RiskParams,
    start: int = 0,
    daily: np.ndarray | None = None,
) -> dict:
    """Scalar risk and activity metrics of one book from bar ``start`` on
    (USD unless stated).

    Sharpe and Sortino are annualised from daily PnL (UTC days) with
    ``risk.periods_per_year`` (365: crypto trades every day). VaR and CVaR
    are losses (positive numbers) of one day's PnL: historical, and
    Cornish–Fisher (skewness and excess kurtosis of the daily PnL; CVaR
    averages the expansion over the tail).

    Args:
        book: The per-bar book (:func:`run_book`).
        fills: The fills of the same period (from bar ``start`` on).
        mp: The ``mm`` parameters: ``order_size`` (ETH) is the inventory's
            unit, ``max_inventory`` (in order sizes) its bound.
        rp: The ``risk`` parameters (``periods_per_year``).
        start: The first bar (a position) counted.
        daily: The PnL of :func:`daily_pnl` ``(book, start)`` when the caller
            has it (computed here otherwise).

    Returns:
        A JSON-ready dict (an undefined statistic is None): PnL components
        (``total_pnl``, ``spread_pnl``, ``inventory_pnl``, ``fees`` paid,
        ``gas``, ``funding`` received) at the last bar; ``days``;
        ``sharpe``, ``sortino``; ``max_drawdown`` (a positive amount) and
        ``max_drawdown_days`` (peak to recovery or the last bar, in days);
        ``updates``, ``fills``, ``halted``; ``var_hist_95`` … ``cvar_cf_99``
        (losses of one day, positive); ``fill_ratio`` (fills per live quote
        side per bar); ``turnover_usd_per_day``; ``time_at_bound`` (fraction
        of bars at the inventory bound); ``inventory_mean``,
        ``inventory_std`` and ``inventory_hist`` (counts per whole order size
        from −``max_inventory`` to ``max_inventory``), all in order sizes;
        ``mean_markout_h`` per markout column of ``fills`` (quote currency
        per ETH).
    """

    def col(name: str) -> np.ndarray:
        return book[name].to_numpy(np.float64)[start:]

    eq = col("equity")
    if daily is None:  # ``daily_pnl(book, start)`` when the caller has it
        _, daily = daily_pnl(book, start)
    nd = daily.size
    mean = daily.mean() if nd else np.nan
    sd = daily.std(ddof=1) if nd > 1 else np.nan
    down = np.sqrt(np.mean(np.minimum(daily, 0.0) ** 2)) if nd else np.nan
    ann = np.sqrt(rp.periods_per_year)
    q = col("position") / mp.order_size
    # unit bins centred on the whole order sizes, on np.histogram's edges
    unit = np.arange(-mp.max_inventory - 0.5, mp.max_inventory + 1.0)
    edges = np.linspace(unit[0], unit[-1], unit.size)
    hist = np.zeros(unit.size - 1, np.int64)
    max_dd, top, dd_end, quoted, at_bound = path_stats_nb(
        eq, q, col("bid"), col("ask"), mp.max_inventory - 1e-9, edges, hist
    )
    if eq.size:
        ns = epoch_ns(book.index)[start:]
        dd_days = float((ns[dd_end] - ns[top]) / DAY_NS)
    else:
        dd_days, max_dd = 0.0, 0.0

    def last(name: str) -> float:  # a book without funding (spot) has none
        return float(book[name].iat[-1]) if eq.size and name in book else 0.0

    out = {
        "total_pnl": float(eq[-1]) if eq.size else 0.0,
        "spread_pnl": last("spread_pnl"),
        "inventory_pnl": last("inventory_pnl"),
        "fees": last("fees"),
        "gas": last("gas"),
        "funding": last("funding"),
        "days": int(nd),
        "sharpe": _none_if_nan(mean / sd * ann) if sd > 0 else None,
        "sortino": _none_if_nan(mean / down * ann) if down and down > 0 else None,
        "max_drawdown": max_dd,
        "max_drawdown_days": dd_days,
        "updates": int(last("updates")),
        "fills": len(fills),
        "halted": bool(last("halted")),
    }
    s, kx = _skew_kurt(daily)
    s, kx = np.nan_to_num(s), np.nan_to_num(kx)
    for level in (0.95, 0.99):
        a = 1 - level
        cut = np.quantile(daily, a) if nd else np.nan
        tail = daily[daily <= cut]
        cf = cornish_fisher_z(a, s, kx)
        cf_tail = float(np.mean(cornish_fisher_z(np.linspace(a / 50, a, 50), s, kx)))
        tag = int(level * 100)
        out[f"var_hist_{tag}"] = _none_if_nan(-cut)
        out[f"cvar_hist_{tag}"] = _none_if_nan(-tail.mean()) if tail.size else None
        out[f"var_cf_{tag}"] = _none_if_nan(-(mean + cf * sd))
        out[f"cvar_cf_{tag}"] = _none_if_nan(-(mean + cf_tail * sd))
    notional = (
        float(np.dot(fills["price"].to_numpy(), fills["size"].to_numpy()))
        if len(fills)
        else 0.0
    )
    out.update(
        fill_ratio=float(len(fills) / quoted) if quoted else 0.0,
        turnover_usd_per_day=notional / max(nd, 1),
        time_at_bound=at_bound / q.size if q.size else 0.0,
        inventory_mean=float(q.mean()) if q.size else 0.0,
        inventory_std=float(q.std(ddof=1)) if q.size > 1 else 0.0,
        inventory_hist=hist.tolist(),
    )
    for name in [c for c in fills if c.startswith("markout_")]:
        m = fills[name].to_numpy(np.float64)
        m = m[~np.isnan(m)]
        out[f"mean_{name}"] = _none_if_nan(m.mean()) if m.size else None
    # JSON has no NaN: an undefined statistic is null
    return {k: _none_if_nan(v) if isinstance(v, float) else v for k, v in out.items()}
