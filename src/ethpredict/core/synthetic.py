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
  volume / mean trade size, and a taker-buy share that leans with the move;
* optionally a planted signal (:mod:`ethpredict.core.flow`): a latent informed
  order flow ``x_t`` adds ``FLOW_FOOTPRINT·x_t`` to bar ``t``'s taker-buy
  share and drifts the later bars' returns (load ``a``: bar ``t + 1``'s
  standardised return is ``a·x_t + √(1 − a²)·z_{t+1}``). With ``a = 0`` and
  no footprint the output is bit for bit the generator without it.

The slow reference for testing is the same recursion written in plain Python
(see ``tests/core/test_synthetic.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ethpredict.core.flow import flow_phi

#: Intra-bar path points. A random walk sampled at N points closes at its
#: high about 1/sqrt(pi N) of the time: 32 gives ~10 %, as real ETHUSDT 1-minute
#: bars do (10.9 % in shared/data/real, July-August 2024); 8 gave 18 % and
#: too-tight ranges, which made fills look more adversely selected than real.
N_SUB = 32
#: Bumped whenever the model changes, so cached synthetic files are rewritten.
GENERATOR_VERSION = 4  # the klines (3: planted flow, 4: noise traders); the pool: below
POOL_GENERATOR_VERSION = 3  # 2: the reference in candles of one block; 3: noise traders
MINUTES_PER_YEAR = 525_600.0
GARCH_ALPHA = 0.04
GARCH_BETA = 0.955
MEAN_TRADE_SIZE = 0.25  # ETH
WEEKEND_FACTOR = 0.72
#: The planted flow's footprint in the taker-buy share (per unit of the flow's
#: standard deviation): 0.05 against the share's own standard deviation ≈ 0.17.
FLOW_FOOTPRINT = 0.05


@njit(cache=True)
def _ar1_nb(eta: np.ndarray, phi: float, out: np.ndarray) -> None:
    out[0] = eta[0]
    s = np.sqrt(1.0 - phi * phi)
    for t in range(1, eta.shape[0]):
        out[t] = phi * out[t - 1] + s * eta[t]


def latent_flow(n: int, seed: int, half_life: float) -> np.ndarray:
    """``n`` values of the planted flow: the stationary unit-variance AR(1)
    of :mod:`ethpredict.core.flow`, drawn from its own random stream
    (``seed`` and a fixed key; nothing is drawn without a signal). Not the
    same market plus a drift: the trade counts' Poisson draws take a number
    of uniforms that depends on the volume, so the market's stream parts
    from the one without the signal after the first bar. Slow reference: the
    recursion in a Python loop.

    Args:
        n: Number of values.
        seed: The generator's seed (combined with a fixed key).
        half_life: The AR(1)'s half-life in bars.

    Returns:
        ``n`` float64 values, unit variance.
    """
    eta = np.random.default_rng([seed, 0x0F10]).standard_normal(n)
    out = np.empty(n)
    _ar1_nb(eta, flow_phi(half_life), out)
    return out


def noise_flow(n: int, seed: int) -> np.ndarray:
    """``n`` bars of uninformed flow (i.i.d. standard normal), from a random
    stream of its own so that the market's own draws are the same with or
    without it.

    Args:
        n: Number of bars.
        seed: The generator's seed (combined with a fixed key).

    Returns:
        ``n`` float64 standard normal values.
    """
    return np.random.default_rng([seed, 0x401E]).standard_normal(n)


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
    flow: np.ndarray,
    load: float,
    footprint: float,
    noise: np.ndarray,
    impact: float,
    out: np.ndarray,
    path_out: np.ndarray,
) -> None:
    """Fill ``out`` (n_bars × 9) with open, high, low, close, volume, trades,
    taker-buy volume, taker-buy share and the bar's volatility ``sigma_t``
    (of its log return, jumps aside); prices in USDT, volume in ETH.

    ``flow`` (n_bars + 1) is the planted flow: ``flow[t + 1]`` is traded in
    bar ``t`` (``footprint × flow[t + 1]`` added to its taker-buy share) and
    ``flow[t]`` drifts it (standardised return ``load·flow[t] + √(1 −
    load²)·z_t``; the Student-t shock ``z_t`` alone drives the GARCH
    variance). ``load = footprint = 0`` gives the market without the flow,
    bit for bit, whatever ``flow`` holds.

    ``noise`` (n_bars) is the uninformed flow: bar ``t``'s noise trades
    displace the traded price from the efficient one by ``impact · sigma_t ·
    noise[t]`` at its close, a displacement that is gone by the next close
    (it moves linearly from the previous bar's to this one's along the
    intra-bar path, so it is in the bar's range, close and returns, and in
    the taker share through the move). ``impact = 0`` gives the market
    without it, bit for bit.

    ``path_out`` (n_bars × m, m ≥ 0) gets the price at the ends of m equal
    parts of each minute (the last is the close), linearly interpolated
    between the intra-bar path's points — the exchange path a pool follows
    block by block; it draws no random numbers, so ``out`` is the same
    whatever m. ``first_weekday`` is 0 for Monday. Deterministic for a given
    ``seed``.

    Args:
        n_bars: Number of 1-minute bars.
        first_minute_of_day: The first bar's minute of the UTC day (0–1439).
        first_weekday: The first bar's weekday, 0 for Monday.
        seed: Seeds NumPy's global generator inside the kernel.
        start_price: The first price, USDT per ETH.
        annual_vol: Annualised volatility of log returns (a fraction: 0.65
            is 65 %).
        jumps_per_day: Poisson jump intensity per day.
        jump_size: Laplace scale of a jump, a log return (its mean absolute
            size).
        tail_df: Student-t degrees of freedom of the shocks (> 2).
        volume_per_min: Mean volume per bar, ETH.
        flow: (n_bars + 1) planted flow (see above).
        load: The flow's load on the next bar's standardised return.
        footprint: The flow's weight in the taker-buy share.
        noise: (n_bars) uninformed flow.
        impact: Noise displacement per unit of ``sigma_t · noise[t]``.
        out: Out, (n_bars, 9) float64, written in place.
        path_out: Out, (n_bars, m) float64 prices (USDT), written in place.
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
    m = path_out.shape[1]
    pts = np.empty(N_SUB + 1)
    rest = np.sqrt(1.0 - load * load)
    tau_prev = 0.0  # the previous close's transient displacement
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
        drift = load * flow[t]  # the flow traded in the bar before
        u = drift + rest * z
        # intra-bar path: a Brownian bridge from 0 to u·sig_bar in N_SUB steps
        steps = np.random.standard_normal(N_SUB)
        steps = sig_bar * ((steps - steps.mean()) / np.sqrt(N_SUB) + u / N_SUB)
        tau = impact * sig_bar * noise[t]
        o = price + tau_prev  # the traded price: efficient + transient
        hi = o
        lo = o
        p = price
        pts[0] = o
        for k in range(N_SUB):
            p += steps[k]
            if k == jump_at:
                p += jump
            obs = p + tau_prev + (tau - tau_prev) * (k + 1) / N_SUB
            hi = max(hi, obs)
            lo = min(lo, obs)
            pts[k + 1] = obs
        for jj in range(m):
            x = (jj + 1) * N_SUB / m
            q = min(int(np.floor(x)), N_SUB - 1)
            path_out[t, jj] = np.exp(pts[q] + (x - q) * (pts[q + 1] - pts[q]))
        price = p
        p = pts[N_SUB]
        tau_prev = tau
        r = p - o
        expected = sigma_1m * s_tod * s_dow
        vol = (
            volume_per_min
            * (0.55 * s_tod * s_dow + 0.45)
            * (0.35 + abs(r) / expected)
            * np.exp(0.45 * np.random.standard_normal() - 0.1)
        )
        share = (  # leans with the move the drift does not explain
            0.5
            + 0.32 * np.tanh(0.8 * (r - sig_bar * drift) / expected)
            + 0.04 * (np.random.standard_normal())
            + footprint * flow[t + 1]
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
        out[t, 8] = sig_bar


#: Swap kinds in :func:`simulate_pool_nb`'s output
SWAP_NOISE, SWAP_ARB = 0, 1
LOG_TICK = np.log(1.0001)


@njit(cache=True)
def _swap_nb(sqrt_p, liquidity, fee, zero_for_one, target, exact_in):
    """One swap inside constant liquidity ``L`` (Uniswap v3, token0 the
    quote, prices in raw units, ``√P`` = √(token1 / token0)).

    Either to a target price (``target`` > 0: the new ``√P``) or of an exact
    input ``exact_in`` (raw units of the input token, fee included). Returns
    the new ``√P``, amount0 and amount1 into the pool (negative: out); the
    fee is taken on the input side (gross = net / (1 − fee)); inputs round
    up, outputs down, as the pool does.
    """
    if zero_for_one:  # token0 in, √P falls: Δ(1/√P) = Δx / L
        if target > 0:
            new = target
            net = liquidity * (1.0 / new - 1.0 / sqrt_p)
            gross = net / (1.0 - fee)
        else:
            gross = exact_in
            new = 1.0 / (1.0 / sqrt_p + gross * (1.0 - fee) / liquidity)
        out = liquidity * (sqrt_p - new)
        return new, np.ceil(gross), -np.floor(out)
    if target > 0:  # token1 in, √P rises: Δ√P = Δy / L
        new = target
        net = liquidity * (new - sqrt_p)
        gross = net / (1.0 - fee)
    else:
        gross = exact_in
        new = sqrt_p + gross * (1.0 - fee) / liquidity
    out = liquidity * (1.0 / sqrt_p - 1.0 / new)
    return new, -np.floor(out), np.ceil(gross)


@njit(cache=True)
def simulate_pool_nb(
    ref_price: np.ndarray,
    seed: int,
    fee: float,
    liquidity: float,
    price_scale: float,
    noise_rate: float,
    noise_median: float,
    noise_sigma: float,
    base_unit: float,
    quote_unit: float,
    out: np.ndarray,
) -> int:
    """A Uniswap v3 pool (token0 the quote token, token1 ETH; ETH price =
    ``price_scale / P``, ``P = 1.0001^tick``) following ``ref_price`` (ETH in
    the quote token at each block) block by block, inside one constant
    active liquidity ``L``.

    Each block: an arbitrageur trades if the pool's ETH price is outside
    ``ref_price × (1 ± fee)`` and brings it to that band's edge; then
    Poisson(``noise_rate``) noise traders each swap an exact input worth a
    log-normal ETH size (median ``noise_median``, dispersion
    ``noise_sigma``), buying or selling with equal odds. The pool starts at
    the first reference price.

    Writes one row per swap into ``out`` (≥ rows needed × 7): block, kind
    (:data:`SWAP_NOISE` / :data:`SWAP_ARB`), amount0, amount1 (raw, into
    the pool), √P after, tick after (``floor(log_1.0001 P)``), the pool's
    ETH price before. Slow reference: the same loop in plain Python (tests).

    Args:
        ref_price: The reference ETH price per block, quote per ETH.
        seed: Seeds NumPy's global generator inside the kernel.
        fee: The fee tier as a fraction (not basis points).
        liquidity: The constant active liquidity ``L`` (as the swap math
            reads it).
        price_scale: ETH price = ``price_scale / P``.
        noise_rate: Poisson mean of noise swaps per block.
        noise_median: Median noise swap size, ETH.
        noise_sigma: Log-normal dispersion of the noise sizes.
        base_unit: Raw units per ETH.
        quote_unit: Raw units per quote token.
        out: Out, (rows, 7) float64, one row per swap, written in place.

    Returns:
        The number of swaps written; −1 when ``out`` has too few rows.
    """
    np.random.seed(seed)
    n_out = 0
    sqrt_p = np.sqrt(price_scale / ref_price[0])
    for b in range(ref_price.shape[0]):
        s = ref_price[b]
        for leg in range(1 + np.random.poisson(noise_rate)):
            price = price_scale / (sqrt_p * sqrt_p)
            if leg == 0:  # the arbitrageur, first in the block
                lo, hi = s * (1.0 - fee), s * (1.0 + fee)
                if lo <= price <= hi:
                    continue
                edge = lo if price < lo else hi
                res = _swap_nb(
                    sqrt_p, liquidity, fee, price < lo, np.sqrt(price_scale / edge), 0.0
                )
                kind = SWAP_ARB
            else:
                size = noise_median * np.exp(noise_sigma * np.random.standard_normal())
                buy = np.random.random() < 0.5  # buys ETH: pays token0
                amount = size * price * quote_unit if buy else size * base_unit
                res = _swap_nb(sqrt_p, liquidity, fee, buy, 0.0, amount)
                kind = SWAP_NOISE
            if n_out >= out.shape[0]:
                return -1
            out[n_out, 0] = b
            out[n_out, 1] = kind
            out[n_out, 2] = res[1]
            out[n_out, 3] = res[2]
            out[n_out, 4] = res[0]
            out[n_out, 5] = np.floor(2.0 * np.log(res[0]) / LOG_TICK)
            out[n_out, 6] = price
            sqrt_p = res[0]
            n_out += 1
    return n_out
