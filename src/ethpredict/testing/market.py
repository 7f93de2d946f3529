"""Prices and Poisson fills with known sigma, A and k (for calibration tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

# volatility of the mid in USDT/√s, fill rate per side per second, depth
# decay per USDT, bar length in seconds
SIGMA, A, K, BAR_S = 0.05, 0.02, 0.5, 60.0


def simulate(n: int = 20_000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bars whose highs/lows come from Poisson market orders reaching
    ``D ~ Exp(K)`` beyond the previous close at rate ``A`` per side per
    second, around a Brownian mid of volatility ``SIGMA`` USDT/√s.

    Args:
        n: Number of one-minute bars, from 2024-01-01 00:00 UTC.
        seed: Seed of the mid, the order counts, depths and times.

    Returns:
        The bars (``open, high, low, close, volume``) and the market orders
        (``price, qty, side``), both indexed by UTC ``time``.
    """
    rng = np.random.default_rng(seed)
    close = 3000 + np.cumsum(rng.normal(0, SIGMA * np.sqrt(BAR_S), n))
    prev = np.r_[3000.0, close[:-1]]
    rows, hi, lo = [], np.maximum(prev, close), np.minimum(prev, close)
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    for side in (1, -1):
        counts = rng.poisson(A * BAR_S, n)
        bar = np.repeat(np.arange(n), counts)
        depth = rng.exponential(1 / K, bar.size)
        price = prev[bar] + side * depth
        if side > 0:
            np.maximum.at(hi, bar, price)
        else:
            np.minimum.at(lo, bar, price)
        t = t0 + pd.to_timedelta(
            bar * BAR_S + rng.uniform(0, BAR_S, bar.size), unit="s"
        )
        rows.append(pd.DataFrame({"price": price, "qty": 1.0, "side": side}, index=t))
    idx = pd.date_range(t0, periods=n, freq="60s", name="time")
    bars = pd.DataFrame(
        {"open": prev, "high": hi, "low": lo, "close": close, "volume": 1.0},
        index=idx,
    )
    trades = pd.concat(rows).sort_index()
    trades.index.name = "time"
    return bars, trades
