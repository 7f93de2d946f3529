"""Calibration of the GLFT inputs and the quoting policy per bar.

Units everywhere: prices and depths in USDT, time in seconds, sizes in ETH.

* ``sigma`` — standard deviation of close-to-close changes divided by
  √(bar seconds): USDT per √second.
* ``A``, ``k`` — fill intensity ``λ(δ) = A·e^(−k·δ)`` per side, in fills per
  second and 1/USDT, for an order resting ``δ`` from the previous close.
  From trades (when the source has them: exchange trades, or a Uniswap pool's
  swaps at the pool price each left): for each trade its distance beyond
  the previous bar's close on its side; ``λ(δ)`` = trades reaching δ per
  second per side. Otherwise from bars (an approximation): a resting order at
  δ fills in a bar when the bar's high (low) reaches δ above (below) the
  previous close, so with Poisson arrivals ``P(excursion ≥ δ) = 1 −
  exp(−λ(δ)·Δt)`` and ``λ(δ) = −ln(1 − P)/Δt``. Either way ``ln λ`` is fitted
  linearly in δ over the excursion quantiles 50 %…95 %.

All three are rolling and causal: refitted every ``mm.calib_every`` bars on
the ``mm.calib_window`` bars up to and including that bar, then carried
forward. Fixed values by parameter replace the fit. Gap-filled and stale
bars, and a change over a hole in the index, are missing (NaN) in both the
close changes and the excursions, never zeros.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethpredict.core.glft import (
    DRIFT_ALPHA,
    DRIFT_GLFT,
    QUOTE_COLUMNS,
    QUOTE_ROWS,
    SIZING_BET_SIZE,
    SIZING_FIXED,
    SIZING_VOL_TARGET,
    quote_block_nb,
)
from ethpredict.params import LabelsParams, MMParams, RiskParams
from ethpredict.timeaxis import epoch_ns
from ethpredict.volatility import causal_volatility, unobserved, unobserved_change

SIZING = {
    "fixed": SIZING_FIXED,
    "vol_target": SIZING_VOL_TARGET,
    "bet_size": SIZING_BET_SIZE,
}
DRIFT = {"glft": DRIFT_GLFT, "alpha": DRIFT_ALPHA}
QUANTILES = np.linspace(0.5, 0.95, 10)


def fit_log_linear(depths: np.ndarray, lam: np.ndarray) -> tuple[float, float]:
    """Least-squares fit of ``ln λ = ln A − k·δ``.

    Args:
        depths: The depths δ (USDT from the previous close).
        lam: The intensity λ at each depth (fills per second per side);
            non-finite or non-positive values are left out.

    Returns:
        ``(A, k)`` in fills per second and 1/USDT; ``(NaN, NaN)`` when it
        cannot fit (fewer than 3 usable points, or all at one depth).
    """
    ok = np.isfinite(lam) & (lam > 0) & np.isfinite(depths)
    if ok.sum() < 3 or np.ptp(depths[ok]) <= 0:
        return np.nan, np.nan
    x, y = depths[ok], np.log(lam[ok])
    dx = x - x.mean()  # ordinary least squares in closed form (np.polyfit's fit)
    slope = float(np.dot(dx, y - y.mean()) / np.dot(dx, dx))
    intercept = float(y.mean() - slope * x.mean())
    return float(np.exp(intercept)), -slope


def sorted_quantiles(a: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(a, q)`` (its default linear rule, bit for bit) of an
    already sorted ``a``, without numpy's partition."""
    h = (a.size - 1) * q
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, a.size - 1)
    t = h - lo
    below, above = a[lo], a[hi]
    diff = above - below
    return np.where(t >= 0.5, above - diff * (1 - t), below + diff * t)


def _intensity_from_excursions(exc: np.ndarray, bar_s: float) -> tuple[float, float]:
    exc = np.sort(exc[np.isfinite(exc)])
    if exc.size < 20:
        return np.nan, np.nan
    depths = sorted_quantiles(exc, QUANTILES)
    surv = 1.0 - np.searchsorted(exc, depths, side="left") / exc.size
    lam = -np.log1p(-np.clip(surv, 0, 1 - 1e-12)) / bar_s
    return fit_log_linear(depths, lam)


def _intensity_from_trades(depth: np.ndarray, seconds: float) -> tuple[float, float]:
    depth = np.sort(depth[np.isfinite(depth) & (depth >= 0)])
    if depth.size < 20 or seconds <= 0:
        return np.nan, np.nan
    grid = sorted_quantiles(depth, QUANTILES)
    count = depth.size - np.searchsorted(depth, grid, side="left")
    return fit_log_linear(grid, count / (2.0 * seconds))  # per side


def calibrate(
    bars: pd.DataFrame, trades: pd.DataFrame, p: MMParams, bar_s: float
) -> pd.DataFrame:
    """Rolling causal ``sigma``, ``A``, ``k`` per bar (see the module docstring).

    Args:
        bars: The bars (``open``, ``high``, ``low``, ``close`` in USDT, the
            unobserved-bar flags) on their ``DatetimeIndex``.
        trades: Trades on a ``DatetimeIndex`` with ``price`` (USDT) and
            ``side`` (±1; a trade's depth is side × (price − the previous
            bar's close)); None or empty: fit from the bars' excursions.
        p: The ``mm`` parameters (``calib_window`` and ``calib_every`` in
            bars; ``sigma``, ``A``, ``k`` not None replace the fit).
        bar_s: The bar length in seconds.

    Returns:
        A frame on ``bars.index``: ``sigma`` (USDT per √second), ``A`` (fills
        per second per side), ``k`` (1/USDT), NaN before the first full
        window or where a fit fails, and ``source`` (``"trades"`` or
        ``"bars"``).
    """
    n = len(bars)
    close = bars["close"].to_numpy()
    prev = np.r_[bars["open"].to_numpy()[:1], close[:-1]]
    exc = np.concatenate(
        [[bars["high"].to_numpy() - prev], [prev - bars["low"].to_numpy()]]
    )
    dclose = np.diff(close, prepend=np.nan)
    missing = unobserved_change(bars)  # no one-bar observation: NaN, not calm
    missing[:1] = unobserved(bars)[:1]  # the first excursion is from the open
    if missing.any():
        exc[:, missing] = np.nan
        dclose[missing] = np.nan
    use_trades = trades is not None and len(trades) > 0
    if use_trades:
        # the bar each trade falls in
        bar_ns, trade_ns = epoch_ns(bars.index), epoch_ns(trades.index)
        after = np.searchsorted(bar_ns, trade_ns, side="right")
        tpos = np.clip(after - 1, 0, n - 1)
        tdepth = trades["side"].to_numpy() * (trades["price"].to_numpy() - prev[tpos])
        # a trade after the last bar's close (a capture's partial last bar,
        # which bar assembly drops) falls in no bar, not in the last one
        tdepth[trade_ns >= bar_ns[-1] + round(bar_s * 1e9)] = np.nan
        if np.any(np.diff(tpos) < 0):  # windows below are slices of time-ordered trades
            order = np.argsort(tpos, kind="stable")
            tpos, tdepth = tpos[order], tdepth[order]
    sig, A, k = (np.full(n, np.nan) for _ in range(3))
    w = p.calib_window
    std = np.std if not np.isnan(dclose[1:]).any() else np.nanstd
    for t in range(min(w, n) - 1, n, p.calib_every):
        lo = t - w + 1
        s = std(dclose[lo + 1 : t + 1], ddof=1) / np.sqrt(bar_s)
        if use_trades:  # trades are in time order: the window is one slice
            i, j = np.searchsorted(tpos, [lo + 1, t + 1], side="left")
            a, kk = _intensity_from_trades(tdepth[i:j], (t - lo) * bar_s)
        else:
            a, kk = _intensity_from_excursions(exc[:, lo + 1 : t + 1].ravel(), bar_s)
        end = min(t + p.calib_every, n)
        sig[t:end], A[t:end], k[t:end] = s, a, kk
    out = pd.DataFrame({"sigma": sig, "A": A, "k": k}, index=bars.index)
    for name in ("sigma", "A", "k"):
        if getattr(p, name) is not None:
            out[name] = getattr(p, name)
    out["source"] = "trades" if use_trades else "bars"
    return out


def _aligned(frame: pd.DataFrame, idx: pd.DatetimeIndex, cols) -> list[np.ndarray]:
    """``frame[cols]`` on ``idx`` (NaN where ``frame`` has no row) as float
    arrays — a sorted-merge reindex, much cheaper than pandas' on a year."""
    if frame.index.equals(idx):
        return [frame[c].to_numpy(np.float64) for c in cols]
    at, have = epoch_ns(idx), epoch_ns(frame.index)
    first = int(np.searchsorted(at, have[0])) if len(have) else 0
    if first + len(have) <= len(at) and np.array_equal(
        at[first : first + len(have)], have
    ):
        # one contiguous stretch of the bars (model predictions are)
        out = []
        for c in cols:
            col = np.full(len(idx), np.nan)
            col[first : first + len(have)] = frame[c].to_numpy(np.float64)
            out.append(col)
        return out
    pos = np.clip(np.searchsorted(at, have), 0, max(len(at) - 1, 0))
    hit = at[pos] == have if len(at) else np.zeros(len(have), bool)
    out = []
    for c in cols:
        col = np.full(len(idx), np.nan)
        col[pos[hit]] = frame[c].to_numpy(np.float64)[hit]
        out.append(col)
    return out


SIGNAL_COLUMNS = ("p_up", "p_down", "bet_size", "drift_weight", "vol")


def aligned_signal(
    bars: pd.DataFrame, predictions: pd.DataFrame, vol_span: int
) -> pd.DataFrame:
    """What the quotes read of the model, on the bars' index.

    A node of its own: a sweep over ``mm`` keys computes it once.

    Args:
        bars: The bars (``close``, the unobserved-bar flags).
        predictions: The out-of-sample predictions (``p_up``, ``p_down``,
            ``bet_size``, ``bet_source``) on some of the bars' times.
        vol_span: ``labels.vol_span`` (bars), the span of the volatility.

    Returns:
        A frame on ``bars.index`` with ``p_up``, ``p_down``, ``bet_size``,
        ``drift_weight`` (the meta model's ``|bet size|`` where it sizes the
        bet, 1 where the primary's probabilities alone do: they carry their
        confidence already) — NaN where no out-of-sample prediction exists —
        and ``vol``, the causal volatility of the closes that scales the
        barriers.
    """
    meta = (predictions["bet_source"] == "meta").to_numpy()
    weight = np.where(meta, predictions["bet_size"].abs().to_numpy(np.float64), 1.0)
    cols = _aligned(
        predictions.assign(drift_weight=weight), bars.index, SIGNAL_COLUMNS[:4]
    )
    vol = causal_volatility(bars["close"], vol_span, bars).to_numpy(np.float64)
    return pd.DataFrame(
        dict(zip(SIGNAL_COLUMNS, [*cols, vol], strict=True)), index=bars.index
    )


def quote_policy(
    bars: pd.DataFrame,
    signal: pd.DataFrame,
    calibration: pd.DataFrame,
    p: MMParams,
    lp: LabelsParams,
    rp: RiskParams,
    bar_s: float,
    maker_fee: float = 0.0,
) -> pd.DataFrame:
    """Per bar: the drift, GLFT terms and sizes that the backtest turns into
    quotes for its current inventory; ``bid``/``ask``/``reservation`` are the
    quotes at zero inventory (the backtest's ``book`` has the live ones).

    The signal's edge is the expected move to the label's first touch,
    ``(p_up·pt − p_down·sl) × volatility × close``, times ``mm.alpha_weight``
    and ``drift_weight``; the drift ``mu`` (USDT/s) spreads it over the label
    horizon. ``mm.drift`` sets how it moves the quotes: ``alpha`` shifts
    both by the edge (a short-lived alpha, Cartea–Jaimungal–Penalva §10.4),
    ``glft`` by GLFT's constant-drift term ``omega·mu/(gamma·sigma²)``.
    Quotes exist only where an out-of-sample prediction and a calibration do.

    Args:
        bars: The bars (``close`` in USDT is the mid).
        signal: :func:`aligned_signal`'s frame.
        calibration: :func:`calibrate`'s frame (``sigma`` USDT/√s, ``A``
            fills/s, ``k`` 1/USDT).
        p: The ``mm`` parameters (``tick`` in USDT, ``order_size`` in ETH,
            ``max_inventory`` in order sizes, ``vol_target_usd``).
        lp: The ``labels`` parameters (``pt``, ``sl``: the barriers in
            multiples of ``vol``; ``horizon`` in bars).
        rp: The ``risk`` parameters (``max_var`` None: no cap).
        bar_s: The bar length in seconds (the horizon in seconds is
            ``lp.horizon × bar_s``).
        maker_fee: A fraction of the price per maker fill (not basis
            points), added to the half spread as ``maker_fee × close``
            (``mm.fee_in_spread``: the node passes the venue's).

    Returns:
        A frame on ``bars.index`` with ``QUOTE_COLUMNS`` — ``mid``,
        ``reservation``, ``bid``, ``ask`` (USDT; bid and ask rounded out to
        the tick, NaN where not valid), ``sigma``, ``A``, ``k``, ``mu``
        (USDT/s), ``half_spread``, ``skew``, ``drift_shift``, ``bid_depth``
        and ``ask_depth`` (USDT from the mid), ``bid_size`` and ``ask_size``
        (ETH) — and ``valid`` (bool).
    """
    idx = bars.index
    p_up, p_down, bet, weight, vol = (
        signal[c].to_numpy(np.float64) for c in SIGNAL_COLUMNS
    )
    out = np.empty((len(QUOTE_ROWS), len(bars)))  # one block: contiguous columns
    valid = np.empty(len(bars), np.bool_)
    mid = bars["close"].to_numpy(np.float64)
    sigma, A, k = (calibration[c].to_numpy(np.float64) for c in ("sigma", "A", "k"))
    quote_block_nb(
        mid,
        vol,
        p_up,
        p_down,
        bet,
        weight,
        sigma,
        A,
        k,
        p.gamma,
        p.spread_scale,
        p.skew_scale,
        p.alpha_weight,
        DRIFT[p.drift],
        lp.pt,
        lp.sl,
        lp.horizon * bar_s,
        p.tick,
        p.order_size,
        SIZING[p.sizing],
        p.vol_target_usd,
        np.nan if rp.max_var is None else rp.max_var,
        p.max_inventory,
        maker_fee,
        out,
        valid,
    )
    # the inputs are the same arrays, not copies (pandas copies on write)
    cols = {
        "mid": mid,
        "sigma": sigma,
        "A": A,
        "k": k,
        **dict(zip(QUOTE_ROWS, out, strict=True)),
    }
    cols = {name: cols[name] for name in QUOTE_COLUMNS}
    return pd.DataFrame({**cols, "valid": valid}, index=idx, copy=False)
