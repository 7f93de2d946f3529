"""``mm``, ``backtest`` and ``risk``: quotes, the execution model, risk."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ethpredict.params.base import PosInt, Strict


class MMParams(Strict):
    """GLFT market making. Prices in USDT, time in seconds, sizes in ETH."""

    gamma: float = Field(0.05, gt=0, le=100, description="risk aversion, 1/USDT")
    spread_scale: float = Field(
        1.0,
        gt=0,
        le=100,
        description="multiplies the half spread",
    )
    skew_scale: float = Field(
        1.0,
        ge=0,
        le=100,
        description="multiplies the inventory skew",
    )
    alpha_weight: float = Field(
        4.0,
        ge=0,
        le=100,
        description=(
            "multiplies the signal's shift (4: leaning harder than the "
            "expected move pays, docs/market_making.md); 0: plain GLFT"
        ),
    )
    drift: Literal["alpha", "glft"] = Field(
        "alpha",
        description=(
            "how the signal moves the quotes: alpha shifts both by its "
            "expected move (a short-lived alpha, Cartea-Jaimungal-Penalva "
            "10.4); glft by GLFT's constant-drift term "
            "(docs/market_making.md)"
        ),
    )
    fee_in_spread: bool = Field(
        True,
        description=(
            "widen each half spread by the venue's maker fee × mid (GLFT's "
            "optimum when each fill pays the fee; 0 on a pool)"
        ),
    )
    max_inventory: float = Field(
        5.0,
        gt=0,
        le=1e6,
        description=(
            "in order sizes; at the bound the side that would grow it is not quoted"
        ),
    )
    order_size: float = Field(
        1.0,
        gt=0,
        le=1e5,
        description="ETH",
    )
    sizing: Literal["fixed", "vol_target", "bet_size"] = Field(
        "fixed",
        description=(
            "order size: fixed, a volatility target, or the meta model's bet size"
        ),
    )
    vol_target_usd: float = Field(
        2000.0,
        gt=0,
        description="vol_target: daily USD volatility of one order",
    )
    levels: int = Field(
        1,
        ge=1,
        le=20,
        description="quote levels per side (> 1: a grid)",
    )
    level_spacing: float = Field(0.5, ge=0, le=1e5, description="USDT between levels")
    level_size_mult: float = Field(
        1.0,
        gt=0,
        le=10,
        description="size of level l = size × mult^l",
    )
    range_width: int = Field(
        1,
        ge=1,
        le=1000,
        description=(
            "uniswap_v3: tick spacings per range order (each level is the "
            "next range out)"
        ),
    )
    tick: float = Field(0.01, gt=0, le=1e3, description="USDT")
    calib_window: int = Field(
        1440,
        ge=10,
        description="bars in each calibration of sigma, A, k",
    )
    calib_every: int = Field(60, ge=1, description="bars between recalibrations")
    sigma: float | None = Field(
        None,
        gt=0,
        description="fixed volatility, USDT/√s, replacing the calibration",
    )
    A: float | None = Field(
        None,
        gt=0,
        description="fixed order-arrival intensity, fills/s per side",
    )
    k: float | None = Field(
        None,
        gt=0,
        description="fixed intensity decay, 1/USDT",
    )


class BacktestParams(Strict):
    """The execution model. Unset (null) costs and clocks come from the venue
    preset (:data:`ethpredict.venues.PRESETS`); a value set here wins."""

    venue: Literal[
        "auto", "cex_spot", "cex_perp", "cex_mm", "onchain_clob", "uniswap_v3"
    ] = Field(
        "auto",
        description=(
            "auto: the data's venue (exchange data: cex_spot or cex_perp, the"
            " embedded market: cex_mm, a pool: uniswap_v3); presets in "
            "docs/market_making.md"
        ),
    )
    block_time_s: float | None = Field(
        None,
        ge=0,
        le=3600,
        description=(
            "decision clock; 0: a decision every bar (no block clock); null: "
            "the preset's (exchanges 0, onchain_clob 0.25, a pool its own)"
        ),
    )
    latency_s: float | None = Field(
        None,
        ge=0,
        le=3600,
        description=(
            "decision to venue: an order is live from the next block after "
            "it; null: the preset's (exchanges 0, onchain_clob 0.25, "
            "uniswap_v3 1)"
        ),
    )
    requote_threshold: float = Field(
        50.0,
        ge=0,
        description="ticks a side's level-0 price must move before it is re-sent",
    )
    gas_units: float | None = Field(
        None,
        ge=0,
        le=1e8,
        description=(
            "gas units per order action (place, replace, cancel); null: the "
            "preset's (exchanges 0, onchain_clob 150,000; uniswap_v3 has gas "
            "per LP action, gas_mint ...)"
        ),
    )
    gas_price_gwei: float | None = Field(
        None,
        ge=0,
        le=1e6,
        description=(
            "gas price of an order action; null: the preset's (exchanges 0, "
            "onchain_clob 0.01, uniswap_v3 5)"
        ),
    )
    gas_price_path: str | None = Field(
        None,
        description=(
            "uniswap_v3: a gas price series (CSV/Parquet/Feather/JSON; time "
            "or block column + base_fee_gwei [+ priority_fee_gwei] or "
            "gas_price_gwei; per block or per minute; docs/data.md); when set"
            " it replaces gas_price_gwei block by block (refused on the "
            "order-book venues, whose gas price is one number)"
        ),
    )
    maker_fee_bps: float | None = Field(
        None,
        ge=-10_000,
        le=100,
        description=(
            "per maker fill; negative: a rebate (a pool's fee tier, earned); "
            "null: the preset's (10, 2, 0, or minus a pool's fee tier)"
        ),
    )
    taker_fee_bps: float | None = Field(
        None,
        ge=0,
        le=100,
        description=(
            "per taker fill (marketable orders, the risk stop); null: the "
            "preset's (10, 5, 5, or a pool's fee tier)"
        ),
    )
    post_only: bool = Field(
        True,
        description=(
            "an order marketable when it goes live is rejected (counted; gas "
            "spent on-chain); false: it fills at once as a taker at the open"
        ),
    )
    max_participation: float = Field(
        0.1,
        gt=0,
        le=1,
        description=(
            "a bar's fills never exceed this share of its volume; the rest of"
            " an order stays live"
        ),
    )
    fill_model: Literal["touch", "intensity"] = Field(
        "touch",
        description=(
            "touch: a fill when the bar trades through the quote; intensity: "
            "fills drawn from A·exp(−k·δ)"
        ),
    )
    through_ticks: float = Field(
        1.0,
        ge=0,
        description="touch: the bar must trade through the quote by this many ticks",
    )
    seed: int = Field(
        0,
        ge=0,
        description="seed of intensity fills and of p_miss",
    )
    markouts: list[PosInt] = Field(
        [1, 5, 15],
        min_length=1,
        description=(
            "bars after each fill (against the mark: the exchange reference "
            "on a pool that has one)"
        ),
    )
    # --- uniswap_v3: range orders (docs/market_making.md)
    range_requote: float = Field(
        1.0,
        ge=0,
        description=(
            "uniswap_v3: grid steps (tick spacings) a range's level-0 bound "
            "must move before it is re-minted"
        ),
    )
    lp_gas_path: Literal["position_manager", "direct"] = Field(
        "position_manager",
        description=(
            "gas defaults: Uniswap's NonfungiblePositionManager (mint 400k, "
            "decreaseLiquidity 149k, collect 119k, the stop's swap 130k gas) "
            "or a contract that calls the pool directly (320k / 66k / 36k / "
            "110k)"
        ),
    )
    gas_mint: float | None = Field(
        None,
        ge=0,
        description="gas units per mint; null: lp_gas_path's",
    )
    gas_burn: float | None = Field(
        None,
        ge=0,
        description="gas units per decreaseLiquidity; null: lp_gas_path's",
    )
    gas_collect: float | None = Field(
        None,
        ge=0,
        description="gas units per collect; null: lp_gas_path's",
    )
    gas_swap: float | None = Field(
        None,
        ge=0,
        description="gas units of the risk stop's swap; null: lp_gas_path's",
    )
    p_miss: float = Field(
        0.0,
        ge=0,
        lt=1,
        description=(
            "an LP transaction misses each block with this probability "
            "(seeded by backtest.seed)"
        ),
    )
    baseline_range_pct: float = Field(
        5.0,
        gt=0,
        le=1000,
        description="the static ±x % passive baseline",
    )
    baseline_capital_usd: float | None = Field(
        None,
        gt=0,
        description="capital of the passive baselines; null: 2 × "
        "mm.order_size × the first quoted price",
    )


class RiskParams(Strict):
    """Risk limits and how risk is measured."""

    max_drawdown: float | None = Field(
        20_000.0,
        gt=0,
        le=1e12,
        description="USD below the equity peak: flatten and stop; null: off",
    )
    max_var: float | None = Field(
        None,
        gt=0,
        le=1e12,
        description=(
            "USD: cap size so a full inventory's 1-day 99 % VaR stays below; null: off"
        ),
    )
    periods_per_year: int = Field(
        365,
        ge=1,
        description="daily PnL, annualised on the crypto calendar",
    )
    interval_level: float = Field(
        0.95,
        gt=0,
        lt=1,
        description=(
            "level of the block-bootstrap intervals of total PnL, Sharpe and "
            "signal added"
        ),
    )
    bootstrap_resamples: int = Field(
        2000,
        ge=0,
        le=1_000_000,
        description="0: no intervals",
    )
    bootstrap_block_days: int | None = Field(
        None,
        ge=1,
        description="consecutive days per block; null: round(days^(1/3))",
    )
    bootstrap_seed: int = Field(
        0,
        ge=0,
        description="seed of the bootstrap",
    )
