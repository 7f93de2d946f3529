"""Block-bootstrap intervals of daily PnL statistics.

Daily PnL is serially dependent (inventory carries over midnight, volatility
clusters), so days are resampled in blocks: the circular block bootstrap
(Politis & Romano 1992), ``ceil(n / b)`` blocks of ``b`` consecutive days
drawn uniformly with wrap-around, the last one cut so that every resample
has ``n`` days. The statistics here (totals, the Sharpe ratio) need only the
sum and the sum of squares of a resample, and a resample's sums are sums of
its blocks' sums: each resample costs ``n / b`` look-ups, not ``n``.
"""

from __future__ import annotations

import math

import numpy as np


def default_block(n_days: int) -> int:
    """``round(n^(1/3))`` days, at least 1: the rate that minimises the
    bootstrap variance's error for sums (Hall, Horowitz & Jing 1995)."""
    return max(1, round(n_days ** (1 / 3)))


def _circular_sums(x: np.ndarray, length: int) -> np.ndarray:
    """``Σ x[i : i + length]`` (circularly) for every start ``i``."""
    n = x.size
    wrapped = np.concatenate([x, x[: max(length - 1, 0)]]) if n else x
    c = np.concatenate([[0.0], np.cumsum(wrapped)])
    return c[length : length + n] - c[:n]


def resampled_sums(
    x: np.ndarray, block: int, resamples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per resample: the sum and the sum of squares of ``x`` (a circular
    block bootstrap with blocks of ``block`` days).

    Args:
        x: The daily values (one per day, in order).
        block: The block length in days (clipped to [1, len(x)]).
        resamples: How many resamples.
        seed: Seed of ``np.random.default_rng``: the result is deterministic
            in it.

    Returns:
        ``(sums, sums_of_squares)``, each one float64 per resample.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    block = min(max(int(block), 1), max(n, 1))
    k = math.ceil(n / block)
    tail = n - (k - 1) * block  # days taken from the last block
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n, size=(resamples, k))
    out = []
    for values in (x, x * x):
        full, part = _circular_sums(values, block), _circular_sums(values, tail)
        out.append(full[starts[:, :-1]].sum(axis=1) + part[starts[:, -1]])
    return out[0], out[1]


def intervals(
    daily: np.ndarray,
    level: float,
    resamples: int,
    seed: int,
    periods_per_year: int,
    block: int | None = None,
) -> dict:
    """Percentile intervals at ``level`` of the total and of the annualised
    Sharpe ratio of ``daily`` PnL.

    Args:
        daily: PnL per day.
        level: The interval's coverage (e.g. 0.95), a fraction.
        resamples: Bootstrap resamples.
        seed: The resampling's seed (deterministic in it).
        periods_per_year: Days per year for annualising the Sharpe ratio.
        block: Block length in days (None: :func:`default_block`).

    Returns:
        ``{"total": (lo, hi), "sharpe": (lo, hi), "block_days": b, "days":
        n}``; fewer than 2 days (or no resamples): no interval (None), and
        an interval is None where most resamples leave it undefined.
    """
    x = np.asarray(daily, dtype=np.float64)
    n = x.size
    b = default_block(n) if block is None else block
    if n < 2 or resamples < 1:
        return {"total": None, "sharpe": None, "block_days": b, "days": n}
    s, s2 = resampled_sums(x, b, resamples, seed)
    mean = s / n
    var = np.maximum(s2 - n * mean**2, 0.0) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = np.where(var > 0, mean / np.sqrt(var), np.nan) * math.sqrt(
            periods_per_year
        )
    q = ((1 - level) / 2, (1 + level) / 2)

    def band(v: np.ndarray) -> tuple[float, float] | None:
        v = v[np.isfinite(v)]
        if v.size < resamples / 2:  # mostly undefined (a flat book)
            return None
        lo, hi = np.quantile(v, q)
        return float(lo), float(hi)

    return {"total": band(s), "sharpe": band(sharpe), "block_days": b, "days": n}
