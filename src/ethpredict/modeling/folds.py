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

The validation slice for early stopping is the last ``val_frac`` of the
training events, with the same purge and embargo against its start.
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


def walk_forward(n_bars: int, cv: CVParams) -> list[Fold]:
    """Test windows tiling ``[train_bars, n_bars)``."""
    if n_bars <= cv.train_bars:
        raise ParameterError(
            f"model.cv.train_bars = {cv.train_bars} leaves no bars to test: the data has "
            f"{n_bars} bars; lower it (and model.cv.test_bars) or use more data"
        )
    folds = []
    for k, a in enumerate(range(cv.train_bars, n_bars, cv.test_bars)):
        start = a - cv.train_bars if cv.scheme == "rolling" else 0
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
    """
    cut = boundary - embargo
    keep = (t0 >= start) & (t0 < cut) & (t1 >= 0) & (t1 < cut)
    return np.flatnonzero(keep)


def train_validation(
    t0: np.ndarray, t1: np.ndarray, fold: Fold, cv: CVParams
) -> tuple[np.ndarray, np.ndarray]:
    """Training-proper and validation event positions of ``fold``."""
    train = purge(t0, t1, fold.train_start, fold.test_start, cv.embargo_bars)
    if train.size < 10:
        return train, np.empty(0, np.int64)
    n_val = max(1, round(train.size * cv.val_frac))
    val = train[-n_val:]
    val_start = int(t0[val[0]])
    proper = train[
        purge(t0[train], t1[train], fold.train_start, val_start, cv.embargo_bars)
    ]
    return proper, val
