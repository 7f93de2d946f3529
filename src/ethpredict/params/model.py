"""``features``, ``labels`` and ``model``: from bars to out-of-sample predictions."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ethpredict.params.base import PosInt, Strict


class FeaturesParams(Strict):
    """Strictly causal features; windows are in bars."""

    sets: list[Literal["base", "advanced", "reference"]] = Field(
        ["base", "advanced"],
        min_length=1,
        description=(
            "unique; reference: exchange-reference features (needs "
            "data.reference.path or data.source synthetic_pool)"
        ),
    )
    return_horizons: list[PosInt] = Field(
        [1, 5, 15, 60],
        min_length=1,
        description="unique return horizons, bars",
    )
    vol_window: int = Field(
        60,
        ge=2,
        description="bars of the rolling volatility",
    )
    zscore_window: int = Field(
        1440,
        ge=2,
        description="bars of the rolling z-scores",
    )
    rsi_window: int = Field(
        14,
        ge=2,
        description="bars of the RSI",
    )
    ema_pairs: list[tuple[PosInt, PosInt]] = Field(
        [(12, 26), (60, 240)],
        description="[fast, slow] EMA spans in bars, fast < slow",
    )
    fracdiff_d: float = Field(
        0.4,
        gt=0,
        le=2,
        description="order of fractional differencing",
    )
    fracdiff_window: int = Field(
        256,
        ge=2,
        le=100_000,
        description="bars of the fractional-differencing weights",
    )
    micro_window: int = Field(
        60,
        ge=3,
        description="bars of Roll, Amihud, flow imbalance, skew and kurtosis",
    )
    flow_windows: list[PosInt] = Field(
        [5, 15],
        description=(
            "unique windows of flow_imbalance_<w>, the mean per-bar taker "
            "imbalance (2·taker buy − volume)/volume (with taker volume); [] "
            "for none"
        ),
    )

    @field_validator("sets", "return_horizons", "flow_windows")
    @classmethod
    def _unique(cls, v: list) -> list:
        if len(set(v)) != len(v):
            raise ValueError(f"entries must be unique, got {v}")
        return v

    @field_validator("ema_pairs")
    @classmethod
    def _fast_before_slow(cls, v: list) -> list:
        for fast, slow in v:
            if fast >= slow:
                raise ValueError(f"each pair is [fast, slow] with fast < slow: {v}")
        return v


class LabelsParams(Strict):
    """Events and triple-barrier labels (windows and horizons in bars)."""

    events: Literal["all", "cusum"] = Field(
        "cusum",
        description="all bars, or CUSUM-filtered events",
    )
    cusum_threshold: float | None = Field(
        None,
        gt=0,
        description=(
            "CUSUM threshold as a log return; null: cusum_vol_mult × volatility"
        ),
    )
    cusum_vol_mult: float = Field(
        1.0,
        gt=0,
        le=100,
        description=(
            "an event after a CUSUM move of this many volatilities; 3 leaves "
            "too few events per window for the calibration to keep a weak "
            "signal (docs/modeling.md)"
        ),
    )
    vol_span: int = Field(
        100,
        ge=2,
        description="EWM span (bars) of the volatility that scales the barriers",
    )
    pt: float = Field(2.0, gt=0, le=100, description="profit barrier, × volatility")
    sl: float = Field(2.0, gt=0, le=100, description="stop barrier, × volatility")
    horizon: int = Field(
        15, ge=1, le=100_000, description="vertical barrier, bars ahead"
    )
    both_touch: Literal["nearest_to_open", "stop_first", "profit_first"] = Field(
        "nearest_to_open",
        description="which barrier counts when a bar touches both",
    )
    vertical_label: Literal["zero", "sign"] = Field(
        "zero",
        description="label at the vertical barrier: 0, or the return's sign",
    )
    time_decay: float = Field(
        1.0,
        gt=-1,
        le=1,
        description="weight of the oldest training label (1: no decay)",
    )


class StressPeriod(Strict):
    """A named stretch of market stress that must be tested out of sample."""

    name: str = Field(..., min_length=1, max_length=64)
    start: dt.datetime = Field(..., description="first bar of the period (UTC)")
    end: dt.datetime = Field(..., description="bars before this (UTC)")

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, v: dt.datetime) -> dt.datetime:
        return v if v.tzinfo else v.replace(tzinfo=dt.UTC)

    @model_validator(mode="after")
    def _ordered(self) -> StressPeriod:
        if self.end <= self.start:
            raise ValueError(
                f"stress period {self.name!r} ends ({self.end}) at or before it "
                f"starts ({self.start})"
            )
        return self


class CVParams(Strict):
    """Walk-forward folds, in bars."""

    scheme: Literal["expanding", "rolling"] = Field(
        "expanding",
        description=(
            "expanding: every training window starts at the first bar; "
            "rolling: train_bars each"
        ),
    )
    train_bars: int = Field(
        43_200,
        ge=10,
        description=(
            "first (rolling: every) training window; 43,200: 30 days of 1-minute bars"
        ),
    )
    test_bars: int = Field(
        14_400,
        ge=1,
        description="length of each test window; 14,400: 10 days",
    )
    embargo_bars: int = Field(
        60,
        ge=0,
        description="gap between training and test events",
    )
    val_frac: float = Field(
        0.15,
        gt=0,
        lt=0.9,
        description="early-stopping slice from the end of each training window",
    )
    stress_periods: list[StressPeriod] = Field(
        [],
        description=(
            "[{name, start, end}] (UTC, end > start, names unique) kept out "
            "of sample: the first test window starts no later than the "
            "earliest start"
        ),
    )

    @field_validator("stress_periods")
    @classmethod
    def _unique_names(cls, v: list[StressPeriod]) -> list[StressPeriod]:
        names = [p.name for p in v]
        if len(set(names)) < len(names):
            raise ValueError(f"stress period names repeat: {names}")
        return v


class NetParams(Strict):
    """The PyTorch primary model."""

    arch: Literal["mlp", "conv", "gru"] = Field(
        "mlp",
        description="the network",
    )
    hidden: list[PosInt] = Field(
        [64, 32],
        min_length=1,
        description="layer widths (conv/gru use the first)",
    )
    window: int = Field(32, ge=2, le=4096, description="bars seen by conv/gru")
    dropout: float = Field(
        0.1,
        ge=0,
        lt=1,
        description="dropout rate",
    )
    lr: float = Field(
        1e-3,
        gt=0,
        le=1,
        description="Adam learning rate",
    )
    weight_decay: float = Field(
        1e-4,
        ge=0,
        description="L2 weight decay",
    )
    batch_size: int = Field(
        256,
        ge=8,
        description="training batch size",
    )
    max_epochs: int = Field(
        30,
        ge=1,
        le=10_000,
        description="epochs at most (early stopping on val_frac)",
    )
    patience: int = Field(
        4,
        ge=1,
        description="epochs without a better validation loss before stopping",
    )


class MetaParams(Strict):
    """The meta model on meta-labels (bet sizing)."""

    kind: Literal["logistic", "gbt"] = Field(
        "logistic",
        description="the meta model",
    )
    min_events: int = Field(
        200,
        ge=10,
        description="fewer meta-labelled events: bet sizes from the primary",
    )
    auc_margin: float = Field(
        0.02,
        ge=0,
        lt=0.5,
        description=(
            "the meta model sets bet sizes only when its out-of-sample AUC "
            "over the training folds exceeds 0.5 + this"
        ),
    )


class CalibrationParams(Strict):
    """Post-hoc calibration of every model's probabilities, per fold."""

    method: Literal["bias_temperature", "platt", "isotonic", "none"] = Field(
        "bias_temperature",
        description="per fold, on a purged tail hold-out of the training window",
    )
    holdout_frac: float = Field(
        0.2,
        gt=0,
        lt=0.9,
        description="tail of each training window the calibrator is fitted on",
    )
    prior_weight: float = Field(
        4.0,
        ge=0,
        le=1000,
        description="bias_temperature: weight of the training window's class prior "
        "in the fit, in hold-outs",
    )
    prior_fallback: bool = Field(
        True,
        description=(
            "a fold's model whose calibrated probabilities do not beat the "
            "prior on the hold-out by BIC's price predicts the prior in that "
            "fold"
        ),
    )


class ModelParams(Strict):
    """Walk-forward models; ``kind`` picks what feeds market making."""

    kind: Literal["primary", "logistic", "gbt", "ensemble", "prior"] = Field(
        "primary",
        description="the model whose predictions feed market making",
    )
    seed: int = Field(
        0,
        ge=0,
        description="seed of every model's training",
    )
    threads: int = Field(
        2,
        ge=1,
        le=256,
        description="PyTorch threads",
    )
    class_balance: bool = Field(
        False,
        description="class weights in training (calibration comes after); off: "
        "measured worse before calibration on every shared real dataset",
    )
    progress: bool = Field(
        True,
        description="a progress bar per fold (on a terminal)",
    )
    cv: CVParams = CVParams()
    net: NetParams = NetParams()
    gbt_iter: int = Field(
        150,
        ge=1,
        le=10_000,
        description="boosting iterations of the gbt model",
    )
    meta: MetaParams = MetaParams()
    calibration: CalibrationParams = CalibrationParams()
