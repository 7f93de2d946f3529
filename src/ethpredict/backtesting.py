"""Backtest wrapper, markouts and risk metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from ethpredict.core.backtest import (
    BOOK_COLUMNS,
    FILL_COLUMNS,
    FILL_INTENSITY,
    FILL_TOUCH,
    average_cost_nb,
    backtest_nb,
)
from ethpredict.errors import ParameterError
from ethpredict.io.bars import DAY_NS, epoch_ns, utc_day_ends
from ethpredict.params import BacktestParams, MMParams, RiskParams

AVG_COLUMNS = ("avg_entry", "realized_pnl", "unrealized_pnl")


def bar_seconds(bars: pd.DataFrame) -> float:
    """The bar length in seconds (the most common step)."""
    d = np.diff(epoch_ns(bars.index)[: min(len(bars), 1000)]) / 1e9
    return float(pd.Series(d).mode().iloc[0]) if d.size else 60.0


@dataclass(frozen=True)
class Venue:
    """The execution settings that follow the data (``backtest.venue: auto``).

    Attributes:
        name: ``spot``, ``perpetual`` or ``uniswap_v3``.
        block_time_s: The decision clock: ``backtest.block_time_s``, else the
            pool's block time, else 12 s (Ethereum L1).
        maker_fee_bps: Paid per fill; a pool's fee tier is *earned* (negative).
        log_tick: 0, or the pool's tick spacing × ln 1.0001 (quotes on its grid).
        funding: Whether funding rates enter the book (a perpetual).
    """

    name: str
    block_time_s: float
    maker_fee_bps: float
    log_tick: float
    funding: bool

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def venue_of(bars: pd.DataFrame, bp: BacktestParams) -> Venue:
    """Resolve :class:`Venue` from the bars' ``attrs`` and ``backtest``."""
    data_venue = bars.attrs.get("venue", "spot")
    name = data_venue if bp.venue == "auto" else bp.venue
    if name == "uniswap_v3" and data_venue != "uniswap_v3":
        raise ParameterError(
            "parameter backtest.venue = 'uniswap_v3' needs bars from a Uniswap v3 "
            "pool (data.source: uniswap_v3); these come from "
            f"'{bars.attrs.get('source', 'unknown')}'"
        )
    if name == "perpetual" and "funding_rate" not in bars:
        raise ParameterError(
            "parameter backtest.venue = 'perpetual' needs funding rates: set "
            "data.market: perpetual and data.funding_path"
        )
    pool = name == "uniswap_v3"
    if bp.maker_fee_bps is not None:
        fee = bp.maker_fee_bps
    else:
        fee = -float(bars.attrs.get("fee_bps", 0.0)) if pool else 0.0
    block = bp.block_time_s or (
        float(bars.attrs.get("block_time_s") or 12.0) if pool else 12.0
    )
    spacing = float(bars.attrs.get("tick_spacing", 0)) if pool else 0.0
    return Venue(name, float(block), float(fee), spacing * math.log(1.0001),
                 name == "perpetual")  # fmt: skip


def activation_delay(bars: pd.DataFrame, block_time_s: float, latency_s: float,
                     bar_s: float) -> int:  # fmt: skip
    """Whole bars between a bar's close and the first bar a quote decided at
    that close is live for the entire bar: the quote is live at the first
    block boundary at or after close + latency; a bar it goes live inside of
    is still filled against the old quote."""
    close_s = epoch_ns(bars.index)[0] / 1e9 + bar_s
    offset = close_s % block_time_s
    lag = math.ceil((latency_s + offset) / block_time_s - 1e-9) * block_time_s - offset
    return max(0, math.ceil(lag / bar_s - 1e-9))


def run_book(
    bars: pd.DataFrame, quotes: pd.DataFrame, mp: MMParams, bp: BacktestParams,
    rp: RiskParams,
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Run the kernel; returns the per-bar book and the fills with markouts.
    The book's ``attrs["venue_settings"]`` holds the resolved :class:`Venue`."""
    bar_s = bar_seconds(bars)
    venue = venue_of(bars, bp)
    funding = (
        bars["funding_rate"].to_numpy(np.float64)
        if venue.funding
        else np.zeros(len(bars))
    )
    n = len(bars)
    arr = [bars[c].to_numpy(np.float64) for c in ("open", "high", "low", "close")]
    skew = quotes["skew"].to_numpy(np.float64)
    bid_depth, ask_depth = (
        np.column_stack([quotes[col].to_numpy(np.float64), skew])
        for col in ("bid_depth", "ask_depth")
    )
    intensity = bp.fill_model == "intensity"
    uniforms = (  # the touch model draws nothing
        np.random.default_rng(bp.seed).random((n, 2 * mp.levels))
        if intensity
        else np.zeros((n, 2 * mp.levels))
    )
    # one block for the whole book (mid, the kernel's columns, average-cost
    # columns), column-major so that each column is contiguous; every cell is
    # written below, so nothing needs zeroing
    names = ["mid", *BOOK_COLUMNS, *AVG_COLUMNS]
    block = np.empty((len(names), n))
    block[0] = arr[3]
    book = block[1 : 1 + len(BOOK_COLUMNS)].T
    fills = np.empty((len(FILL_COLUMNS), 2 * n * mp.levels)).T
    nf = backtest_nb(
        *arr, bid_depth, ask_depth,
        quotes["bid_size"].to_numpy(np.float64), quotes["ask_size"].to_numpy(np.float64),
        *(  # intensities: read by the intensity model only
            np.nan_to_num(quotes[c].to_numpy(np.float64)) if intensity
            else quotes[c].to_numpy(np.float64) for c in ("A", "k")
        ), uniforms,
        mp.levels, mp.level_spacing, mp.level_size_mult, mp.tick, mp.order_size,
        mp.max_inventory, bp.requote_threshold,
        activation_delay(bars, venue.block_time_s, bp.latency_s, bar_s),
        bp.gas_units * bp.gas_price_gwei * 1e-9, venue.maker_fee_bps * 1e-4,
        bp.taker_fee_bps * 1e-4, FILL_INTENSITY if intensity else FILL_TOUCH,
        bp.through_ticks, bar_s, rp.max_drawdown or 0.0, funding, venue.log_tick,
        book, fills,
    )  # fmt: skip
    halted = np.flatnonzero(book[:, BOOK_COLUMNS.index("halted")] > 0)
    avg, realized, unrealized = block[1 + len(BOOK_COLUMNS) :]
    average_cost_nb(
        fills[:nf, 0].astype(np.int64), fills[:nf, 1], fills[:nf, 2], fills[:nf, 3], arr[3],
        int(halted[0]) if halted.size else -1, avg, realized, unrealized,
    )  # fmt: skip
    out = pd.DataFrame(block.T, columns=names, index=bars.index, copy=False)
    out.attrs["venue_settings"] = venue.as_dict()
    bar = fills[:nf, 0].astype(np.int64)
    side, price = fills[:nf, 1], fills[:nf, 2]
    cols: dict[str, np.ndarray] = {
        "bar": bar, "side": side.astype(np.int8), "price": price.copy(),
        "size": fills[:nf, 3].copy(), "level": fills[:nf, 4].astype(np.int16),
    }  # fmt: skip
    close = arr[3]
    for hz in bp.markouts:
        later = bar + hz
        m = np.full(nf, np.nan)
        ok = later < n
        m[ok] = side[ok] * (close[later[ok]] - price[ok])
        cols[f"markout_{hz}"] = m
    f = pd.DataFrame(cols, index=pd.DatetimeIndex(bars.index[bar], name="time"))
    return out, f


_NORM_PPF = np.vectorize(NormalDist().inv_cdf, otypes=[np.float64])


def cornish_fisher_z(alpha, skew: float, kurt: float):
    """Cornish–Fisher quantile of a standardised variable (``kurt`` excess);
    ``alpha`` may be an array."""
    z = _NORM_PPF(np.asarray(alpha, dtype=np.float64))
    return (z + (z**2 - 1) * skew / 6 + (z**3 - 3 * z) * kurt / 24
            - (2 * z**3 - 5 * z) * skew**2 / 36)  # fmt: skip


def _none_if_nan(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def daily_pnl(book: pd.DataFrame, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """PnL per UTC day from bar ``start`` on (the change of end-of-day
    equity; the first day counts from zero): the day starts (epoch ns) and
    the PnL, days without bars left out."""
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
    (USD unless stated); ``fills`` are those of that period.

    Sharpe and Sortino are annualised from daily PnL (UTC days) with
    ``risk.periods_per_year`` (365: crypto trades every day). VaR and CVaR
    are losses (positive numbers) of one day's PnL: historical, and
    Cornish–Fisher (skewness and excess kurtosis of the daily PnL; CVaR
    averages the expansion over the tail).
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
    if eq.size:
        peak = np.maximum.accumulate(eq)
        dd = peak - eq
        end = int(np.argmax(dd))
        top = int(np.argmax(eq[: end + 1]))
        back = np.flatnonzero(eq[end:] >= peak[end])
        dd_end = end + int(back[0]) if back.size else eq.size - 1
        ns = epoch_ns(book.index)[start:]
        dd_days = float((ns[dd_end] - ns[top]) / DAY_NS)
        max_dd = float(dd[end])
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
        q = np.quantile(daily, a) if nd else np.nan
        tail = daily[daily <= q]
        cf = cornish_fisher_z(a, s, kx)
        cf_tail = float(np.mean(cornish_fisher_z(np.linspace(a / 50, a, 50), s, kx)))
        tag = int(level * 100)
        out[f"var_hist_{tag}"] = _none_if_nan(-q)
        out[f"cvar_hist_{tag}"] = _none_if_nan(-tail.mean()) if tail.size else None
        out[f"var_cf_{tag}"] = _none_if_nan(-(mean + cf * sd))
        out[f"cvar_cf_{tag}"] = _none_if_nan(-(mean + cf_tail * sd))
    quoted = int(
        np.count_nonzero(~np.isnan(col("bid")))
        + np.count_nonzero(~np.isnan(col("ask")))
    )
    notional = (
        float(np.dot(fills["price"].to_numpy(), fills["size"].to_numpy()))
        if len(fills)
        else 0.0
    )
    q = col("position") / mp.order_size
    out.update(
        fill_ratio=float(len(fills) / quoted) if quoted else 0.0,
        turnover_usd_per_day=notional / max(nd, 1),
        time_at_bound=float(np.mean(np.abs(q) >= mp.max_inventory - 1e-9))
        if q.size
        else 0.0,
        inventory_mean=float(q.mean()) if q.size else 0.0,
        inventory_std=float(q.std(ddof=1)) if q.size > 1 else 0.0,
        inventory_hist=np.histogram(
            q, bins=np.arange(-mp.max_inventory - 0.5, mp.max_inventory + 1.0)
        )[0].tolist(),
    )
    for name in [c for c in fills if c.startswith("markout_")]:
        m = fills[name].to_numpy(np.float64)
        m = m[~np.isnan(m)]
        out[f"mean_{name}"] = _none_if_nan(m.mean()) if m.size else None
    # JSON has no NaN: an undefined statistic is null
    return {k: _none_if_nan(v) if isinstance(v, float) else v for k, v in out.items()}
