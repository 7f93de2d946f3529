"""Deflated Sharpe ratio and PBO (CSCV) against plain references."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
from scipy.stats import kurtosis, norm, skew

from ethpredict.core.overfitting import (
    deflated_sharpe,
    expected_max_sharpe,
    pbo_cscv,
    sharpe,
)


def dsr_reference(r, srs):
    """Bailey & López de Prado (2014), eq. for DSR, written out with scipy."""
    sr = r.mean() / r.std(ddof=1)
    n = len(srs)
    v = np.var(srs, ddof=1)
    g = 0.5772156649015329
    sr0 = math.sqrt(v) * (
        (1 - g) * norm.ppf(1 - 1 / n) + g * norm.ppf(1 - 1 / (n * math.e))
    )
    g3, g4 = skew(r), kurtosis(r, fisher=False)  # raw kurtosis, biased moments
    z = (
        (sr - sr0)
        * math.sqrt(len(r) - 1)
        / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    )
    return norm.cdf(z), sr0


@pytest.mark.parametrize("seed", range(20))
def test_deflated_sharpe_equals_the_formula(seed):
    rng = np.random.default_rng(seed)
    r = rng.standard_t(5, size=int(rng.integers(30, 400))) + rng.uniform(-0.1, 0.3)
    srs = rng.normal(0, rng.uniform(0.02, 0.2), size=int(rng.integers(2, 500)))
    got = deflated_sharpe(r, srs)
    want, sr0 = dsr_reference(r, srs)
    assert got["dsr"] == pytest.approx(want, rel=1e-9, abs=1e-12)
    assert got["sharpe_0"] == pytest.approx(sr0, rel=1e-12)
    assert got["kurtosis"] == pytest.approx(kurtosis(r, fisher=False), rel=1e-12)


def test_more_trials_deflate_more():
    rng = np.random.default_rng(1)
    r = rng.normal(0.1, 1.0, 365)
    few = deflated_sharpe(r, rng.normal(0, 0.05, 10))["dsr"]
    many = deflated_sharpe(r, rng.normal(0, 0.05, 1000))["dsr"]
    assert many < few
    assert expected_max_sharpe(0.0025, 1) == 0.0
    assert expected_max_sharpe(0.0025, 1000) > expected_max_sharpe(0.0025, 10)
    assert sharpe(np.zeros(10)) == 0.0


def pbo_reference(m, s):
    """CSCV written as in the paper: loop over splits, rank by sorting."""
    t, n = m.shape
    size = t // s
    blocks = [m[i * size : (i + 1) * size] for i in range(s)]

    def sr(x):
        sd = x.std(axis=0, ddof=1)
        mean = x.mean(axis=0)
        return np.where(
            sd > 1e-12 * (np.abs(mean) + 1.0), mean / np.where(sd > 0, sd, 1), 0.0
        )

    logits = []
    for combo in combinations(range(s), s // 2):
        ins = np.vstack([blocks[i] for i in combo])
        oos = np.vstack([blocks[i] for i in range(s) if i not in combo])
        best = int(np.argmax(sr(ins)))
        o = sr(oos)
        rank = np.sum(o < o[best]) + (np.sum(o == o[best]) + 1) / 2
        w = rank / (n + 1)
        logits.append(math.log(w / (1 - w)))
    return np.mean(np.array(logits) <= 0), np.array(logits)


@pytest.mark.parametrize("seed", range(15))
def test_pbo_equals_the_reference(seed):
    rng = np.random.default_rng(seed)
    s = [2, 4, 6, 8, 10][seed % 5]
    m = rng.normal(0, 1, (int(rng.integers(s * 3, s * 12)), int(rng.integers(2, 25))))
    m[:, 0] += rng.uniform(0, 0.5)  # one trial with some skill
    got = pbo_cscv(m, n_blocks=s)
    want, logits = pbo_reference(m, s)
    assert got["pbo"] == pytest.approx(want)
    np.testing.assert_allclose(got["logits"], logits, rtol=1e-9, atol=1e-9)


def test_pbo_tells_skill_from_noise():
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 1, (365, 200))
    assert 0.25 < pbo_cscv(noise)["pbo"] < 0.75  # the winner is luck
    skill = noise.copy()
    skill[:, 7] += 0.5  # one trial really is better, every day
    assert pbo_cscv(skill)["pbo"] < 0.05
    with pytest.raises(ValueError, match="even"):
        pbo_cscv(noise, n_blocks=5)
    assert math.isnan(pbo_cscv(noise[:, :1])["pbo"])  # one trial: undefined
