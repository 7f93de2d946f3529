"""Purged, embargoed walk-forward folds over bars.

Test windows tile the bars after the first training window: fold k tests
bars ``[a_k, b_k)`` with ``a_0 = train_bars`` and ``b_k = a_{k+1}``, so every
bar from ``train_bars`` on is tested exactly once. A fold's training events
are those that *start* before ``a_k`` (rolling: and at or after
``a_k − train_bars``), then:

* **purging** drops every training event whose label window ``[t0, t1]``
  reaches the test window (``t1 ≥ a_k``), unresolved events included — their
  outcome is only known after ``a_k``;
* **embargo** drops training events that start *or end* in the
  ``embargo_bars`` bars before ``a_k`` (``t1 ≥ a_k − embargo_bars``).
  (López de Prado embargoes the bars *after* a test window,
  because in k-fold CV training data follows it; in walk-forward nothing
  follows the test window, and the leak the embargo guards against — features
  and labels that overlap serially — sits just before it.)

Tail hold-outs — the calibration slice (last ``calibration.holdout_frac`` of
the training events) and, within the rest, the validation slice for early
stopping (last ``val_frac``) — are purged and embargoed against their own
start in the same way.

With ``stress_periods``, the first test window starts no later than the
earliest period's first bar (``a_0 = min(train_bars, that bar)``), so every
named stress period is tested out of sample.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ethpredict.errors import ParameterError
from ethpredict.params import CVParams


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold; bar positions, half-open ``[start, end)``."""

    k: int
    test_start: int
    test_end: int
    train_start: int

    def as_dict(self) -> dict:
        return asdict(self)


def first_test_bar(cv: CVParams, times: np.ndarray | None) -> int:
    """``train_bars``, or earlier so that every stress period is tested.

    Args:
        cv: The ``model.cv`` parameters (``train_bars``, ``stress_periods``).
        times: Bar open times (``datetime64[ns]``, UTC), needed with
            ``stress_periods``.

    Returns:
        The first test bar (a position).

    Raises:
        ValueError: ``stress_periods`` without ``times``.
        ParameterError: A stress period is not in the data, or starts fewer
            than ``MIN_TRAIN_BARS`` bars into it.
    """
    if not cv.stress_periods:
        return cv.train_bars
    if times is None:
        raise ValueError("model.cv.stress_periods needs the bar times")
    times = np.asarray(times, "datetime64[ns]")
    first = cv.train_bars
    for p in cv.stress_periods:
        start = np.datetime64(p.start.replace(tzinfo=None), "ns")
        end = np.datetime64(p.end.replace(tzinfo=None), "ns")
        if end <= times[0] or start > times[-1]:
            raise ParameterError(
                f"model.cv.stress_periods: {p.name!r} ({p.start} → {p.end}) is not in "
                f"the data ({times[0]} → {times[-1]})"
            )
        a = int(np.searchsorted(times, start, side="left"))
        if a < MIN_TRAIN_BARS:
            raise ParameterError(
                f"model.cv.stress_periods: {p.name!r} starts at bar {a}, leaving fewer "
                f"than {MIN_TRAIN_BARS} bars to train on before it; drop it or use data "
                "that starts earlier"
            )
        first = min(first, a)
    return first


#: Fewest bars before a stress period that a first training window may have.
MIN_TRAIN_BARS = 10


def walk_forward(
    n_bars: int, cv: CVParams, times: np.ndarray | None = None
) -> list[Fold]:
    """Test windows tiling ``[a_0, n_bars)``, ``a_0`` from :func:`first_test_bar`.

    Args:
        n_bars: The number of bars.
        cv: The ``model.cv`` parameters (``train_bars``, ``test_bars`` in
            bars; ``scheme`` ``rolling`` or ``expanding``).
        times: Bar open times (``datetime64[ns]``, UTC), needed with
            ``stress_periods``.

    Returns:
        The folds in time order (bar positions, half-open windows).

    Raises:
        ParameterError: ``train_bars`` leaves no bars to test, or a stress
            period does not fit (:func:`first_test_bar`).
        ValueError: ``stress_periods`` without ``times``.
    """
    if n_bars <= cv.train_bars and not cv.stress_periods:
        raise ParameterError(
            f"model.cv.train_bars = {cv.train_bars} leaves no bars to test: the data has "
            f"{n_bars} bars; lower it (and model.cv.test_bars) or use more data"
        )
    folds = []
    for k, a in enumerate(range(first_test_bar(cv, times), n_bars, cv.test_bars)):
        start = max(0, a - cv.train_bars) if cv.scheme == "rolling" else 0
        folds.append(Fold(k, a, min(a + cv.test_bars, n_bars), start))
    return folds


def purge(
    t0: np.ndarray, t1: np.ndarray, start: int, boundary: int, embargo: int
) -> np.ndarray:
    """Positions of events usable for training before ``boundary``.

    Args:
        t0: Event start bars (sorted).
        t1: Event end bars; −1 for unresolved.
        start: First bar a training event may start at.
        boundary: First bar of the window being predicted.
        embargo: Bars before ``boundary`` where no training event may start
            or end.

    Returns:
        int64 positions into ``t0``/``t1`` of the events kept (resolved and
        within ``[start, boundary − embargo)``).
    """
    cut = boundary - embargo
    keep = (t0 >= start) & (t0 < cut) & (t1 >= 0) & (t1 < cut)
    return np.flatnonzero(keep)


def tail_holdout(
    t0: np.ndarray,
    t1: np.ndarray,
    events: np.ndarray,
    frac: float,
    start: int,
    embargo: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Split training ``events`` (positions, in time order) into a head and
    the last ``frac`` of them; the head is purged and embargoed against the
    tail's first start. Fewer than 10 events: all head, no tail.

    Args:
        t0: Event start bars, per event.
        t1: Event end bars; −1 for unresolved.
        events: Positions into ``t0``/``t1`` of the training events.
        frac: The tail's share of ``events`` (a fraction).
        start: First bar a training event may start at.
        embargo: Embargo in bars before the tail's first start.

    Returns:
        ``(head, tail)``: positions into ``t0``/``t1``.
    """
    if events.size < 10:
        return events, np.empty(0, np.int64)
    tail = events[-max(1, round(events.size * frac)) :]
    head = events[purge(t0[events], t1[events], start, int(t0[tail[0]]), embargo)]
    return head, tail


def train_validation(
    t0: np.ndarray,
    t1: np.ndarray,
    fold: Fold,
    cv: CVParams,
    events: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Training-proper and validation event positions of ``fold``.

    Args:
        t0: Event start bars, per event.
        t1: Event end bars; −1 for unresolved.
        fold: The fold.
        cv: The ``model.cv`` parameters (``val_frac``, ``embargo_bars``).
        events: Positions of the candidate training events (None: all the
            fold's purged and embargoed training events).

    Returns:
        ``(proper, validation)``: positions into ``t0``/``t1``.
    """
    if events is None:
        events = purge(t0, t1, fold.train_start, fold.test_start, cv.embargo_bars)
    return tail_holdout(t0, t1, events, cv.val_frac, fold.train_start, cv.embargo_bars)


def split_fold(
    t0: np.ndarray, t1: np.ndarray, fold: Fold, cv: CVParams, holdout_frac: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training-proper, validation and calibration event positions of
    ``fold``: the calibration hold-out is the last ``holdout_frac`` of the
    purged, embargoed training events (none when 0), the validation slice
    the last ``val_frac`` of the rest, each purged against its start.

    Args:
        t0: Event start bars, per event.
        t1: Event end bars; −1 for unresolved.
        fold: The fold.
        cv: The ``model.cv`` parameters.
        holdout_frac: The calibration hold-out's share (a fraction; 0: none).

    Returns:
        ``(proper, validation, calibration)``: positions into ``t0``/``t1``.
    """
    events = purge(t0, t1, fold.train_start, fold.test_start, cv.embargo_bars)
    head, cal = events, np.empty(0, np.int64)
    if holdout_frac > 0:
        head, cal = tail_holdout(
            t0, t1, events, holdout_frac, fold.train_start, cv.embargo_bars
        )
    proper, val = train_validation(t0, t1, fold, cv, head)
    return proper, val, cal
