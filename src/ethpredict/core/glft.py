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


def glft_terms(gamma, k, A, sigma, mu):
    """Half spread at q = 0 and without drift, the inventory skew per unit of
    q, and the drift shift: ``delta_b = half + skew·q − shift``,
    ``delta_a = half − skew·q + shift``. Vectorised over NumPy arrays."""
    gamma, k, A, sigma, mu = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (gamma, k, A, sigma, mu))
    )
    omega = np.sqrt(
        sigma**2 * gamma / (2.0 * k * A) * (1.0 + gamma / k) ** (1.0 + k / gamma)
    )
    c1 = np.log1p(gamma / k) / gamma
    return c1 + omega / 2.0, omega, omega * mu / (gamma * sigma**2)


def glft_depths(q, gamma, k, A, sigma, mu=0.0):
    """Optimal bid and ask depths ``(delta_b, delta_a)`` from the reference
    price, in USDT (see the module docstring for units). Vectorised."""
    half, skew, shift = glft_terms(gamma, k, A, sigma, mu)
    q = np.asarray(q, dtype=np.float64)
    return half + skew * q - shift, half - skew * q + shift
