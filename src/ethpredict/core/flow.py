"""The planted order-flow signal of the embedded market, in closed form.

A latent informed order-flow imbalance ``x_t`` — a stationary Gaussian AR(1)
of unit variance, ``x_t = φ·x_{t−1} + √(1 − φ²)·η_t``, ``φ = 2^(−1/half_life)``
— is traded in bar ``t`` (its footprint is in that bar's taker-buy share, so
it is known at the bar's close) and moves the price only afterwards: the
standardised return of bar ``t + 1`` (its log return over its volatility,
jumps aside) is

    u_{t+1} = a·x_t + √(1 − a²)·z_{t+1},

``z`` the generator's unit-variance Student-t shock, independent of ``x``, so
each bar keeps its variance. Then the information coefficient (Pearson
correlation) of ``x_t`` with the standardised return over the next ``h``
bars, ``S_h = u_{t+1} + … + u_{t+h}``, is

    IC(h) = a·G_h / √(h + a²·K_h),
    G_h = Σ_{k=1..h} φ^{k−1} = (1 − φ^h) / (1 − φ),
    K_h = 2·Σ_{d=1..h−1} (h − d)·φ^d    (Cov(u_i, u_j) = a²·φ^{|i−j|}).

:func:`flow_load` inverts it: the load ``a`` that gives a stated IC at a
stated horizon. Pure Python (:mod:`ethpredict.params` validates with it);
the flow itself is drawn by :func:`ethpredict.core.synthetic.latent_flow`.
"""

from __future__ import annotations

import math


def flow_phi(half_life: float) -> float:
    """The flow's AR(1) coefficient for a half-life in bars."""
    return 2.0 ** (-1.0 / half_life)


def _g_k(horizon: int, half_life: float) -> tuple[float, float]:
    phi = flow_phi(half_life)
    g = (1.0 - phi**horizon) / (1.0 - phi)
    k = 2.0 * sum((horizon - d) * phi**d for d in range(1, horizon))
    return g, k


def flow_ic(load: float, horizon: int, half_life: float) -> float:
    """IC of the flow ``x_t`` with the standardised return of the next
    ``horizon`` bars, for a load ``a`` (the IC at one bar)."""
    g, k = _g_k(horizon, half_life)
    return load * g / math.sqrt(horizon + load * load * k)


def flow_load(ic: float, horizon: int, half_life: float) -> float:
    """The load ``a`` for which :func:`flow_ic` is ``ic``:
    ``a² = IC²·h / (G_h² − IC²·K_h)``.

    Args:
        ic: The wanted IC over ``horizon`` bars.
        horizon: The horizon in bars.
        half_life: The flow's half-life in bars.

    Returns:
        The load ``a`` in [0, 1).

    Raises:
        ValueError: no load below 1 gives that IC (see :func:`max_flow_ic`).
    """
    g, k = _g_k(horizon, half_life)
    den = g * g - ic * ic * k
    a2 = ic * ic * horizon / den if den > 0 else math.inf
    if a2 >= 1.0:
        raise ValueError(f"IC {ic} is more than the flow can carry")
    return math.sqrt(a2)


def max_flow_ic(horizon: int, half_life: float) -> float:
    """The IC at load 1 (returns all drift, no shock): the ceiling."""
    return flow_ic(1.0, horizon, half_life)
