"""Guéant–Lehalle–Fernandez-Tapia optimal quotes (closed-form approximation).

Units: prices and depths in quote currency (USDT); time in seconds.
``sigma`` is the volatility of the reference price in USDT per √second,
``A`` the arrival intensity of fills at zero depth in 1/second per side,
``k`` the decay of that intensity with depth in 1/USDT (λ(δ) = A·e^(−k·δ)),
``gamma`` the risk aversion in 1/USDT, ``mu`` the drift in USDT per second and
``q`` the inventory in units of the order size.

    omega   = sqrt(sigma²·gamma / (2·k·A) · (1 + gamma/k)^(1 + k/gamma))
    delta_b = (1/gamma)·ln(1 + gamma/k) + (−mu/(gamma·sigma²) + (2q + 1)/2)·omega
    delta_a = (1/gamma)·ln(1 + gamma/k) + ( mu/(gamma·sigma²) − (2q − 1)/2)·omega

The bid is ``reference − delta_b`` and the ask ``reference + delta_a``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def glft_terms(gamma, k, A, sigma, mu):
    """Half spread at q = 0 and without drift, the inventory skew per unit of
    q, and the drift shift: ``delta_b = half + skew·q − shift``,
    ``delta_a = half − skew·q + shift``. Vectorised over NumPy arrays.

    Args:
        gamma: Risk aversion, 1/USDT.
        k: Intensity decay with depth, 1/USDT.
        A: Fill intensity at zero depth, 1/second per side.
        sigma: Volatility, USDT per √second.
        mu: Drift, USDT per second.

    Returns:
        ``(half, skew, shift)`` (broadcast float64 arrays): ``half`` and
        ``shift`` in USDT, ``skew`` in USDT per order size of inventory.
    """
    gamma, k, A, sigma, mu = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (gamma, k, A, sigma, mu))
    )
    omega = np.sqrt(
        sigma**2 * gamma / (2.0 * k * A) * (1.0 + gamma / k) ** (1.0 + k / gamma)
    )
    c1 = np.log1p(gamma / k) / gamma
    return c1 + omega / 2.0, omega, omega * mu / (gamma * sigma**2)


def glft_depths(q, gamma, k, A, sigma, mu=0.0):
    """Optimal bid and ask depths from the reference price. Vectorised.

    Args:
        q: Inventory in order sizes.
        gamma: Risk aversion, 1/USDT.
        k: Intensity decay with depth, 1/USDT.
        A: Fill intensity at zero depth, 1/second per side.
        sigma: Volatility, USDT per √second.
        mu: Drift, USDT per second.

    Returns:
        ``(delta_b, delta_a)`` in USDT: the bid is ``reference − delta_b``,
        the ask ``reference + delta_a``.
    """
    half, skew, shift = glft_terms(gamma, k, A, sigma, mu)
    q = np.asarray(q, dtype=np.float64)
    return half + skew * q - shift, half - skew * q + shift


# the columns of the quotes table: the inputs it repeats (the bar's close as
# ``mid``, the calibration) and the rows of the block ``quote_block_nb`` fills
QUOTE_INPUTS = ("mid", "sigma", "A", "k")
QUOTE_ROWS = (
    "reservation",
    "bid",
    "ask",
    "mu",
    "half_spread",
    "skew",
    "drift_shift",
    "bid_depth",
    "ask_depth",
    "bid_size",
    "ask_size",
)
QUOTE_COLUMNS = (
    "mid",
    "reservation",
    "bid",
    "ask",
    "sigma",
    "A",
    "k",
    "mu",
    "half_spread",
    "skew",
    "drift_shift",
    "bid_depth",
    "ask_depth",
    "bid_size",
    "ask_size",
)
SIZING_FIXED, SIZING_VOL_TARGET, SIZING_BET_SIZE = 0, 1, 2
DRIFT_GLFT, DRIFT_ALPHA = 0, 1
Z99 = 2.3263478740408408  # standard normal 99 % quantile


@njit(cache=True, error_model="numpy")  # x/0 gives inf/NaN as in NumPy
def quote_block_nb(
    mid,
    vol,
    p_up,
    p_down,
    bet,
    weight,
    sigma,
    A,
    k,
    gamma,
    spread_scale,
    skew_scale,
    alpha_weight,
    drift_mode,
    pt,
    sl,
    horizon_s,
    tick,
    order_size,
    sizing,
    vol_target_usd,
    max_var,
    max_inventory,
    fee,
    out,
    valid,
):
    """One pass of the quoting policy per bar (the arithmetic of
    ``glft_terms`` plus drift, sizing and tick rounding). ``out`` has one row
    per name in ``QUOTE_ROWS`` (the inputs are not copied into it);
    ``max_var`` NaN = no cap; ``fee`` (a fraction of the price, paid per
    maker fill) widens each half spread by ``fee × mid``: with the fee the
    gain of a fill at depth δ is δ − fee·S, so GLFT's optimal depth moves out
    by fee·S. ``weight`` scales the drift (the meta model's ``|bet size|``,
    1 without one); ``drift_mode`` is ``DRIFT_GLFT`` (the constant-drift
    term ``omega·mu/(gamma·sigma²)``) or ``DRIFT_ALPHA`` (the short-lived
    alpha's: the expected move itself). The NumPy version in
    ``tests/test_market_making.py`` is the reference."""
    day = np.sqrt(86400.0)
    last_s = last_a = last_k = np.nan
    omega = c1 = np.nan
    for t in range(mid.size):
        m, s, a, kk = mid[t], sigma[t], A[t], k[t]
        edge = alpha_weight * weight[t] * (p_up[t] * pt - p_down[t] * sl) * vol[t] * m
        if np.isnan(edge):
            edge = 0.0
        mu = edge / horizon_s
        if not (s == last_s and a == last_a and kk == last_k):
            # the calibration is piecewise constant: recompute only when it moves
            omega = np.sqrt(
                s**2 * gamma / (2.0 * kk * a) * (1.0 + gamma / kk) ** (1.0 + kk / gamma)
            )
            c1 = np.log1p(gamma / kk) / gamma
            last_s, last_a, last_k = s, a, kk
        half = (c1 + omega / 2.0) * spread_scale + fee * m
        skew = omega * skew_scale
        shift = omega * mu / (gamma * s**2) if drift_mode == DRIFT_GLFT else edge
        size = order_size
        if sizing == SIZING_VOL_TARGET:  # NaN propagates, as np.minimum does
            cap = vol_target_usd / (s * day)
            size = (
                cap if (np.isnan(cap) or cap < 10.0 * order_size) else 10.0 * order_size
            )
        if not np.isnan(max_var):
            cap = max_var / (Z99 * s * day * max_inventory)
            size = cap if (np.isnan(cap) or cap < size) else size
        lean = 0.0
        if sizing == SIZING_BET_SIZE:
            b = bet[t]
            lean = 0.0 if np.isnan(b) else min(max(b, -1.0), 1.0)
        ok = not np.isnan(p_up[t]) and np.isfinite(half) and np.isfinite(skew)
        valid[t] = ok
        out[0, t] = m + shift
        out[1, t] = np.floor((m - half + shift) / tick) * tick if ok else np.nan
        out[2, t] = np.ceil((m + half + shift) / tick) * tick if ok else np.nan
        out[3, t] = mu
        out[4, t] = half
        out[5, t] = skew
        out[6, t] = shift
        out[7, t] = half - shift if ok else np.nan
        out[8, t] = half + shift if ok else np.nan
        out[9, t] = size * (1.0 + lean)
        out[10, t] = size * (1.0 - lean)
