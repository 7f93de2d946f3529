"""Typed parameter namespaces.

Each top-level key of ``conf/*/parameters*.yml`` is one strict Pydantic model:
unknown keys are rejected and ranges are checked. :func:`validate_parameters`
checks the whole tree (including ``--params`` overrides) before any node runs
and raises :class:`~ethpredict.errors.ParameterError` naming the dotted key,
the value given and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ethpredict.core.flow import flow_load, max_flow_ic
from ethpredict.errors import ParameterError

#: Binance kline intervals and their length in seconds (``1M`` is calendar).
INTERVALS_S: dict[str, int] = {
    "1s": 1,
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "6h": 21600,
    "8h": 28800,
    "12h": 43200,
    "1d": 86400,
    "3d": 259200,
    "1w": 604800,
}
Interval = Literal[
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
    "1d", "3d", "1w",
]  # fmt: skip

PosInt = Annotated[int, Field(ge=1)]


class Strict(BaseModel):
    """Base for every namespace: unknown keys rejected, values immutable,
    no infinite or NaN number."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def __repr_args__(self):  # str() and repr() (kedro-mlflow logs str()) mask secrets
        from ethpredict.secrets import redact_tree

        for name, value in super().__repr_args__():
            yield (
                name,
                redact_tree(value, name or "") if isinstance(value, str) else value,
            )


class SyntheticParams(Strict):
    """The embedded generator of a realistic ETH market (1-minute klines)."""

    seed: int = Field(42, ge=0, description="RNG seed; same seed, same market")
    days: int = Field(90, ge=2, le=3660, description="length in days")
    start: dt.date = Field(dt.date(2024, 1, 1), description="first day (UTC)")
    start_price: float = Field(
        3000.0, gt=0, le=1e7, description="USDT per ETH at start"
    )
    annual_vol: float = Field(0.65, gt=0, le=5, description="annualised volatility")
    jumps_per_day: float = Field(1.5, ge=0, le=100, description="jump intensity")
    jump_size: float = Field(
        0.004, ge=0, le=0.2, description="mean absolute jump (log return)"
    )
    tail_df: float = Field(4.0, gt=2, le=1000, description="Student-t tail index")
    volume_per_min: float = Field(
        300.0, gt=0, le=1e9, description="mean ETH volume per bar"
    )
    signal_ic: float = Field(
        0.1, ge=0, le=0.9,
        description="the planted order flow's information coefficient: its "
        "correlation with the volatility-standardised return of the next "
        "signal_horizon bars (docs/data.md); 0: no planted signal",
    )  # fmt: skip
    signal_horizon: int = Field(
        15, ge=1, le=10_000, description="bars ahead at which signal_ic holds"
    )
    signal_half_life: float = Field(
        30.0, ge=1, le=100_000, description="the planted flow's half-life in bars"
    )
    noise_impact: float = Field(
        0.18, ge=0, le=2,
        description="uninformed flow's transient price impact, in units of the "
        "bar's volatility, gone by the next bar (the bid-ask bounce of real "
        "1-minute returns; docs/data.md); 0: none",
    )  # fmt: skip

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


class OHLCVParams(Strict):
    """Generic OHLCV files (``data.source: ohlcv``)."""

    format: Literal["auto", "csv", "parquet", "feather", "json"] = Field(
        "auto", description="auto: from the file name"
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="standard name -> the file's column, e.g. {time: Date, volume: Vol}",
    )
    time_unit: Literal["auto", "s", "ms", "us", "ns"] = Field(
        "auto", description="epoch numbers: auto detects the unit from the magnitude"
    )
    timezone: str = Field(
        "UTC",
        description="zone of timestamps written without an offset; text with an "
        "offset is converted to UTC whatever this says",
    )
    delimiter: Literal["auto", ",", ";", "\t", "|"] = Field(
        "auto", description="CSV column separator; auto: the one in the first line"
    )
    decimal: Literal["auto", ".", ","] = Field(
        "auto", description="CSV decimal mark; auto: ',' when the separator is not"
    )

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, v: dict[str, str]) -> dict[str, str]:
        allowed = {"time", "open", "high", "low", "close", "volume", "quote_volume",
                   "trades", "taker_buy_volume", "taker_buy_quote_volume"}  # fmt: skip
        bad = sorted(set(v) - allowed)
        if bad:
            raise ValueError(
                f"unknown standard column(s) {', '.join(bad)}; the keys are "
                f"{', '.join(sorted(allowed))}"
            )
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"'{v}' is not an IANA time zone (such as UTC or Europe/Berlin)"
            ) from None
        return v


class UniswapParams(Strict):
    """Uniswap v3 pool events (``data.source: uniswap_v3``). Unset values come
    from the known-pools table (``ethpredict.io.uniswap.KNOWN_POOLS``) by the
    pool address found in the file names or the logs."""

    form: Literal["auto", "raw", "decoded", "minute"] = Field(
        "auto", description="auto: raw logs, else decoded events, else minutes"
    )
    pool: str | None = Field(None, pattern=r"^0x[0-9a-fA-F]{40}$")
    chain: str | None = Field(None, description="ethereum, polygon, arbitrum, ...")
    eth_token: Literal["token0", "token1"] | None = None
    decimals0: int | None = Field(None, ge=0, le=36)
    decimals1: int | None = Field(None, ge=0, le=36)
    fee_bps: float | None = Field(None, gt=0, le=10_000, description="fee tier")
    tick_spacing: int | None = Field(None, ge=1, le=16_384)
    block_time_s: float | None = Field(
        None, gt=0, le=3600, description="null: measured from the events"
    )


class ReferenceParams(Strict):
    """An exchange reference for the bars (``data.reference``): a second
    market-data source joined causally to the bars' clock (docs/data.md)."""

    path: str | None = Field(
        None, description="file or folder of the reference; null: none"
    )
    source: Literal["auto", "binance_klines", "ohlcv", "binance_trades"] = Field(
        "auto", description="auto: trade captures by name (.jsonl), else klines "
        "when the CSV is in Binance's layout, else generic OHLCV",
    )  # fmt: skip
    ohlcv: OHLCVParams = OHLCVParams()
    max_age_bars: int = Field(
        5, ge=1, le=10_000,
        description="candles: a reference price older than this many of the "
        "reference's own bars at a bar's open is stale (NaN, counted, warned)",
    )  # fmt: skip
    max_age_s: float | None = Field(
        None, gt=0, le=30 * 86_400,
        description="the same limit in seconds; overrides max_age_bars; null: "
        "max_age_bars for candles, 60 s for trade captures",
    )  # fmt: skip


class SyntheticPoolParams(Strict):
    """The embedded pool (``data.source: synthetic_pool``): a Uniswap v3
    USDC/WETH-like pool following the ``data.synthetic`` exchange path block
    by block through arbitrageurs and noise traders."""

    days: int = Field(14, ge=1, le=366, description="length in days")
    block_time_s: int = Field(12, ge=1, le=60, description="seconds per block")
    fee_bps: Literal[1, 5, 30, 100] = Field(5, description="fee tier in bp")
    liquidity: float = Field(
        1.2e19, gt=0, le=1e30,
        description="the pool's constant active liquidity L (raw units, as a "
        "Swap log reports it); ≈ 13 ETH per bp at 2,300 USDC",
    )  # fmt: skip
    noise_swaps_per_block: float = Field(
        0.5, ge=0, le=50, description="Poisson mean of noise swaps per block"
    )
    noise_size_eth: float = Field(
        2.0, gt=0, le=10_000, description="median noise swap size (ETH)"
    )
    noise_size_sigma: float = Field(
        1.0, ge=0, le=5, description="log-normal dispersion of noise sizes"
    )


class DataParams(Strict):
    """Where market data comes from and how it is validated."""

    source: Literal[
        "synthetic", "binance_klines", "binance_trades", "ohlcv", "uniswap_v3",
        "synthetic_pool",
    ] = "synthetic"  # fmt: skip
    path: str | None = Field(
        None,
        description="file, folder or .zip; for synthetic and synthetic_pool, the "
        "folder it is written to (default data/01_raw/synthetic, "
        "data/01_raw/synthetic_pool)",
    )
    symbol: str = Field("ETHUSDT", pattern=r"^[A-Z0-9]{2,20}$")
    interval: Interval | None = Field(
        None,
        description="bar interval: checked against klines/OHLCV if set; the bar "
        "size built from trades (default 1m) and from pool swaps (default: one "
        "bar per block)",
    )
    on_gap: Literal["fail", "flag"] = "flag"
    stale_min_bars: int = Field(
        3,
        ge=1,
        description="a halt: at least this many consecutive bars with zero volume "
        "at a frozen price (OHLC = the previous close) are stale; not applied to "
        "uniswap_v3, where a block without swaps is the pool's real quiet state",
    )
    on_stale: Literal["flag", "drop", "fail"] = Field(
        "flag",
        description="stale bars: flag (keep, marked is_stale), drop (remove), "
        "fail (stop with their count and time ranges)",
    )
    start: dt.datetime | None = Field(None, description="first bar kept (UTC)")
    end: dt.datetime | None = Field(None, description="bars before this kept (UTC)")
    market: Literal["spot", "perpetual"] = Field(
        "spot", description="perpetual: funding from data.funding_path enters PnL"
    )
    funding_path: str | None = Field(
        None, description="funding-rate file or folder (market: perpetual)"
    )
    # plausibility (docs/data.md, "Plausibility"): each bound refuses with one line
    allow_any_dates: bool = Field(
        False,
        description="accept bars dated before ETH's first trading day "
        "(2015-07-30) or after tomorrow (a 1970 or 2099 bar is refused by default)",
    )
    max_gap_fill: dt.timedelta | None = Field(
        dt.timedelta(days=1), gt=dt.timedelta(0),
        description="data.on_gap flag: a gap whose missing bars span longer than "
        "this is refused, not filled ('1 day', '7 days', 'PT6H', '06:00:00', "
        "seconds); null: no limit",
    )  # fmt: skip
    max_price: float | None = Field(
        1e9, gt=0, description="a price above this (quote currency) is absurd; null: no limit"
    )  # fmt: skip
    max_bar_jump: float | None = Field(
        0.5, gt=0,
        description="a bar whose open, high, low or close is more than this |log "
        "return| from the previous bar's close is refused; null: no limit",
    )  # fmt: skip
    max_funding_rate: float = Field(
        0.01, gt=0, le=1,
        description="a funding rate beyond ± this fraction per settlement (1 %) "
        "is refused (it looks like percent)",
    )  # fmt: skip
    max_zero_volume_share: float | None = Field(
        0.5, ge=0, le=1,
        description="refuse candles when more than this share of the bars read "
        "have zero volume (a market without trading); not applied to uniswap_v3 "
        "blocks; null: no limit",
    )  # fmt: skip
    synthetic: SyntheticParams = SyntheticParams()
    synthetic_pool: SyntheticPoolParams = SyntheticPoolParams()
    ohlcv: OHLCVParams = OHLCVParams()
    uniswap: UniswapParams = UniswapParams()
    reference: ReferenceParams = ReferenceParams()

    @property
    def has_reference(self) -> bool:
        """A reference is joined: ``reference.path`` set, or the embedded pool
        (whose exchange path is its reference)."""
        return self.reference.path is not None or self.source == "synthetic_pool"

    @model_validator(mode="after")
    def _path_needed(self) -> DataParams:
        if self.source not in ("synthetic", "synthetic_pool") and not self.path:
            raise ValueError(
                f"data.path is required when data.source is '{self.source}' "
                "(a file, a folder of files or a .zip)"
            )
        if self.market == "perpetual" and not self.funding_path:
            raise ValueError(
                "data.funding_path is required when data.market is 'perpetual' "
                "(a funding-rate file or folder)"
            )
        if self.market == "perpetual" and self.source in ("uniswap_v3",
                                                          "synthetic_pool"):  # fmt: skip
            raise ValueError("data.market 'perpetual' does not apply to a Uniswap pool")
        if self.start and self.end and self.end <= self.start:
            raise ValueError(
                f"data.end ({self.end}) must be after data.start ({self.start})"
            )
        return self

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, v: dt.datetime | None) -> dt.datetime | None:
        if v is not None and v.tzinfo is None:
            v = v.replace(tzinfo=dt.UTC)
        return v


class FeaturesParams(Strict):
    """Strictly causal features; windows are in bars."""

    sets: list[Literal["base", "advanced", "reference"]] = Field(
        ["base", "advanced"], min_length=1,
        description="reference: needs data.reference (or data.source synthetic_pool)",
    )  # fmt: skip
    return_horizons: list[PosInt] = Field([1, 5, 15, 60], min_length=1)
    vol_window: int = Field(60, ge=2)
    zscore_window: int = Field(1440, ge=2)
    rsi_window: int = Field(14, ge=2)
    ema_pairs: list[tuple[PosInt, PosInt]] = [(12, 26), (60, 240)]
    fracdiff_d: float = Field(0.4, gt=0, le=2)
    fracdiff_window: int = Field(256, ge=2, le=100_000)
    micro_window: int = Field(60, ge=3, description="Roll, Amihud, flow, moments")
    flow_windows: list[PosInt] = Field(
        [5, 15],
        description="windows of the per-bar taker imbalance's mean (with taker "
        "volume); [] for none",
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

    events: Literal["all", "cusum"] = "cusum"
    cusum_threshold: float | None = Field(
        None, gt=0, description="CUSUM threshold as a log return; null: vol multiple"
    )
    cusum_vol_mult: float = Field(1.0, gt=0, le=100)
    vol_span: int = Field(100, ge=2, description="EWM span of the barrier volatility")
    pt: float = Field(2.0, gt=0, le=100, description="profit barrier, × volatility")
    sl: float = Field(2.0, gt=0, le=100, description="stop barrier, × volatility")
    horizon: int = Field(
        15, ge=1, le=100_000, description="vertical barrier, bars ahead"
    )
    both_touch: Literal["nearest_to_open", "stop_first", "profit_first"] = (
        "nearest_to_open"
    )
    vertical_label: Literal["zero", "sign"] = "zero"
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

    scheme: Literal["expanding", "rolling"] = "expanding"
    train_bars: int = Field(
        43_200, ge=10, description="first (rolling: every) training window"
    )
    test_bars: int = Field(14_400, ge=1, description="length of each test window")
    embargo_bars: int = Field(
        60, ge=0, description="gap between training and test events"
    )
    val_frac: float = Field(
        0.15, gt=0, lt=0.9, description="validation slice, end of training"
    )
    stress_periods: list[StressPeriod] = Field(
        [],
        description="periods kept out of sample: the first training window ends "
        "before the earliest one starts",
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

    arch: Literal["mlp", "conv", "gru"] = "mlp"
    hidden: list[PosInt] = Field([64, 32], min_length=1)
    window: int = Field(32, ge=2, le=4096, description="bars seen by conv/gru")
    dropout: float = Field(0.1, ge=0, lt=1)
    lr: float = Field(1e-3, gt=0, le=1)
    weight_decay: float = Field(1e-4, ge=0)
    batch_size: int = Field(256, ge=8)
    max_epochs: int = Field(30, ge=1, le=10_000)
    patience: int = Field(4, ge=1)


class MetaParams(Strict):
    """The meta model on meta-labels (bet sizing)."""

    kind: Literal["logistic", "gbt"] = "logistic"
    min_events: int = Field(200, ge=10, description="fewer: size from the primary")
    auc_margin: float = Field(
        0.02,
        ge=0,
        lt=0.5,
        description="used only when its out-of-sample AUC over the training folds "
        "exceeds 0.5 + this",
    )


class CalibrationParams(Strict):
    """Post-hoc calibration of every model's probabilities, per fold."""

    method: Literal["bias_temperature", "platt", "isotonic", "none"] = (
        "bias_temperature"
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
        description="a fold's model whose calibrated probabilities do not beat the "
        "prior on the hold-out by BIC's price predicts the prior",
    )


class ModelParams(Strict):
    """Walk-forward models; ``kind`` picks what feeds market making."""

    kind: Literal["primary", "logistic", "gbt", "ensemble", "prior"] = "primary"
    seed: int = Field(0, ge=0)
    threads: int = Field(2, ge=1, le=256)
    class_balance: bool = Field(
        False,
        description="class weights in training (calibration comes after); off: "
        "measured worse before calibration on every shared real dataset",
    )
    progress: bool = True
    cv: CVParams = CVParams()
    net: NetParams = NetParams()
    gbt_iter: int = Field(150, ge=1, le=10_000)
    meta: MetaParams = MetaParams()
    calibration: CalibrationParams = CalibrationParams()


class MMParams(Strict):
    """GLFT market making. Prices in USDT, time in seconds, sizes in ETH."""

    gamma: float = Field(0.05, gt=0, le=100, description="risk aversion, 1/USDT")
    spread_scale: float = Field(1.0, gt=0, le=100)
    skew_scale: float = Field(1.0, ge=0, le=100)
    alpha_weight: float = Field(4.0, ge=0, le=100, description="0: plain GLFT")
    drift: Literal["alpha", "glft"] = Field(
        "alpha",
        description="how the signal moves the quotes: alpha shifts both by its "
        "expected move (a short-lived alpha); glft by GLFT's constant-drift term",
    )
    fee_in_spread: bool = Field(
        True, description="widen each half spread by the venue's maker fee × mid"
    )
    max_inventory: float = Field(5.0, gt=0, le=1e6, description="in order sizes")
    order_size: float = Field(1.0, gt=0, le=1e5, description="ETH")
    sizing: Literal["fixed", "vol_target", "bet_size"] = "fixed"
    vol_target_usd: float = Field(
        2000.0, gt=0, description="daily USD volatility of one order"
    )
    levels: int = Field(1, ge=1, le=20)
    level_spacing: float = Field(0.5, ge=0, le=1e5, description="USDT between levels")
    level_size_mult: float = Field(1.0, gt=0, le=10)
    range_width: int = Field(
        1, ge=1, le=1000,
        description="uniswap_v3: tick spacings per range order (each level's range)",
    )  # fmt: skip
    tick: float = Field(0.01, gt=0, le=1e3, description="USDT")
    calib_window: int = Field(1440, ge=10, description="bars")
    calib_every: int = Field(60, ge=1, description="bars between recalibrations")
    sigma: float | None = Field(None, gt=0, description="fixed, USDT/√s")
    A: float | None = Field(None, gt=0, description="fixed, fills/s per side")
    k: float | None = Field(None, gt=0, description="fixed, 1/USDT")


class BacktestParams(Strict):
    """The execution model. Unset (null) costs and clocks come from the venue
    preset (:data:`ethpredict.venues.PRESETS`); a value set here wins."""

    venue: Literal[
        "auto", "cex_spot", "cex_perp", "cex_mm", "onchain_clob", "uniswap_v3"
    ] = Field("auto", description="auto: the venue of the data (exchange or pool)")
    block_time_s: float | None = Field(
        None, ge=0, le=3600, description="decision clock; 0: every bar (no blocks)"
    )
    latency_s: float | None = Field(None, ge=0, le=3600)
    requote_threshold: float = Field(50.0, ge=0, description="ticks")
    gas_units: float | None = Field(None, ge=0, le=1e8, description="per order action")
    gas_price_gwei: float | None = Field(None, ge=0, le=1e6)
    gas_price_path: str | None = Field(
        None,
        description="gas price series (CSV/Parquet/Feather/JSON; per block or "
        "per minute; ethpredict.io.gas); when set it replaces gas_price_gwei",
    )
    maker_fee_bps: float | None = Field(
        None, ge=-10_000, le=100, description="negative: rebate (a pool's fee tier)"
    )
    taker_fee_bps: float | None = Field(None, ge=0, le=100)
    post_only: bool = Field(
        True, description="an order marketable on arrival is rejected (else a taker)"
    )
    max_participation: float = Field(
        0.1, gt=0, le=1, description="a bar's fills ≤ this × the bar's volume"
    )
    fill_model: Literal["touch", "intensity"] = "touch"
    through_ticks: float = Field(1.0, ge=0, description="touch: trade through by")
    seed: int = Field(0, ge=0)
    markouts: list[PosInt] = Field([1, 5, 15], min_length=1)
    # --- uniswap_v3: range orders (docs/market_making.md)
    range_requote: float = Field(
        1.0, ge=0, description="grid steps a range must move before it is re-minted"
    )
    lp_gas_path: Literal["position_manager", "direct"] = Field(
        "position_manager",
        description="gas defaults: Uniswap's NonfungiblePositionManager, or a "
        "contract that calls the pool directly",
    )
    gas_mint: float | None = Field(None, ge=0, description="null: lp_gas_path's")
    gas_burn: float | None = Field(None, ge=0, description="decreaseLiquidity")
    gas_collect: float | None = Field(None, ge=0)
    gas_swap: float | None = Field(None, ge=0, description="the risk stop's swap")
    p_miss: float = Field(
        0.0, ge=0, lt=1, description="a transaction misses each block with this "
        "probability (seeded by backtest.seed)",
    )  # fmt: skip
    baseline_range_pct: float = Field(
        5.0, gt=0, le=1000, description="the static ±x % range baseline"
    )
    baseline_capital_usd: float | None = Field(
        None, gt=0, description="capital of the passive baselines; null: 2 × "
        "mm.order_size × the first quoted price",
    )  # fmt: skip


class RiskParams(Strict):
    """Risk limits and how risk is measured."""

    max_drawdown: float | None = Field(
        20_000.0, gt=0, le=1e12, description="USD; null: off"
    )
    max_var: float | None = Field(
        None, gt=0, le=1e12, description="USD, 1-day 99 % VaR cap"
    )
    periods_per_year: int = Field(365, ge=1, description="daily PnL, crypto calendar")
    interval_level: float = Field(
        0.95, gt=0, lt=1, description="block-bootstrap intervals of PnL and Sharpe"
    )
    bootstrap_resamples: int = Field(2000, ge=0, le=1_000_000, description="0: none")
    bootstrap_block_days: int | None = Field(
        None, ge=1, description="null: round(days^(1/3))"
    )
    bootstrap_seed: int = Field(0, ge=0)


class ReportParams(Strict):
    """The run report."""

    max_points: int = Field(
        2000, ge=50, le=100_000, description="time buckets per series"
    )
    mlflow_copy: bool = Field(
        False, description="also log report.html (~7 MB) as an artefact of the run"
    )


class DownloadParams(Strict):
    """Binance public data archive download (``kedro run --pipeline=download``)."""

    base_url: str = Field("https://data.binance.vision", pattern=r"^https?://\S+$")
    market: Literal["spot", "um", "cm"] = "spot"
    symbol: str = Field("ETHUSDT", pattern=r"^[A-Z0-9]{2,20}$")
    interval: Interval = "1m"
    period: Literal["monthly", "daily"] = "monthly"
    start: str = Field("2024-01", description="YYYY-MM (monthly) or YYYY-MM-DD")
    end: str = Field("2024-03", description="inclusive, same form as start")
    dest: str = "data/01_raw/binance"
    timeout_s: float = Field(60.0, gt=0, le=3600)
    retries: int = Field(3, ge=0, le=20)

    @model_validator(mode="after")
    def _dates(self) -> DownloadParams:
        form = r"^\d{4}-\d{2}$" if self.period == "monthly" else r"^\d{4}-\d{2}-\d{2}$"
        for name in ("start", "end"):
            value = getattr(self, name)
            if not re.match(form, value):
                want = "YYYY-MM" if self.period == "monthly" else "YYYY-MM-DD"
                raise ValueError(
                    f"download.{name} must be {want} for {self.period} files, "
                    f"got '{value}'"
                )
        if self.end < self.start:
            raise ValueError(
                f"download.end ({self.end}) is before download.start ({self.start})"
            )
        return self


_BLOCK_OR_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?(Z|[+-]00:?00)?)?$"
)


class RpcParams(Strict):
    """A Uniswap v3 pool's logs and the per-block table from a JSON-RPC node
    (``kedro run --pipeline=download_pool``)."""

    url: str | None = Field(
        None, pattern=r"^https?://\S+$", description="the node; null: url_credentials"
    )
    url_credentials: str | None = Field(
        None, description="a key of credentials.yml whose `url` is the node's URL"
    )
    pool: str | None = Field(None, pattern=r"^0x[0-9a-fA-F]{40}$")
    start: int | str | None = Field(
        None, description="first block, or a UTC date/time (its first block)"
    )
    end: int | str | None = Field(
        None, description="last block (inclusive), or a UTC date (its last block)"
    )
    confirmations: int = Field(64, ge=0, le=100_000, description="blocks behind head")
    batch_size: int = Field(100, ge=1, le=1000, description="requests per HTTP batch")
    max_range: int = Field(2000, ge=1, le=1_000_000, description="blocks per getLogs")
    dest: str | None = Field(None, description="null: data/01_raw/uniswap_v3/<pool>")
    timeout_s: float = Field(30.0, gt=0, le=3600)
    retries: int = Field(5, ge=0, le=20)

    @field_validator("pool", mode="before")
    @classmethod
    def _hex_address(cls, value: Any) -> Any:
        # --params=rpc.pool=0x88e6… is read as a YAML hex number
        return f"0x{value:040x}" if isinstance(value, int) and value >= 0 else value

    @model_validator(mode="after")
    def _range(self) -> RpcParams:
        if self.url and self.url_credentials:
            raise ValueError("set rpc.url or rpc.url_credentials, not both")
        for name in ("start", "end"):
            v = getattr(self, name)
            if isinstance(v, int) and v < 0:
                raise ValueError(f"rpc.{name} must be a block number ≥ 0, got {v}")
            if isinstance(v, str) and not (v.isdigit() or _BLOCK_OR_DATE.match(v)):
                raise ValueError(
                    f"rpc.{name} must be a block number or a UTC date "
                    f"(YYYY-MM-DD[THH:MM[:SS]]), got '{v}'"
                )
        s, e = self.start, self.end
        if isinstance(s, int) and isinstance(e, int) and e < s:
            raise ValueError(f"rpc.end ({e}) is before rpc.start ({s})")
        return self


class Distribution(Strict):
    """One swept parameter: ``float`` / ``int`` between ``low`` and ``high``
    (optionally ``log`` scale or a ``step``), or ``categorical`` ``choices``."""

    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    step: float | None = Field(None, gt=0)
    log: bool = False
    choices: list[Any] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> Distribution:
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical distribution needs choices: [..]")
            if self.low is not None or self.high is not None:
                raise ValueError(
                    "a categorical distribution takes choices, not low/high"
                )
            return self
        if self.choices is not None:
            raise ValueError(f"a {self.type} distribution takes low/high, not choices")
        if self.low is None or self.high is None:
            raise ValueError(f"a {self.type} distribution needs low and high")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"log scale needs low > 0, got {self.low}")
        if self.log and self.step is not None:
            raise ValueError("log scale and step cannot be combined")
        if self.type == "int" and (
            self.low != int(self.low) or self.high != int(self.high)
        ):
            raise ValueError("an int distribution needs whole low and high")
        return self

    def grid(self) -> list[Any] | None:
        """Every value a grid sampler visits, or None if not finite."""
        if self.type == "categorical":
            return list(self.choices or [])
        step = (
            self.step if self.step is not None else (1 if self.type == "int" else None)
        )
        if step is None:
            return None
        n = round((self.high - self.low) / step)
        values = [
            self.low + i * step
            for i in range(n + 1)
            if self.low + i * step <= self.high + 1e-12
        ]
        return [round(v) for v in values] if self.type == "int" else values


class SweepParams(Strict):
    """An Optuna study over dotted parameter names (``kedro run
    --params=sweep.n_trials:1000``). Without ``n_trials`` a run is ordinary."""

    n_trials: int | None = Field(None, ge=1, description="complete trials wanted")
    sampler: Literal["grid", "random", "tpe"] = "tpe"
    seed: int = Field(0, ge=0)
    timeout_s: float | None = Field(None, gt=0, description="stop asking after this")
    objectives: dict[str, Literal["maximize", "minimize"]] = Field(
        {"backtest.sharpe": "maximize"}, min_length=1, description="metrics.json keys"
    )
    space: dict[str, Distribution] = Field(
        default_factory=dict, description="a key set to null is not swept"
    )
    n_jobs: int = Field(1, ge=1, le=64, description="worker processes on this machine")
    storage: str | None = Field(None, description="null: sqlite under data/09_tracking")
    storage_credentials: str | None = Field(
        None, description="a key of credentials.yml whose `con` is the storage URL"
    )
    study_name: str | None = Field(None, pattern=r"^[A-Za-z0-9_.:-]{1,100}$")
    max_failures: int | None = Field(None, ge=1, description="null: n_trials")
    mlflow_trials: int = Field(20, ge=0, description="best trials as nested runs")
    report_rows: int = Field(100, ge=1, le=100_000)
    trial_baseline: bool | None = Field(
        None,
        description="the no-signal book in each trial; null: when an objective needs it",
    )

    @model_validator(mode="after")
    def _one_storage(self) -> SweepParams:
        if self.storage and self.storage_credentials:
            raise ValueError("set storage or storage_credentials, not both")
        return self

    @field_validator("space", mode="before")
    @classmethod
    def _unset_keys(cls, value: Any) -> Any:
        # conf/local merges into conf/base key by key: null removes a base key
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if v is not None}
        return value

    def baseline_in_trials(self) -> bool:
        """Whether each trial also books the same quotes without the signal:
        as set, or (null) when an objective is a ``baseline.*`` or
        ``signal_added.*`` key."""
        if self.trial_baseline is not None:
            return self.trial_baseline
        return any(
            k.startswith(("baseline.", "signal_added.")) for k in self.objectives
        )


class Parameters(Strict):
    """The whole parameter tree: one namespace per concern."""

    data: DataParams = DataParams()
    features: FeaturesParams = FeaturesParams()
    labels: LabelsParams = LabelsParams()
    model: ModelParams = ModelParams()
    mm: MMParams = MMParams()
    backtest: BacktestParams = BacktestParams()
    risk: RiskParams = RiskParams()
    report: ReportParams = ReportParams()
    download: DownloadParams = DownloadParams()
    sweep: SweepParams = SweepParams()
    rpc: RpcParams = RpcParams()

    @model_validator(mode="after")
    def _reference_features(self) -> Parameters:
        # across namespaces: only when both were given (coerce checks one alone)
        given = {"data", "features"} <= self.model_fields_set
        if given and "reference" in self.features.sets and not self.data.has_reference:
            raise ValueError(
                "features.sets includes 'reference' but there is no reference: set "
                "data.reference.path (an exchange's klines, OHLCV or trade captures) "
                "or drop 'reference' from features.sets"
            )
        return self

    @model_validator(mode="after")
    def _sweep_space(self) -> Parameters:
        for key in self.sweep.space:
            if key.split(".")[0] in {"sweep", "download"}:
                raise ValueError(f"sweep.space: {key} cannot be swept")
            if not _is_leaf(type(self), key.split(".")):
                raise ValueError(
                    f"sweep.space: {key} is not a parameter (a dotted name such as "
                    "mm.gamma)"
                )
        if self.sweep.sampler == "grid":
            for key, dist in self.sweep.space.items():
                if dist.grid() is None:
                    raise ValueError(
                        f"sweep.space: {key} needs a step or choices for the grid sampler"
                    )
        if self.sweep.n_trials is not None and not self.sweep.space:
            raise ValueError("sweep.space is empty: nothing to sweep")
        return self


def _is_leaf(model: type[BaseModel], path: list[str]) -> bool:
    """True if ``path`` names a field of ``model`` that holds a value (not a
    namespace)."""
    field = model.model_fields.get(path[0])
    if field is None:
        return False
    ann = field.annotation
    nested = isinstance(ann, type) and issubclass(ann, BaseModel)
    if len(path) == 1:
        return not nested
    return nested and _is_leaf(ann, path[1:])


def _allowed(model: type[BaseModel], loc: tuple) -> str:
    """Describe the keys allowed at the parent of ``loc`` in ``model``."""
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        ann = getattr(field, "annotation", None)
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return ""
        model = ann
    return "allowed keys: " + ", ".join(model.model_fields)


def format_validation_error(exc: ValidationError, root: type[BaseModel]) -> str:
    """One line per problem: dotted key, the value given, what is allowed."""
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc) or "(root)"
        if err["type"] == "extra_forbidden":
            lines.append(
                f"unknown parameter {key} = {err['input']!r}; {_allowed(root, loc)}"
            )
        elif err["type"] == "value_error":
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(
                msg if not loc or msg.startswith(key) else f"parameter {key}: {msg}"
            )
        else:
            lines.append(
                f"parameter {key} = {err['input']!r}: {err['msg'][0].lower()}"
                f"{err['msg'][1:]}"
            )
    return "invalid parameters:\n  - " + "\n  - ".join(lines)


def validate_parameters(raw: dict[str, Any]) -> Parameters:
    """Validate the whole parameter tree.

    Raises:
        ParameterError: naming every bad dotted key, its value and what is
            allowed.
    """
    try:
        return Parameters.model_validate(raw or {})
    except ValidationError as exc:
        raise ParameterError(format_validation_error(exc, Parameters)) from None


def coerce(model: type[Strict], value: Any, namespace: str) -> Any:
    """Return ``value`` (a dict or a ``model``) as a validated ``model``.

    Nodes call this so that they also work outside a Kedro session (tests,
    sweeps) where Kedro's own validation of ``params:`` inputs does not run.
    """
    if isinstance(value, model):
        return value
    return getattr(validate_parameters({namespace: value}), namespace)
