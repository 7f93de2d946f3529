"""Strictly causal features from bars: a value at bar t uses bars ≤ t only.

Every rolling statistic uses pandas' trailing windows (``min_periods`` = the
window, so warm-up rows are NaN rather than estimated from fewer bars) or
``adjust=False`` exponential averages; nothing is normalised with statistics
of the whole sample. Returns are log returns; volatilities are per bar (not
annualised); windows are in bars.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethpredict.core.features import fracdiff_ffd
from ethpredict.params import FeaturesParams

LN2 = np.log(2.0)


def _zscore(x: pd.Series, window: int) -> pd.Series:
    roll = x.rolling(window, min_periods=window)
    return (x - roll.mean()) / roll.std()


def _has(bars: pd.DataFrame, col: str) -> bool:
    """A column is usable when present on every bar."""
    return col in bars and bool(bars[col].notna().all())


def base_features(bars: pd.DataFrame, p: FeaturesParams) -> pd.DataFrame:
    """Returns, realised volatilities, range, activity z-scores, RSI, EMA
    spreads and calendar encodings."""
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


def advanced_features(bars: pd.DataFrame, p: FeaturesParams) -> pd.DataFrame:
    """Fractionally differentiated log price, Roll spread, Amihud illiquidity,
    taker-flow imbalance (when every bar has taker volume), rolling skew and
    excess kurtosis of 1-bar log returns."""
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
        sv = bars["volume"].rolling(w, min_periods=w).sum()
        sb = bars["taker_buy_volume"].rolling(w, min_periods=w).sum()
        f[f"taker_imbalance_{w}"] = (2 * sb - sv) / sv.where(sv > 0)
    f[f"ret_skew_{w}"] = r1.rolling(w, min_periods=w).skew()
    f[f"ret_kurt_{w}"] = r1.rolling(w, min_periods=w).kurt()
    return pd.DataFrame(f, index=idx).astype("float64")
