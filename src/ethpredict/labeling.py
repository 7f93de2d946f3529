"""Events, triple-barrier labels, meta-labels and sample weights (pandas side).

Kernels live in :mod:`ethpredict.core.labeling`; these wrappers validate,
convert frames to arrays and back. Log returns throughout. The volatility
that scales the barriers is :func:`ethpredict.volatility.causal_volatility`
(importable from here too).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethpredict.core.labeling import (
    BOTH_NEAREST_TO_OPEN,
    BOTH_PROFIT_FIRST,
    BOTH_STOP_FIRST,
    TOUCH_VERTICAL,
    average_uniqueness_nb,
    cusum_events_nb,
    triple_barrier_nb,
)
from ethpredict.params import LabelsParams
from ethpredict.volatility import causal_volatility, unobserved

BOTH_RULES = {
    "nearest_to_open": BOTH_NEAREST_TO_OPEN,
    "stop_first": BOTH_STOP_FIRST,
    "profit_first": BOTH_PROFIT_FIRST,
}


def sample_events(bars: pd.DataFrame, p: LabelsParams) -> pd.DataFrame:
    """Event bars: every bar with a volatility estimate, or CUSUM-sampled.

    The CUSUM threshold at bar t is ``labels.cusum_threshold`` (a log return)
    or ``labels.cusum_vol_mult`` × the volatility known at bar t−1. No event
    starts on a gap-filled or stale bar (the volatility is NaN there, and
    the CUSUM test is skipped; the sums run on).

    Args:
        bars: The bars (``close``, the unobserved-bar flags).
        p: The ``labels`` parameters (``events``, ``vol_span`` in bars,
            ``cusum_threshold`` a log return, ``cusum_vol_mult``).

    Returns:
        Indexed by event time ``t0``: ``t0_idx`` (bar position) and ``vol``
        (the volatility at t0 that scales the barriers).
    """
    vol = causal_volatility(bars["close"], p.vol_span, bars).to_numpy()
    logc = np.log(bars["close"].to_numpy())
    if p.events == "all":
        idx = np.arange(len(bars))
    else:
        thr = (
            np.full(len(bars), p.cusum_threshold)
            if p.cusum_threshold is not None
            else p.cusum_vol_mult * np.r_[np.nan, vol[:-1]]
        )
        thr[unobserved(bars)] = np.nan
        out = np.empty(len(bars), dtype=np.int64)
        idx = out[: cusum_events_nb(logc, thr, out)]
    idx = idx[np.isfinite(vol[idx])]
    return pd.DataFrame(
        {"t0_idx": idx.astype(np.int64), "vol": vol[idx]},
        index=pd.DatetimeIndex(bars.index[idx], name="t0"),
    )


def triple_barrier(
    bars: pd.DataFrame,
    events: pd.DataFrame,
    p: LabelsParams,
    side: np.ndarray | None = None,
) -> pd.DataFrame:
    """Triple-barrier outcome of each event.

    Without ``side`` the upper barrier is ``pt × vol`` and the lower
    ``sl × vol``. With ``side`` (+1/−1 per event) the profit barrier, on the
    side's favourable direction, is ``pt × vol`` and the stop ``sl × vol``.

    Args:
        bars: The bars (``open``, ``high``, ``low``, ``close``; barriers are
            in log returns).
        events: :func:`sample_events`' frame (``t0_idx``, ``vol``).
        p: The ``labels`` parameters (``pt``, ``sl`` in multiples of
            ``vol``; ``horizon`` in bars; ``both_touch``, ``vertical_label``).
        side: +1 (long) / −1 (short) per event; None: all +1.

    Returns:
        ``events`` plus ``t1_idx`` (−1 if unresolved), ``t1``, ``touch``
        (1 upper, −1 lower, 0 vertical, −2 unresolved), ``ret`` (log return
        entry→exit) and ``label`` (+1 upper, −1 lower; vertical: 0, or the
        sign of ``ret`` when ``labels.vertical_label`` is ``sign``; NaN when
        unresolved).
    """
    logs = [np.log(bars[k].to_numpy()) for k in ("open", "high", "low", "close")]
    ev = events["t0_idx"].to_numpy()
    vol = events["vol"].to_numpy()
    s = np.ones(len(ev), dtype=np.int64) if side is None else np.asarray(side, np.int64)
    up = np.where(s >= 0, p.pt, p.sl) * vol
    down = np.where(s >= 0, p.sl, p.pt) * vol
    n = len(ev)
    t1 = np.empty(n, np.int64)
    touch = np.empty(n, np.int64)
    ret = np.empty(n)
    triple_barrier_nb(
        *logs, ev, up, down, s, p.horizon, BOTH_RULES[p.both_touch], t1, touch, ret
    )
    label = touch.astype(np.float64)
    vertical = touch == TOUCH_VERTICAL
    if p.vertical_label == "sign":
        label[vertical] = np.sign(ret[vertical])
    label[touch < -1] = np.nan
    out = events.copy()
    out["t1_idx"] = t1
    out["t1"] = pd.Series(bars.index[np.maximum(t1, 0)], index=events.index).where(
        t1 >= 0
    )
    out["touch"] = touch.astype(np.int8)
    out["ret"] = ret
    out["label"] = label
    return out


def average_uniqueness(labels: pd.DataFrame, n_bars: int, horizon: int) -> np.ndarray:
    """Average uniqueness; an unresolved label spans to the end of its window
    or of the data, so that weights before any date do not depend on data
    after it.

    Args:
        labels: The labels (``t0_idx``, ``t1_idx`` bar positions; −1:
            unresolved).
        n_bars: The number of bars.
        horizon: ``labels.horizon`` in bars.

    Returns:
        One uniqueness per label (float).
    """
    t0 = labels["t0_idx"].to_numpy()
    t1 = labels["t1_idx"].to_numpy()
    t1 = np.where(t1 >= 0, t1, np.minimum(t0 + horizon, n_bars - 1))
    return average_uniqueness_nb(t0, t1, n_bars)


def time_decay(uniqueness: np.ndarray, c: float) -> np.ndarray:
    """AFML 4.5.4 decay on cumulative uniqueness: the newest label weighs 1,
    the oldest ``c`` (``c`` < 0: the oldest ``|c|`` share gets 0). Apply it to
    one training set at a time: anchored at the newest label it uses."""
    if c == 1.0 or len(uniqueness) == 0:
        return np.ones(len(uniqueness))
    cum = np.cumsum(uniqueness)
    slope = (1.0 - c) / cum[-1] if c >= 0 else 1.0 / ((c + 1.0) * cum[-1])
    return np.maximum(0.0, 1.0 - slope * cum[-1] + slope * cum)


def meta_labels(outcome: pd.DataFrame, side: np.ndarray) -> np.ndarray:
    """Meta-labels of a side.

    Args:
        outcome: A sided :func:`triple_barrier`'s frame (``ret``, the log
            return entry→exit).
        side: +1 (long) / −1 (short) per event.

    Returns:
        Per event 1.0 when trading ``side`` from entry to the first touch
        made money (side × ret > 0), else 0.0; NaN for unresolved events.
    """
    pnl = np.asarray(side) * outcome["ret"].to_numpy()
    return np.where(np.isnan(pnl), np.nan, (pnl > 0).astype(np.float64))
