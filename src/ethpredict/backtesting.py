"""Backtest wrapper, markouts and risk metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import norm

from ethpredict.core.backtest import (
    BOOK_COLUMNS,
    FILL_COLUMNS,
    FILL_INTENSITY,
    FILL_TOUCH,
    average_cost_nb,
    backtest_nb,
)
from ethpredict.io.bars import epoch_ns
from ethpredict.params import BacktestParams, MMParams, RiskParams


def bar_seconds(bars: pd.DataFrame) -> float:
    """The bar length in seconds (the most common step)."""
    d = np.diff(epoch_ns(bars.index)[: min(len(bars), 1000)]) / 1e9
    return float(pd.Series(d).mode().iloc[0]) if d.size else 60.0


def activation_delay(bars: pd.DataFrame, bp: BacktestParams, bar_s: float) -> int:
    """Whole bars between a bar's close and the first bar a quote decided at
    that close is live for the entire bar: the quote is live at the first
    block boundary at or after close + latency; a bar it goes live inside of
    is still filled against the old quote."""
    close_s = epoch_ns(bars.index)[0] / 1e9 + bar_s
    offset = close_s % bp.block_time_s
    lag = (
        math.ceil((bp.latency_s + offset) / bp.block_time_s - 1e-9) * bp.block_time_s
        - offset
    )
    return max(0, math.ceil(lag / bar_s - 1e-9))


def run_book(
    bars: pd.DataFrame, quotes: pd.DataFrame, mp: MMParams, bp: BacktestParams,
    rp: RiskParams,
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Run the kernel; returns the per-bar book and the fills with markouts."""
    bar_s = bar_seconds(bars)
    n = len(bars)
    arr = [bars[c].to_numpy(np.float64) for c in ("open", "high", "low", "close")]
    skew = quotes["skew"].to_numpy(np.float64)
    bid_depth, ask_depth = (
        np.column_stack([quotes[col].to_numpy(np.float64), skew])
        for col in ("bid_depth", "ask_depth")
    )
    uniforms = np.random.default_rng(bp.seed).random((n, 2 * mp.levels))
    book = np.zeros((n, len(BOOK_COLUMNS)))
    fills = np.zeros((2 * n * mp.levels, len(FILL_COLUMNS)))
    nf = backtest_nb(
        *arr, bid_depth, ask_depth,
        quotes["bid_size"].to_numpy(np.float64), quotes["ask_size"].to_numpy(np.float64),
        np.nan_to_num(quotes["A"].to_numpy(np.float64)),
        np.nan_to_num(quotes["k"].to_numpy(np.float64)), uniforms,
        mp.levels, mp.level_spacing, mp.level_size_mult, mp.tick, mp.order_size,
        mp.max_inventory, bp.requote_threshold, activation_delay(bars, bp, bar_s),
        bp.gas_units * bp.gas_price_gwei * 1e-9, bp.maker_fee_bps * 1e-4,
        bp.taker_fee_bps * 1e-4, FILL_TOUCH if bp.fill_model == "touch" else FILL_INTENSITY,
        bp.through_ticks, bar_s, rp.max_drawdown or 0.0, book, fills,
    )  # fmt: skip
    out = pd.DataFrame(book, columns=list(BOOK_COLUMNS), index=bars.index)
    out.insert(0, "mid", arr[3])
    f = pd.DataFrame(fills[:nf], columns=list(FILL_COLUMNS))
    halted = np.flatnonzero(out["halted"].to_numpy() > 0)
    avg, realized, unrealized = (np.empty(n) for _ in range(3))
    average_cost_nb(
        fills[:nf, 0].astype(np.int64), fills[:nf, 1], fills[:nf, 2], fills[:nf, 3], arr[3],
        int(halted[0]) if halted.size else -1, avg, realized, unrealized,
    )  # fmt: skip
    out["avg_entry"], out["realized_pnl"], out["unrealized_pnl"] = (
        avg,
        realized,
        unrealized,
    )
    bar = f["bar"].to_numpy(np.int64)
    f.index = pd.DatetimeIndex(bars.index[bar], name="time")
    close = arr[3]
    for hz in bp.markouts:
        later = bar + hz
        m = np.full(len(f), np.nan)
        ok = later < n
        m[ok] = f["side"].to_numpy()[ok] * (
            close[later[ok]] - f["price"].to_numpy()[ok]
        )
        f[f"markout_{hz}"] = m
    return out, f.astype({"bar": np.int64, "side": np.int8, "level": np.int16})


def cornish_fisher_z(alpha: float, skew: float, kurt: float) -> float:
    """Cornish–Fisher quantile of a standardised variable (``kurt`` excess)."""
    z = norm.ppf(alpha)
    return (z + (z**2 - 1) * skew / 6 + (z**3 - 3 * z) * kurt / 24
            - (2 * z**3 - 5 * z) * skew**2 / 36)  # fmt: skip


def _none_if_nan(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def risk_metrics(
    book: pd.DataFrame, fills: pd.DataFrame, mp: MMParams, rp: RiskParams
) -> dict:
    """Scalar risk and activity metrics of one book (USD unless stated).

    Sharpe and Sortino are annualised from daily PnL (UTC days) with
    ``risk.periods_per_year`` (365: crypto trades every day). VaR and CVaR
    are losses (positive numbers) of one day's PnL: historical, and
    Cornish–Fisher (skewness and excess kurtosis of the daily PnL; CVaR
    averages the expansion over the tail).
    """
    eq = book["equity"]
    daily = eq.resample("1D").last().diff()
    daily.iloc[0] = eq.resample("1D").last().iloc[0]
    daily = daily.dropna()
    mean, sd = daily.mean(), daily.std(ddof=1)
    down = (
        np.sqrt(np.mean(np.minimum(daily.to_numpy(), 0.0) ** 2))
        if len(daily)
        else np.nan
    )
    ann = np.sqrt(rp.periods_per_year)
    peak = eq.cummax()
    dd = peak - eq
    end = dd.idxmax() if len(dd) else None
    start = eq.loc[:end].idxmax() if end is not None else None
    recovered = (
        eq.loc[end:][eq.loc[end:] >= peak.loc[end]] if end is not None else eq.iloc[:0]
    )
    dd_end = recovered.index[0] if len(recovered) else eq.index[-1]
    out = {
        "total_pnl": float(eq.iloc[-1]),
        "spread_pnl": float(book["spread_pnl"].iloc[-1]),
        "inventory_pnl": float(book["inventory_pnl"].iloc[-1]),
        "fees": float(book["fees"].iloc[-1]),
        "gas": float(book["gas"].iloc[-1]),
        "days": len(daily),
        "sharpe": _none_if_nan(mean / sd * ann) if sd > 0 else None,
        "sortino": _none_if_nan(mean / down * ann) if down and down > 0 else None,
        "max_drawdown": float(dd.max()),
        "max_drawdown_days": float((dd_end - start).total_seconds() / 86400)
        if start
        else 0.0,
        "updates": int(book["updates"].iloc[-1]),
        "fills": len(fills),
        "halted": bool(book["halted"].iloc[-1]),
    }
    s, kx = (daily.skew(), daily.kurt()) if len(daily) > 3 else (0.0, 0.0)
    for level in (0.95, 0.99):
        a = 1 - level
        q = daily.quantile(a) if len(daily) else np.nan
        tail = daily[daily <= q]
        cf = cornish_fisher_z(a, np.nan_to_num(s), np.nan_to_num(kx))
        grid = np.linspace(a / 50, a, 50)
        cf_tail = np.mean([cornish_fisher_z(g, np.nan_to_num(s), np.nan_to_num(kx))
                           for g in grid])  # fmt: skip
        tag = int(level * 100)
        out[f"var_hist_{tag}"] = _none_if_nan(-q)
        out[f"cvar_hist_{tag}"] = _none_if_nan(-tail.mean()) if len(tail) else None
        out[f"var_cf_{tag}"] = _none_if_nan(-(mean + cf * sd))
        out[f"cvar_cf_{tag}"] = _none_if_nan(-(mean + cf_tail * sd))
    quoted = book["bid"].notna().sum() + book["ask"].notna().sum()
    notional = float((fills["price"] * fills["size"]).sum()) if len(fills) else 0.0
    q = book["position"] / mp.order_size
    out.update(
        fill_ratio=float(len(fills) / quoted) if quoted else 0.0,
        turnover_usd_per_day=notional / max(len(daily), 1),
        time_at_bound=float((q.abs() >= mp.max_inventory - 1e-9).mean()),
        inventory_mean=float(q.mean()),
        inventory_std=float(q.std()),
        inventory_hist=np.histogram(
            q, bins=np.arange(-mp.max_inventory - 0.5, mp.max_inventory + 1.0)
        )[0].tolist(),
    )
    for col in [c for c in fills if c.startswith("markout_")]:
        out[f"mean_{col}"] = _none_if_nan(fills[col].mean()) if len(fills) else None
    # JSON has no NaN: an undefined statistic is null
    return {k: _none_if_nan(v) if isinstance(v, float) else v for k, v in out.items()}
