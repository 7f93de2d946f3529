"""Causal feature kernels (pure NumPy)."""

from __future__ import annotations

import numpy as np


def fracdiff_weights(d: float, window: int) -> np.ndarray:
    """Weights ``w_k`` (k = 0 … window−1) of the fractional difference
    ``(1 − B)^d``: ``w_0 = 1``, ``w_k = −w_{k−1} · (d − k + 1) / k``."""
    w = np.empty(window)
    w[0] = 1.0
    for k in range(1, window):
        w[k] = -w[k - 1] * (d - k + 1) / k
    return w


def fracdiff_ffd(x: np.ndarray, d: float, window: int) -> np.ndarray:
    """Fixed-width-window fractional difference (López de Prado, AFML 5.5).

    ``y_t = Σ_{k<window} w_k · x_{t−k}``; the first ``window − 1`` values are
    NaN. Strictly causal. Slow reference: the explicit double loop over
    ``t`` and ``k`` (see the tests).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.full(x.shape[0], np.nan)
    if x.shape[0] >= window:
        full = np.convolve(x, fracdiff_weights(d, window), mode="valid")
        y[window - 1 :] = full
    return y
