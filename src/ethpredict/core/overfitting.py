"""How much of a sweep's winner survives the number of trials tried.

* Deflated Sharpe ratio (Bailey & López de Prado, 2014): the probability
  that the best trial's true Sharpe ratio exceeds the maximum Sharpe ratio
  expected from ``N`` trials of zero skill. Every Sharpe ratio here is
  per period (per day, not annualised); skewness and *raw* kurtosis (3 for a
  normal) are of the best trial's daily PnL; the variance of the trials'
  Sharpe ratios is the sample variance (``ddof = 1``) across the completed
  trials.
* Probability of backtest overfitting by combinatorially symmetric
  cross-validation (Bailey, Borwein, López de Prado & Zhu, 2017): the
  ``T × N`` matrix of daily PnL (days × trials) is cut into ``S`` blocks of
  consecutive days; for every choice of ``S/2`` blocks as in-sample, the
  trial best in-sample is ranked out of sample; PBO is the share of splits
  where it ranks at or below the median (logit ≤ 0).
"""

from __future__ import annotations

import math
from itertools import combinations
from statistics import NormalDist

import numpy as np

EULER_GAMMA = 0.5772156649015329


def sharpe(x: np.ndarray) -> float:
    """Per-period Sharpe ratio (mean / sample standard deviation); 0 when flat."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 2:
        return 0.0
    sd = x.std(ddof=1)
    return float(x.mean() / sd) if sd > 0 else 0.0


def expected_max_sharpe(var_sharpe: float, n_trials: int) -> float:
    """E[max of ``n_trials`` Sharpe ratios] under zero skill (the SR₀ of the
    deflated Sharpe ratio)."""
    if n_trials < 2 or not var_sharpe > 0:
        return 0.0
    z = NormalDist().inv_cdf
    return math.sqrt(var_sharpe) * (
        (1 - EULER_GAMMA) * z(1 - 1 / n_trials)
        + EULER_GAMMA * z(1 - 1 / (n_trials * math.e))
    )


def deflated_sharpe(returns: np.ndarray, trial_sharpes: np.ndarray) -> dict:
    """Deflated Sharpe ratio of the chosen trial given every trial's.

    Args:
        returns: The chosen trial's daily PnL.
        trial_sharpes: Every trial's per-period (daily, not annualised)
            Sharpe ratio; non-finite ones are left out.

    Returns:
        ``dsr`` (a probability; NaN with fewer than 2 days or a non-positive
        denominator), ``sharpe`` (per day), ``sharpe_0`` (the expected
        maximum under zero skill), ``var_trial_sharpe``, ``n_trials``,
        ``days``, ``skew`` and ``kurtosis`` — raw, 3 for a normal, not
        excess.
    """
    r = np.asarray(returns, dtype=np.float64)
    srs = np.asarray(trial_sharpes, dtype=np.float64)
    srs = srs[np.isfinite(srs)]
    t = r.size
    sr = sharpe(r)
    d = r - r.mean() if t else r
    m2 = float(np.mean(d**2)) if t else 0.0
    skew = float(np.mean(d**3) / m2**1.5) if m2 > 0 else 0.0
    kurt = float(np.mean(d**4) / m2**2) if m2 > 0 else 3.0
    var_sr = float(srs.var(ddof=1)) if srs.size > 1 else 0.0
    sr0 = expected_max_sharpe(var_sr, srs.size)
    denom = 1 - skew * sr + (kurt - 1) / 4 * sr**2
    if t < 2 or denom <= 0:
        dsr = math.nan
    else:
        dsr = NormalDist().cdf((sr - sr0) * math.sqrt(t - 1) / math.sqrt(denom))
    return {
        "dsr": dsr,
        "sharpe": sr,
        "sharpe_0": sr0,
        "var_trial_sharpe": var_sr,
        "n_trials": int(srs.size),
        "days": int(t),
        "skew": skew,
        "kurtosis": kurt,
    }


def _block_sharpes(sums, sumsq, n):
    mean = sums / n
    var = (sumsq - n * mean**2) / (n - 1)
    sd = np.sqrt(np.maximum(var, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(sd > 1e-12 * (np.abs(mean) + 1.0), mean / sd, 0.0)
    return out


def pbo_cscv(pnl: np.ndarray, n_blocks: int = 16) -> dict:
    """PBO of a ``T × N`` matrix (days × trials) by CSCV with ``n_blocks``
    (even) blocks; the last ``T mod n_blocks`` days are left out.

    Args:
        pnl: Daily PnL, days on axis 0, trials on axis 1.
        n_blocks: The number of blocks S (even, ≥ 2).

    Returns:
        ``pbo`` (a share of splits; NaN with fewer than 2 trials or 2 days
        per block), ``logits`` (one per split), ``n_blocks`` and
        ``splits``.

    Raises:
        ValueError: ``n_blocks`` is odd or below 2.
    """
    m = np.asarray(pnl, dtype=np.float64)
    t, n = m.shape
    if n_blocks % 2 or n_blocks < 2:
        raise ValueError(f"n_blocks must be even and >= 2, got {n_blocks}")
    size = t // n_blocks
    if n < 2 or size < 2:
        return {
            "pbo": math.nan,
            "logits": np.empty(0),
            "n_blocks": n_blocks,
            "splits": 0,
        }
    blocks = m[: size * n_blocks].reshape(n_blocks, size, n)
    sums, sumsq = blocks.sum(axis=1), (blocks**2).sum(axis=1)  # S × N
    total, total_sq = sums.sum(axis=0), sumsq.sum(axis=0)
    half = n_blocks // 2
    combos = np.array(list(combinations(range(n_blocks), half)))
    logits = np.empty(len(combos))
    for lo in range(0, len(combos), 512):
        chunk = combos[lo : lo + 512]
        mask = np.zeros((len(chunk), n_blocks))
        mask[np.arange(len(chunk))[:, None], chunk] = 1.0
        is_sum, is_sq = mask @ sums, mask @ sumsq
        k = half * size
        sr_is = _block_sharpes(is_sum, is_sq, k)
        sr_oos = _block_sharpes(
            total - is_sum, total_sq - is_sq, t // n_blocks * n_blocks - k
        )
        best = np.argmax(sr_is, axis=1)
        chosen = sr_oos[np.arange(len(chunk)), best]
        rank = (sr_oos < chosen[:, None]).sum(axis=1) + 0.5 * (
            (sr_oos == chosen[:, None]).sum(axis=1) + 1
        )  # ties share the middle rank
        omega = rank / (n + 1)
        logits[lo : lo + len(chunk)] = np.log(omega / (1 - omega))
    return {
        "pbo": float(np.mean(logits <= 0)),
        "logits": logits,
        "n_blocks": n_blocks,
        "splits": len(combos),
    }
