"""ethpredict.memo: an entry is recomputed when its frame changes anywhere."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethpredict.memo import memo, signature


def test_signature_sees_an_interior_change_that_keeps_ends_and_sum():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([1.0, 3.0, 2.0, 4.0])  # same length, ends, sum
    assert signature(a) != signature(b)
    assert signature(a) == signature(a.copy())
    frame = pd.DataFrame({"close": a}, index=pd.date_range("2024", periods=4))
    changed = frame.copy()
    changed.iloc[1:3, 0] = [3.0, 2.0]
    assert signature(frame) != signature(changed)


def test_memo_recomputes_after_an_in_place_change():
    frame = pd.DataFrame({"close": [1.0, 2.0, 3.0, 4.0]})
    calls = []

    def make():
        calls.append(1)
        return frame["close"].to_numpy().cumsum()

    def get():
        return memo((frame,), ("t",), make, signature(frame["close"].to_numpy()))

    first = get()
    assert get() is first and len(calls) == 1
    frame.loc[1:2, "close"] = [3.0, 2.0]  # interior swap: same ends and sum
    assert get()[1] == 4.0 and len(calls) == 2
    assert not first.flags.writeable
