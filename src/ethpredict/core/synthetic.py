"""Seeded generator of a realistic 1-minute ETH market (pure NumPy/Numba).

The model, per 1-minute bar ``t`` (all returns are log returns):

* volatility ``sigma_t = sigma_1m · s_tod(t) · s_dow(t) · sqrt(h_t)``, where
  ``h_t`` is a GARCH(1,1) variance (unit mean) driven by Student-t shocks
  (volatility clustering, fat tails), ``s_tod`` an intraday profile with Asian,
  European and US-open peaks and ``s_dow`` a weekend discount;
* Poisson jumps (``jumps_per_day``), Laplace sizes with mean ``jump_size``;
* an intra-bar path of ``N_SUB`` (32) Gaussian steps (bar variance ``sigma_t²``) plus
  the jump: open, high, low, close are read off that path, so they are
  consistent by construction;
* volume ``∝`` the intraday profile × ``(0.35 + |r_t| / sigma_t)`` × log-normal
  noise (volume rises with absolute returns), trade counts Poisson around
  volume / mean trade size, and a taker-buy share that leans with the move.

The slow reference for testing is the same recursion written in plain Python
(see ``tests/core/test_synthetic.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Intra-bar path points. A random walk sampled at N points closes at its
#: high about 1/sqrt(pi N) of the time: 32 gives ~10 %, as real ETHUSDT 1-minute
#: bars do (10.9 % in shared/data/real, July-August 2024); 8 gave 18 % and
#: too-tight ranges, which made fills look more adversely selected than real.
N_SUB = 32
#: Bumped whenever the model changes, so cached synthetic files are rewritten.
GENERATOR_VERSION = 2
MINUTES_PER_YEAR = 525_600.0
GARCH_ALPHA = 0.04
GARCH_BETA = 0.955
MEAN_TRADE_SIZE = 0.25  # ETH
WEEKEND_FACTOR = 0.72


@njit(cache=True)
def intraday_factor_nb(minute_of_day: float) -> float:
    """Volatility multiplier for a minute of the UTC day (≈ 1 on average)."""
    h = minute_of_day / 60.0
    return (
        0.62
        + 0.75 * np.exp(-(((h - 14.5) / 1.6) ** 2))  # US open
        + 0.30 * np.exp(-(((h - 8.0) / 1.4) ** 2))  # Europe
        + 0.25 * np.exp(-(((h - 1.0) / 1.5) ** 2))  # Asia, either side of 0h
        + 0.25 * np.exp(-(((h - 25.0) / 1.5) ** 2))
    )


@njit(cache=True)
def simulate_market_nb(
    n_bars: int,
    first_minute_of_day: int,
    first_weekday: int,
    seed: int,
    start_price: float,
    annual_vol: float,
    jumps_per_day: float,
    jump_size: float,
    tail_df: float,
    volume_per_min: float,
    out: np.ndarray,
) -> None:
    """Fill ``out`` (n_bars × 8) with open, high, low, close, volume, trades,
    taker-buy volume and taker-buy share; prices in USDT, volume in ETH.

    ``first_weekday`` is 0 for Monday. Deterministic for a given ``seed``.
    """
    np.random.seed(seed)
    # normalise the seasonal profiles so that annual_vol is the realised one
    ms = 0.0
    for m in range(1440):
        ms += intraday_factor_nb(m) ** 2
    seasonal_var = ms / 1440.0 * (5.0 + 2.0 * WEEKEND_FACTOR**2) / 7.0
    sigma_1m = annual_vol / np.sqrt(MINUTES_PER_YEAR * seasonal_var)
    t_scale = np.sqrt((tail_df - 2.0) / tail_df)  # unit-variance Student t
    omega = 1.0 - GARCH_ALPHA - GARCH_BETA
    h = 1.0
    z_prev = 0.0
    jump_p = jumps_per_day / 1440.0
    price = np.log(start_price)
    for t in range(n_bars):
        mod = (first_minute_of_day + t) % 1440
        dow = (first_weekday + (first_minute_of_day + t) // 1440) % 7
        s_tod = intraday_factor_nb(mod)
        s_dow = WEEKEND_FACTOR if dow >= 5 else 1.0
        h = omega + GARCH_ALPHA * z_prev * z_prev + GARCH_BETA * h
        sig_bar = sigma_1m * s_tod * s_dow * np.sqrt(h)
        z = np.random.standard_t(tail_df) * t_scale
        z_prev = z
        jump = 0.0
        jump_at = -1
        if np.random.random() < jump_p:
            jump = np.random.laplace(0.0, jump_size)
            jump_at = np.random.randint(0, N_SUB)
        # intra-bar path: a Brownian bridge from 0 to z·sig_bar in N_SUB steps
        steps = np.random.standard_normal(N_SUB)
        steps = sig_bar * ((steps - steps.mean()) / np.sqrt(N_SUB) + z / N_SUB)
        o = price
        hi = o
        lo = o
        p = o
        for k in range(N_SUB):
            p += steps[k]
            if k == jump_at:
                p += jump
            hi = max(hi, p)
            lo = min(lo, p)
        price = p
        r = p - o
        expected = sigma_1m * s_tod * s_dow
        vol = (
            volume_per_min
            * (0.55 * s_tod * s_dow + 0.45)
            * (0.35 + abs(r) / expected)
            * np.exp(0.45 * np.random.standard_normal() - 0.1)
        )
        share = (
            0.5
            + 0.32 * np.tanh(0.8 * r / expected)
            + 0.04 * (np.random.standard_normal())
        )
        share = min(max(share, 0.02), 0.98)
        out[t, 0] = np.exp(o)
        out[t, 1] = np.exp(hi)
        out[t, 2] = np.exp(lo)
        out[t, 3] = np.exp(p)
        out[t, 4] = vol
        out[t, 5] = 1.0 + np.random.poisson(vol / MEAN_TRADE_SIZE)
        out[t, 6] = vol * share
        out[t, 7] = share
