"""Walk-forward folds tile the data; purging and embargo drop exactly what they should."""

from __future__ import annotations

import numpy as np
import pytest

from ethpredict.errors import ParameterError
from ethpredict.modeling.folds import Fold, purge, train_validation, walk_forward
from ethpredict.params import CVParams


@pytest.mark.parametrize("scheme", ["expanding", "rolling"])
def test_every_bar_after_the_first_window_is_tested_once(scheme):
    cv = CVParams(scheme=scheme, train_bars=100, test_bars=30)
    folds = walk_forward(251, cv)
    tested = np.concatenate([np.arange(f.test_start, f.test_end) for f in folds])
    assert list(tested) == list(range(100, 251))
    assert [f.train_start for f in folds] == (
        [0] * 6 if scheme == "expanding" else [0, 30, 60, 90, 120, 150]
    )


def test_no_test_window_is_a_parameter_error():
    with pytest.raises(ParameterError, match="model.cv.train_bars = 100"):
        walk_forward(100, CVParams(train_bars=100))


def test_purging_removes_exactly_the_overlapping_events():
    # test window starts at bar 50. Events (t0, t1):
    t0 = np.array([10, 20, 30, 40, 45, 48, 55])
    t1 = np.array([15, 49, 50, 60, -1, 49, 58])
    # 20->49 ends before 50: kept; 30->50 touches the test window: purged;
    # 40->60 overlaps: purged; 45 unresolved: purged; 55 is a test event
    assert list(purge(t0, t1, 0, 50, 0)) == [0, 1, 5]
    # an embargo of 5 bars also drops the event starting at 48, and 20->49,
    # which starts before the embargo but ends inside it
    assert list(purge(t0, t1, 0, 50, 5)) == [0]
    # a rolling window starting at bar 15 drops the event at 10
    assert list(purge(t0, t1, 15, 50, 0)) == [1, 5]


def test_validation_slice_is_purged_against_its_own_start():
    t0 = np.arange(0, 100, 2)
    t1 = t0 + 5
    proper, val = train_validation(
        t0,
        t1,
        Fold(0, 100, 120, 0),
        CVParams(train_bars=100, test_bars=20, embargo_bars=0, val_frac=0.2),
    )
    assert t0[val].min() > t1[proper].max()  # no training label reaches validation
    assert t1[val].max() < 100
    assert len(val) == 10  # 20 % of the 48 events with t1 < 100 (t0 = 0 … 94)


def test_embargo_purges_labels_that_end_inside_it():
    # test window at bar 100, embargo 10: the embargo is bars 90 ... 99
    t0 = np.array([50, 60, 70, 80, 85])
    t1 = np.array([89, 90, 99, 85, 95])
    # 50->89 ends just before the embargo: kept; 60->90 and 70->99 end inside it;
    # 80->85 lies before it; 85->95 ends inside it
    assert list(purge(t0, t1, 0, 100, 10)) == [0, 3]
    assert list(purge(t0, t1, 0, 100, 0)) == [0, 1, 2, 3, 4]


def stress_cv(**kw) -> CVParams:
    return CVParams(train_bars=600, test_bars=100, **kw)


TIMES = np.arange("2024-08-01T00:00", "2024-08-01T16:40", dtype="datetime64[m]").astype(
    "datetime64[ns]"
)  # 1000 one-minute bars


def test_stress_periods_fall_out_of_sample():
    crash = {"name": "crash", "start": "2024-08-01T05:00", "end": "2024-08-01T06:00"}
    late = {"name": "late", "start": "2024-08-01T15:00", "end": "2024-08-01T16:00"}
    folds = walk_forward(1000, stress_cv(stress_periods=[crash, late]), TIMES)
    assert folds[0].test_start == 300  # bar of 05:00, before train_bars = 600
    tested = np.concatenate([np.arange(f.test_start, f.test_end) for f in folds])
    assert list(tested) == list(range(300, 1000))
    rolling = walk_forward(
        1000, stress_cv(scheme="rolling", stress_periods=[crash]), TIMES
    )
    assert [f.train_start for f in rolling[:5]] == [0, 0, 0, 0, 100]
    # a period after train_bars changes nothing
    assert walk_forward(1000, stress_cv(stress_periods=[late]), TIMES) == walk_forward(
        1000, stress_cv()
    )


@pytest.mark.parametrize(
    ("period", "words"),
    [
        ({"start": "2024-07-01", "end": "2024-07-02"}, "'p' .* is not in the data"),
        ({"start": "2024-08-01T00:05", "end": "2024-08-01T01:00"}, "starts at bar 5"),
    ],
)
def test_stress_periods_that_cannot_be_tested_are_named(period, words):
    cv = stress_cv(stress_periods=[{"name": "p", **period}])
    with pytest.raises(ParameterError, match=words):
        walk_forward(1000, cv, TIMES)
