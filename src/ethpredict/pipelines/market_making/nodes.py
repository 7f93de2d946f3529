"""Nodes of the market_making pipeline: calibration and GLFT quotes."""

from __future__ import annotations

import logging

import pandas as pd

from ethpredict.market_making import aligned_signal, calibrate, quote_policy
from ethpredict.params import LabelsParams, MMParams, RiskParams
from ethpredict.timeaxis import bar_seconds
from ethpredict.venues import maker_fee

log = logging.getLogger(__name__)


def calibrate_market(
    bars: pd.DataFrame,
    trades: pd.DataFrame,
    calib_window: int,
    calib_every: int,
    sigma: float | None,
    A: float | None,
    k: float | None,
) -> pd.DataFrame:
    """Rolling causal sigma (USDT/√s), A (fills/s per side) and k (1/USDT).

    Takes only the ``mm`` keys it uses, so a sweep over the other ``mm`` keys
    does not re-run it."""
    p = MMParams(
        calib_window=calib_window, calib_every=calib_every, sigma=sigma, A=A, k=k
    )
    out = calibrate(bars, trades, p, bar_seconds(bars))
    out.attrs.update(bars.attrs)
    last = out[["sigma", "A", "k"]].dropna()
    if len(last):
        log.info(
            "Calibration from %s, last: %s",
            out["source"].iat[0],
            last.iloc[-1].round(4).to_dict(),
        )
    return out


def align_signal(
    bars: pd.DataFrame, predictions: pd.DataFrame, vol_span: int
) -> pd.DataFrame:
    """The model's probabilities and bet sizes and the barriers' volatility on
    the bars' index (what the quotes read)."""
    return aligned_signal(bars, predictions, vol_span)


def _quotes(bars, signal, calibration, mm, labels, risk, venue, maker_fee_bps):
    fee = maker_fee(bars, venue, maker_fee_bps) if mm.fee_in_spread else 0.0
    q = quote_policy(
        bars, signal, calibration, mm, labels, risk, bar_seconds(bars), fee
    )
    q.attrs.update({**bars.attrs, "alpha_weight": mm.alpha_weight})
    return q


def make_quotes(
    bars: pd.DataFrame,
    signal: pd.DataFrame,
    calibration: pd.DataFrame,
    mm: MMParams,
    labels: LabelsParams,
    risk: RiskParams,
    venue: str = "auto",
    maker_fee_bps: float | None = None,
) -> pd.DataFrame:
    """GLFT quoting policy per bar with the learned drift (``mm.alpha_weight``),
    its half spreads widened by the venue's maker fee (``mm.fee_in_spread``;
    ``backtest.venue`` and ``backtest.maker_fee_bps`` name it)."""
    return _quotes(bars, signal, calibration, mm, labels, risk, venue, maker_fee_bps)


def make_baseline_quotes(
    bars: pd.DataFrame,
    signal: pd.DataFrame,
    calibration: pd.DataFrame,
    mm: MMParams,
    labels: LabelsParams,
    risk: RiskParams,
    venue: str = "auto",
    maker_fee_bps: float | None = None,
) -> pd.DataFrame:
    """The same policy without the signal (``alpha_weight = 0``): the ablation."""
    baseline = mm.model_copy(update={"alpha_weight": 0.0})
    return _quotes(
        bars, signal, calibration, baseline, labels, risk, venue, maker_fee_bps
    )
