"""Which bars observe the market, and the causal volatility of the observed
closes (the barriers' scale in labeling, the signal's in market making).

Gap-filled (``is_filled``) and stale (``is_stale``) bars are no observation;
a change over them, or over a hole in the index, is no one-bar change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethpredict.timeaxis import on_grid


def unobserved(bars: pd.DataFrame) -> np.ndarray:
    """Bars that are no observation of the market.

    Args:
        bars: The bars (optional flag columns ``is_filled``, ``is_stale``).

    Returns:
        A bool array, one per bar: True where gap-filled (``is_filled``) or
        in a halt (``is_stale``); a flag column that is absent counts as
        False.
    """
    out = np.zeros(len(bars), dtype=bool)
    for col in ("is_filled", "is_stale"):
        if col in bars:
            out |= bars[col].to_numpy(dtype=bool)
    return out


def unobserved_change(bars: pd.DataFrame) -> np.ndarray:
    """Bars whose change from the previous bar is no one-bar observation.

    Args:
        bars: The bars (flags as :func:`unobserved`) on their open times.

    Returns:
        A bool array, one per bar: True where the bar or the one before is
        unobserved (:func:`unobserved`), or bars are missing in between (a
        hole in the index); always True for the first bar.
    """
    miss = unobserved(bars)
    out = miss | np.r_[True, miss[:-1]][: miss.size]
    pos = on_grid(bars.index)
    if pos is not None:
        out[1:] |= np.diff(pos) > 1
    return out


def causal_volatility(
    close: pd.Series, span: int, bars: pd.DataFrame | None = None
) -> pd.Series:
    """EWM standard deviation of 1-bar log returns (known at each bar's close).

    With ``bars`` (the frame ``close`` comes from), gap-filled and stale bars
    are missing: a return that is no one-bar observation
    (:func:`unobserved_change`) is skipped, and the volatility is NaN on the
    unobserved bars themselves.

    Args:
        close: Closes indexed by bar time.
        span: EWM span in bars (also the bars needed before the first value).
        bars: The frame of ``close``, for its ``is_filled``/``is_stale`` flags.

    Returns:
        The volatility as a log return per bar.
    """
    r = np.log(close).diff()
    if bars is None:
        return r.ewm(span=span, min_periods=span).std()
    vol = r.mask(unobserved_change(bars)).ewm(span=span, min_periods=span).std()
    return vol.mask(unobserved(bars))
