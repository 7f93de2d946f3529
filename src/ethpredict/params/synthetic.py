"""``data.synthetic`` and ``data.synthetic_pool``: the embedded markets."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from ethpredict.core.flow import flow_load, max_flow_ic
from ethpredict.params.base import Strict


class SyntheticParams(Strict):
    """The embedded generator of a realistic ETH market (1-minute klines)."""

    seed: int = Field(42, ge=0, description="RNG seed; same seed, same market")
    days: int = Field(
        90,
        ge=2,
        le=3660,
        description="length in days",
    )
    start: dt.date = Field(dt.date(2024, 1, 1), description="first day (UTC)")
    start_price: float = Field(
        3000.0,
        gt=0,
        le=1e7,
        description="USDT per ETH at start",
    )
    annual_vol: float = Field(0.65, gt=0, le=5, description="annualised volatility")
    jumps_per_day: float = Field(
        1.5,
        ge=0,
        le=100,
        description="jump intensity (Poisson mean per day)",
    )
    jump_size: float = Field(
        0.004,
        ge=0,
        le=0.2,
        description="mean absolute jump, log return",
    )
    tail_df: float = Field(
        4.0,
        gt=2,
        le=1000,
        description="Student-t degrees of freedom of the returns' tails",
    )
    volume_per_min: float = Field(
        300.0,
        gt=0,
        le=1e9,
        description="mean ETH volume per bar",
    )
    signal_ic: float = Field(
        0.1,
        ge=0,
        le=0.9,
        description=(
            "the planted order flow's information coefficient: its "
            "correlation with the volatility-standardised return of the next "
            "signal_horizon bars (docs/data.md); 0: no signal, the market "
            "without it bit for bit; at most what the flow can carry (the "
            "error says how much)"
        ),
    )
    signal_horizon: int = Field(
        15,
        ge=1,
        le=10_000,
        description="bars ahead at which signal_ic holds (labels.horizon's default)",
    )
    signal_half_life: float = Field(
        30.0,
        ge=1,
        le=100_000,
        description="the planted flow's half-life in bars: its persistence",
    )
    noise_impact: float = Field(
        0.18,
        ge=0,
        le=2,
        description=(
            "uninformed flow's transient price impact, in units of the bar's "
            "volatility, gone by the next bar: 1-minute return "
            "autocorrelation −c²/(1+2c²), -0.033 at the default, as in real "
            "ETHUSDT files (-0.005 to -0.056; docs/data.md); 0: none"
        ),
    )

    @model_validator(mode="after")
    def _signal_possible(self) -> SyntheticParams:
        try:
            flow_load(self.signal_ic, self.signal_horizon, self.signal_half_life)
        except ValueError:
            top = max_flow_ic(self.signal_horizon, self.signal_half_life)
            raise ValueError(
                f"data.synthetic.signal_ic = {self.signal_ic} is more than a flow "
                f"with a half-life of {self.signal_half_life:g} bar(s) can carry "
                f"{self.signal_horizon} bars ahead (at most {top:.3f}, with no "
                "noise left in the returns): lower it, or raise "
                "data.synthetic.signal_half_life"
            ) from None
        return self


class SyntheticPoolParams(Strict):
    """The embedded pool (``data.source: synthetic_pool``): a Uniswap v3
    USDC/WETH-like pool following the ``data.synthetic`` exchange path block
    by block through arbitrageurs and noise traders."""

    days: int = Field(
        14,
        ge=1,
        le=366,
        description=(
            "length in days (the exchange takes the other data.synthetic "
            "settings); 14 days of 12 s blocks = 100,800 bars"
        ),
    )
    block_time_s: int = Field(
        12,
        ge=1,
        le=60,
        description="seconds per block; must divide 60",
    )
    fee_bps: Literal[1, 5, 30, 100] = Field(
        5,
        description="fee tier in bp (tick spacing 1, 10, 60, 200)",
    )
    liquidity: float = Field(
        1.2e19,
        gt=0,
        le=1e30,
        description=(
            "the pool's constant active liquidity L (raw units, as a Swap log"
            " reports it); ≈ 11-13 ETH per bp at 2,300-3,000 USDC"
        ),
    )
    noise_swaps_per_block: float = Field(
        0.5, ge=0, le=50, description="Poisson mean of noise swaps per block"
    )
    noise_size_eth: float = Field(
        2.0,
        gt=0,
        le=10_000,
        description="median noise swap size (ETH, log-normal)",
    )
    noise_size_sigma: float = Field(
        1.0, ge=0, le=5, description="log-normal dispersion of noise sizes"
    )
