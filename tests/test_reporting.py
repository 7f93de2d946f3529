"""The run report: extremes survive decimation; offline; stable metric keys."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from ethpredict.reporting import decimate, flat_metrics, reference_line


def test_short_series_are_kept_whole():
    idx = pd.RangeIndex(10)
    _, y = decimate(idx, np.arange(10.0), buckets=5)
    assert list(y) == list(range(10))


@pytest.mark.parametrize("seed", range(5))
def test_decimation_keeps_every_buckets_min_and_max(seed):
    rng = np.random.default_rng(seed)
    y = rng.standard_t(2, 100_003).cumsum()
    y[rng.integers(0, y.size)] += 1e4  # a one-bar spike
    idx = pd.RangeIndex(y.size)
    x, d = decimate(idx, y, buckets=300)
    assert d.size <= 600
    assert d.max() == y.max() and d.min() == y.min()
    assert np.all(np.diff(x) > 0)  # still in time order
    edges = np.linspace(0, y.size, 301).astype(int)
    for a, b in pairwise(edges):
        inside = d[(x >= a) & (x < b)]
        assert inside.max() == y[a:b].max() and inside.min() == y[a:b].min()


def test_decimation_ignores_nan_but_keeps_gaps():
    y = np.r_[np.full(500, np.nan), np.arange(500.0)]
    _, d = decimate(pd.RangeIndex(1000), y, buckets=10)
    assert np.isnan(d[0]) and np.nanmax(d) == 499


def test_flat_metric_keys():
    manifest = {
        "bars": 10,
        "filled_bars": 0,
        "gaps": 0,
        "trades": 0,
        "interval_s": 60,
        "synthetic": True,
    }
    models = {
        "models": {"gbt": {"overall": {"n": 5, "log_loss": 0.9, "roc_auc": None}}},
        "meta": {"n": 0},
    }
    bt = {
        "with_signal": {"total_pnl": 1.0, "inventory_hist": [1, 2]},
        "without_signal": {"total_pnl": 0.5},
        "signal_added": {"total_pnl": 0.5},
    }
    m = flat_metrics(manifest, models, bt)
    assert m["data.synthetic"] is True and m["signal.gbt.log_loss"] == 0.9
    assert m["signal.gbt.roc_auc"] is None and m["signal.meta.n"] == 0
    assert m["backtest.total_pnl"] == 1.0 and m["baseline.total_pnl"] == 0.5
    assert m["signal_added.total_pnl"] == 0.5
    assert "backtest.inventory_hist" not in m  # lists are not scalar metrics


def test_the_reference_line_says_how_stale_the_reference_is():
    ref = {
        "name": "r.csv.gz",
        "source": "binance_klines",
        "interval": "1m",
        "coverage": 0.9871,
        "stale_bars": 1234,
        "age_s": {"median": 24.0, "p95": 48.0, "max": 59.0},
        "stale_ranges": [["2024-01-01T00:46:00+00:00", "2024-01-01T00:51:00+00:00"]],
    }
    line = reference_line(ref)
    assert line.startswith("r.csv.gz (binance_klines, 1m candles): 98.7 % of bars")
    assert "age at the bars median 24 s, 95 % 48 s" in line
    assert "1,234 stale bars" in line and "2024-01-01T00:46:00+00:00 →" in line
    # a trade capture: no interval; a fresh reference: nothing stale listed
    trades = {
        **ref,
        "source": "binance_trades",
        "interval": None,
        "stale_bars": 0,
        "stale_ranges": [],
        "age_s": {"median": 0.4, "p95": 2.5, "max": 9},
    }
    line = reference_line(trades)
    assert line.startswith("r.csv.gz (binance_trades): ") and "→" not in line
    assert "median 0.4 s, 95 % 2.5 s; 0 stale bars" in line


def test_the_report_shows_calibration_before_and_after():
    from ethpredict.reporting import calibration_html, signal_figures
    from ethpredict.testing.project import model_metrics

    mm = model_metrics()
    page = calibration_html(mm)
    assert "before calibration" in page and "after calibration" in page
    assert "before: observed" in page and "after: observed" in page  # reliability bins
    assert "Bet size: primary" in page
    _, cal = signal_figures(mm)
    assert [t.name for t in cal.data].count("primary before calibration") == 1
    m = flat_metrics({}, mm, {})
    assert m["signal.bet_source"] == "primary"
    assert m["signal.primary.log_loss_uncalibrated"] > m["signal.primary.log_loss"]


def test_the_risk_table_takes_a_stop_in_one_book_only():
    """The risk stop ended the book without the signal, not the other: the
    text row has no difference and the numbers still do (a sweep's best trial
    met this)."""
    from ethpredict.reporting.tables import risk_table

    bt = {
        "with_signal": {"total_pnl": 5.0, "stopped_at": None, "sharpe": 1.5},
        "without_signal": {
            "total_pnl": -2.0,
            "stopped_at": "2024-05-15 01:34:00+00:00",
            "sharpe": -0.5,
        },
    }
    t = risk_table(bt)
    assert t.loc["total_pnl", "signal added"] == 7.0
    assert t.loc["sharpe", "signal added"] == 2.0
    assert np.isnan(t.loc["stopped_at", "signal added"])
    assert t.loc["stopped_at", "without signal"] == "2024-05-15 01:34:00+00:00"


def test_plot_times_are_naive_utc_datetime64_for_plotly():
    from ethpredict.reporting.figures import plot_times

    idx = pd.date_range("2024-03-01 12:00", periods=3, freq="min", tz="Europe/Berlin")
    x = plot_times(idx)
    assert x.dtype.kind == "M"  # datetime64, no objects
    assert x[0] == np.datetime64("2024-03-01T11:00")  # the UTC wall time
    assert list(plot_times(pd.RangeIndex(3))) == [0, 1, 2]
