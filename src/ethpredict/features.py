"""Strictly causal features from bars: a value at bar t uses bars ≤ t only.

Every rolling statistic uses pandas' trailing windows (``min_periods`` = the
window, so warm-up rows are NaN rather than estimated from fewer bars) or
``adjust=False`` exponential averages; nothing is normalised with statistics
of the whole sample. Returns are log returns; volatilities are per bar (not
annualised); windows are in bars.

Gap-filled and stale bars (``is_filled``, ``is_stale``) are missing, not
calm: every feature is NaN on them, and a return or window that reaches over
one is NaN too — as it is over a hole where bars were dropped (features are
computed on the regular grid of bars, so ``data.on_stale: drop`` gives the
same values as ``flag`` on the bars that are kept).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ethpredict.core.features import fracdiff_ffd
from ethpredict.errors import ParameterError
from ethpredict.params import FeaturesParams
from ethpredict.timeaxis import epoch_ns, on_grid
from ethpredict.volatility import unobserved

LN2 = np.log(2.0)


def _zscore(x: pd.Series, window: int) -> pd.Series:
    roll = x.rolling(window, min_periods=window)
    return (x - roll.mean()) / roll.std()


def _has(bars: pd.DataFrame, col: str) -> bool:
    """A column is usable when present on every observed bar."""
    return col in bars and bool((bars[col].notna() | bars["close"].isna()).all())


def _observed_only(build):
    """Run ``build`` on the bars' regular grid with every unobserved or
    dropped bar NaN; return its rows of the bars, NaN on unobserved ones."""

    @functools.wraps(build)
    def wrapped(bars: pd.DataFrame, p: FeaturesParams) -> pd.DataFrame:
        miss = unobserved(bars)
        grid = bars.drop(columns=["is_filled", "is_stale"], errors="ignore")
        if miss.any():
            grid = grid.copy()
            grid.loc[miss] = np.nan
        pos = on_grid(bars.index)
        if pos is not None:  # holes: NaN rows in them
            t = epoch_ns(bars.index)
            full = t[0] + np.arange(pos[-1] + 1) * ((t[-1] - t[0]) // pos[-1])
            arr = np.full((full.size, grid.shape[1]), np.nan)
            arr[pos] = grid.to_numpy(np.float64)
            idx = pd.DatetimeIndex(pd.to_datetime(full, unit="ns", utc=True))
            grid = pd.DataFrame(
                arr, index=idx.rename(bars.index.name), columns=grid.columns
            )
        out = build(grid, p)
        if pos is not None:
            out = out.iloc[pos].set_axis(bars.index)
        if miss.any():
            out.loc[miss] = np.nan
        return out

    return wrapped


@_observed_only
def base_features(bars: pd.DataFrame, p: FeaturesParams) -> pd.DataFrame:
    """Returns, realised volatilities, range, activity z-scores, RSI, EMA
    spreads and calendar encodings.

    Args:
        bars: The bars (``open``, ``high``, ``low``, ``close``, ``volume``,
            optional ``trades``, the unobserved-bar flags) on their open times.
        p: The ``features`` parameters (``return_horizons``, ``vol_window``,
            ``zscore_window``, ``rsi_window``, ``ema_pairs``; all in bars).

    Returns:
        float64 features on ``bars.index``: ``ret_<k>`` (log return over k
        bars), ``rv_cc_<w>``, ``rv_parkinson_<w>``, ``rv_gk_<w>`` (per-bar
        log volatilities), ``range`` (ln high − ln low), ``volume_z`` and
        ``trades_z`` (z-scores of log1p), ``rsi_<n>`` (0–100),
        ``ema_spread_<fast>_<slow>`` (log ratio of the EMAs of the close),
        ``tod_sin`` / ``tod_cos`` (the index's time of day) and ``dow_sin`` /
        ``dow_cos`` (day of week). NaN on unobserved bars and in warm-up.
    """
    o, h, lo, c = (np.log(bars[k]) for k in ("open", "high", "low", "close"))
    r1 = c.diff()
    hl = h - lo
    f: dict[str, pd.Series] = {}
    for k in p.return_horizons:
        f[f"ret_{k}"] = c.diff(k)
    w = p.vol_window
    f[f"rv_cc_{w}"] = r1.rolling(w, min_periods=w).std()
    f[f"rv_parkinson_{w}"] = np.sqrt(
        (hl**2).rolling(w, min_periods=w).mean() / (4 * LN2)
    )
    gk = 0.5 * hl**2 - (2 * LN2 - 1) * (c - o) ** 2
    f[f"rv_gk_{w}"] = np.sqrt(gk.rolling(w, min_periods=w).mean().clip(lower=0))
    f["range"] = hl
    f["volume_z"] = _zscore(np.log1p(bars["volume"]), p.zscore_window)
    if _has(bars, "trades"):
        f["trades_z"] = _zscore(np.log1p(bars["trades"]), p.zscore_window)
    n = p.rsi_window
    gain = r1.clip(lower=0).ewm(alpha=1 / n, adjust=False, min_periods=n).mean()
    loss = (-r1).clip(lower=0).ewm(alpha=1 / n, adjust=False, min_periods=n).mean()
    f[f"rsi_{n}"] = 100 * gain / (gain + loss)
    close = bars["close"]
    for fast, slow in p.ema_pairs:
        ef = close.ewm(span=fast, adjust=False, min_periods=fast).mean()
        es = close.ewm(span=slow, adjust=False, min_periods=slow).mean()
        f[f"ema_spread_{fast}_{slow}"] = np.log(ef / es)
    idx = bars.index
    day_frac = (idx.hour * 3600 + idx.minute * 60 + idx.second) / 86400.0
    week_frac = (idx.day_of_week + day_frac) / 7.0
    f["tod_sin"] = pd.Series(np.sin(2 * np.pi * day_frac), index=idx)
    f["tod_cos"] = pd.Series(np.cos(2 * np.pi * day_frac), index=idx)
    f["dow_sin"] = pd.Series(np.sin(2 * np.pi * week_frac), index=idx)
    f["dow_cos"] = pd.Series(np.cos(2 * np.pi * week_frac), index=idx)
    return pd.DataFrame(f, index=idx).astype("float64")


@_observed_only
def advanced_features(bars: pd.DataFrame, p: FeaturesParams) -> pd.DataFrame:
    """Fractionally differentiated log price, Roll spread, Amihud illiquidity,
    taker-flow imbalance (when every bar has taker volume: volume-weighted over
    ``micro_window`` and the mean per-bar imbalance over each of
    ``flow_windows``), rolling skew and excess kurtosis of 1-bar log
    returns.

    Args:
        bars: The bars (``close``, ``volume``; optional ``quote_volume`` and
            ``taker_buy_volume``; the unobserved-bar flags).
        p: The ``features`` parameters (``fracdiff_d``, ``fracdiff_window``,
            ``micro_window`` and ``flow_windows`` in bars).

    Returns:
        float64 features on ``bars.index``: ``fracdiff_<d>`` (of the log
        close), ``roll_spread_<w>`` (a fraction of the close),
        ``amihud_<w>`` (|1-bar log return| per quote-currency volume × 10⁶;
        the quote volume is ``quote_volume`` or close × volume),
        ``taker_imbalance_<w>`` and ``flow_imbalance_<k>`` ((2·taker buy −
        volume)/volume, in [−1, 1]), ``ret_skew_<w>``, ``ret_kurt_<w>``.
        NaN on unobserved bars and in warm-up.
    """
    idx, w = bars.index, p.micro_window
    logc = np.log(bars["close"])
    r1 = logc.diff()
    f: dict[str, pd.Series] = {}
    f[f"fracdiff_{p.fracdiff_d:g}"] = pd.Series(
        fracdiff_ffd(logc.to_numpy(), p.fracdiff_d, p.fracdiff_window), index=idx
    )
    dp = bars["close"].diff()
    cov = dp.rolling(w, min_periods=w).cov(dp.shift(1))
    f[f"roll_spread_{w}"] = 2 * np.sqrt((-cov).clip(lower=0)) / bars["close"]
    dollar = (
        bars["quote_volume"]
        if _has(bars, "quote_volume")
        else bars["close"] * bars["volume"]
    )
    illiq = (r1.abs() / dollar.where(dollar > 0)) * 1e6
    f[f"amihud_{w}"] = illiq.rolling(w, min_periods=max(2, w // 2)).mean()
    if _has(bars, "taker_buy_volume"):
        vol, buy = bars["volume"], bars["taker_buy_volume"]
        sv = vol.rolling(w, min_periods=w).sum()
        sb = buy.rolling(w, min_periods=w).sum()
        f[f"taker_imbalance_{w}"] = (2 * sb - sv) / sv.where(sv > 0)
        # each bar's imbalance weighs the same: a quiet bar's flow counts as
        # much as a busy one's (busy bars are the big moves, whose taker
        # side mostly follows the move)
        per_bar = (2 * buy - vol) / vol.where(vol > 0)
        for k in p.flow_windows:
            f[f"flow_imbalance_{k}"] = per_bar.rolling(k, min_periods=k).mean()
    f[f"ret_skew_{w}"] = r1.rolling(w, min_periods=w).skew()
    f[f"ret_kurt_{w}"] = r1.rolling(w, min_periods=w).kurt()
    return pd.DataFrame(f, index=idx).astype("float64")


@_observed_only
def _reference_features(bars: pd.DataFrame, p: FeaturesParams) -> pd.DataFrame:
    idx, w = bars.index, p.micro_window
    logref = np.log(bars["reference_price"])
    f: dict[str, pd.Series] = {}
    for k in p.return_horizons:
        f[f"ref_ret_{k}"] = logref.diff(k)
    f["ref_basis_bp"] = 1e4 * (np.log(bars["open"]) - logref)
    if "reference_volume" in bars:
        sv = bars["reference_volume"].rolling(w, min_periods=w).sum()
        f[f"ref_volume_z_{w}"] = _zscore(np.log1p(sv), p.zscore_window)
        if "reference_buy_volume" in bars:
            sb = bars["reference_buy_volume"].rolling(w, min_periods=w).sum()
            f[f"ref_taker_imbalance_{w}"] = (2 * sb - sv) / sv.where(sv > 0)
    return pd.DataFrame(f, index=idx).astype("float64")


def reference_features(bars: pd.DataFrame, p: FeaturesParams) -> pd.DataFrame:
    """The exchange reference (``data.reference``) as features: its log
    returns ``ref_ret_<h>`` over ``return_horizons`` (from ``reference_price``,
    the last reference price known before each bar's open), the basis
    ``ref_basis_bp`` = 10⁴·ln(bar open / reference price) (the pool's price
    against the exchange's at the same instant; the exchange leads a pool),
    and, when the reference has volume, ``ref_volume_z_<w>`` (z-score over
    ``zscore_window`` of log1p of its volume over ``micro_window`` bars) and
    ``ref_taker_imbalance_<w>`` ((2·taker buy − volume)/volume over the
    window; when it has taker volume). NaN where the reference is (before its
    first price, stale).

    Args:
        bars: The bars with ``reference_price`` (and optional
            ``reference_volume``, ``reference_buy_volume``).
        p: The ``features`` parameters (``return_horizons``,
            ``micro_window``, ``zscore_window``; in bars).

    Returns:
        The float64 features above on ``bars.index`` (``ref_basis_bp`` in
        basis points).

    Raises:
        ParameterError: the bars have no reference.
    """
    if "reference_price" not in bars:
        raise ParameterError(
            "features.sets includes 'reference' but the bars have no reference "
            "price: set data.reference.path (an exchange's klines, OHLCV or trade "
            "captures) or drop 'reference' from features.sets"
        )
    return _reference_features(bars, p)
