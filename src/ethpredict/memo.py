"""Results remembered per live object, for the hot paths of a sweep.

A sweep quotes and backtests the same bars and predictions thousands of
times; values derived only from them (epoch times, day boundaries, the
volatility, aligned predictions) are computed once. An entry lives as long
as the objects it was computed from (weak references) and is recomputed when
their content signature changes (pandas indexes are immutable and need none;
frames can be changed in place, so callers pass a cheap signature). Arrays
come back read-only.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

_MEMO: dict[tuple, tuple[tuple[weakref.ref, ...], tuple, Any]] = {}


def signature(values: np.ndarray) -> tuple:
    """Length, ends and NaN-ignoring sum: a changed column shows in one."""
    if not len(values):
        return (0,)
    return (len(values), float(values[0]), float(values[-1]), float(np.nansum(values)))


def memo(objs: tuple, key: tuple, make, sig: tuple = ()) -> Any:
    """``make()`` remembered while every object in ``objs`` lives and ``sig``
    is unchanged."""
    full = (*map(id, objs), *key)
    hit = _MEMO.get(full)
    alive = hit is not None and all(r() is o for r, o in zip(hit[0], objs, strict=True))
    if alive and hit[1] == sig:
        return hit[2]
    out = make()
    for arr in out if isinstance(out, list) else [out]:
        arr.flags.writeable = False
    refs = tuple(weakref.ref(o, lambda _, k=full: _MEMO.pop(k, None)) for o in objs)
    _MEMO[full] = (refs, sig, out)
    return out
