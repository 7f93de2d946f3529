"""Block-bootstrap intervals: the fast sums against resamples built day by
day, and coverage against series whose true mean is known."""

import math

import numpy as np
import pytest

from ethpredict.core.bootstrap import default_block, intervals, resampled_sums
from ethpredict.reporting import research_answer


def _naive(x, block, resamples, seed):
    """The same draws, each resample built as its list of days."""
    n = x.size
    k = math.ceil(n / block)
    starts = np.random.default_rng(seed).integers(0, n, size=(resamples, k))
    sums, sq = [], []
    for row in starts:
        days = np.concatenate([(s + np.arange(block)) % n for s in row])[:n]
        sums.append(x[days].sum())
        sq.append((x[days] ** 2).sum())
    return np.array(sums), np.array(sq)


@pytest.mark.parametrize("seed", range(8))
def test_block_sums_equal_resamples_built_day_by_day(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    block = int(rng.integers(1, n + 3))  # longer than the series: cut to n
    x = rng.standard_t(3, n)
    fast = resampled_sums(x, block, 50, seed)
    slow = _naive(x, min(block, n), 50, seed)
    np.testing.assert_allclose(fast[0], slow[0], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(fast[1], slow[1], rtol=1e-12, atol=1e-9)


def _ar1(rng, n, rho, mu):
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0] / math.sqrt(1 - rho**2)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + e[t]
    return mu + x


def _coverage(rho, block, reps=300, n=365, mu=0.1):
    rng = np.random.default_rng(1)
    hits = 0
    for i in range(reps):
        x = _ar1(rng, n, rho, mu)
        lo, hi = intervals(x, 0.95, 1000, i, 365, block=block)["total"]
        hits += lo <= mu * n <= hi
    return hits / reps


def test_intervals_cover_the_true_total_of_independent_days():
    # 300 repetitions: a 95 % interval covers in 95 % ± 2.5 % (two standard errors)
    assert 0.92 <= _coverage(rho=0.0, block=default_block(365)) <= 0.985


def test_blocks_keep_the_coverage_that_independent_resampling_loses():
    # daily PnL with positive autocorrelation (inventory carried over days):
    # resampling single days understates the variance of the total by
    # (1 + rho) / (1 - rho) = 3; blocks of 7 days recover most of it
    iid = _coverage(rho=0.5, block=1)
    blocks = _coverage(rho=0.5, block=default_block(365))
    assert iid < 0.80  # theory: P(|Z| < 1.96 / sqrt(3)) = 0.74
    assert blocks >= 0.86 and blocks > iid + 0.08


def test_the_sharpe_interval_covers_the_true_sharpe():
    rng = np.random.default_rng(2)
    mu, sd, hits, reps = 0.1, 1.0, 0, 300
    true = mu / sd * math.sqrt(365)
    for i in range(reps):
        lo, hi = intervals(rng.normal(mu, sd, 365), 0.95, 1000, i, 365)["sharpe"]
        hits += lo <= true <= hi
    assert 0.91 <= hits / reps <= 0.985


def test_too_few_days_or_a_flat_book_give_no_interval():
    assert intervals(np.array([1.0]), 0.95, 100, 0, 365)["total"] is None
    flat = intervals(np.zeros(30), 0.95, 100, 0, 365)
    assert flat["total"] == (0.0, 0.0) and flat["sharpe"] is None
    a = intervals(np.arange(30.0), 0.9, 200, 5, 365)
    assert a == intervals(np.arange(30.0), 0.9, 200, 5, 365)  # seeded


def _metrics(added, band):
    return {
        "period": {"start": "2024-01-01 00:00:00+00:00", "end": "2024-03-01"},
        "with_signal": {"days": 60, "stopped_at": "2024-02-10 03:00:00+00:00"},
        "signal_added": {"total_pnl": added},
        "intervals": {
            "days": {"backtest": 10, "signal_added": 61},
            "level": 0.95,
            "block_days": 4,
            "resamples": 2000,
            "signal_added": {"total_pnl": band},
        },
    }


@pytest.mark.parametrize(
    ("added", "band", "says"),
    [
        (120.0, (15.0, 230.0), "Yes: the whole interval is above 0"),
        (-80.0, (-150.0, -10.0), "No: it cost money"),
        (20.0, (-40.0, 75.0), "Not shown: the interval includes 0"),
        (20.0, None, "too few days for an interval"),
    ],
)
def test_the_report_answers_the_research_question_with_its_interval(added, band, says):
    line = research_answer(_metrics(added, band), synthetic=True)
    assert line.startswith("Does the learned signal make the market maker more money?")
    assert says in line and f"{added:+,.2f} USD" in line and "synthetic data" in line
    assert "(61 days" in line and "the risk stop ended trading on 2024-02-10" in line
    if band:
        assert f"{band[0]:+,.2f} … {band[1]:+,.2f} USD" in line
