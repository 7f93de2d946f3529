"""Venue presets: the clock and the costs of the market the data comes from.

``backtest.venue: auto`` maps exchange candles and trade captures to
``cex_spot`` or ``cex_perp`` (a perpetual file, or a USD-M / COIN-M capture),
the embedded market to ``cex_mm``
and pool data to ``uniswap_v3``; every field of a preset can be overridden by
the ``backtest`` parameter of the same name.

| preset | clock | latency | maker / taker | gas per order action |
|---|---|---|---|---|
| ``cex_spot`` | every bar | 0 s | 10 / 10 bp (Binance spot, regular tier) | none |
| ``cex_perp`` | every bar | 0 s | 2 / 5 bp (Binance USD-M, regular tier) + funding | none |
| ``cex_mm`` | every bar | 0 s | 0 / 1.7 bp (a maker's tier: Binance USD-M VIP 9) | none |
| ``onchain_clob`` | 0.25 s blocks (Arbitrum) | 0.25 s | 0 / 5 bp | 150k gas at 0.01 gwei |
| ``uniswap_v3`` | the pool's blocks | 1 s | the fee tier, earned | per LP action, 5 gwei |

On ``uniswap_v3`` a quote is a range position (:mod:`ethpredict.core.pool`)
and gas is per LP action, from Uniswap's own gas snapshots
(``LP_GAS``): through the NonfungiblePositionManager a mint costs
345–450k gas, ``decreaseLiquidity`` ≈ 149k and ``collect`` ≈ 119k; a
contract that calls the pool directly pays ≈ 310–330k / 66k / 36k
(``backtest.lp_gas_path``; ``backtest.gas_mint`` … override). A requote is a
burn, a collect and a mint.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass

import pandas as pd

from ethpredict.errors import ParameterError
from ethpredict.params import BacktestParams
from ethpredict.timeaxis import epoch_ns

log = logging.getLogger(__name__)

#: What each preset sets (block_time_s ``None`` on a pool: the pool's own).
PRESETS: dict[str, dict] = {
    "cex_spot": {
        "block_time_s": 0.0,
        "latency_s": 0.0,
        "maker_fee_bps": 10.0,
        "taker_fee_bps": 10.0,
        "gas_units": 0.0,
        "gas_price_gwei": 0.0,
    },
    "cex_perp": {
        "block_time_s": 0.0,
        "latency_s": 0.0,
        "maker_fee_bps": 2.0,
        "taker_fee_bps": 5.0,
        "gas_units": 0.0,
        "gas_price_gwei": 0.0,
    },
    "cex_mm": {
        "block_time_s": 0.0,
        "latency_s": 0.0,
        "maker_fee_bps": 0.0,
        "taker_fee_bps": 1.7,
        "gas_units": 0.0,
        "gas_price_gwei": 0.0,
    },
    "onchain_clob": {
        "block_time_s": 0.25,
        "latency_s": 0.25,
        "maker_fee_bps": 0.0,
        "taker_fee_bps": 5.0,
        "gas_units": 150_000.0,
        "gas_price_gwei": 0.01,
    },
    "uniswap_v3": {
        "block_time_s": None,
        "latency_s": 1.0,
        "maker_fee_bps": None,
        "taker_fee_bps": None,
        "gas_units": 0.0,
        "gas_price_gwei": 5.0,
    },
}
#: gas units per LP action by ``backtest.lp_gas_path`` (the risk stop's swap:
#: a router's exactInputSingle, ≈ 110–130k)
LP_GAS = {
    "position_manager": {
        "gas_mint": 400_000.0,
        "gas_burn": 149_000.0,
        "gas_collect": 119_000.0,
        "gas_swap": 130_000.0,
    },
    "direct": {
        "gas_mint": 320_000.0,
        "gas_burn": 66_000.0,
        "gas_collect": 36_000.0,
        "gas_swap": 110_000.0,
    },
}
#: the data's market (``bars.attrs["venue"]``) -> the ``auto`` preset
AUTO = {
    "spot": "cex_spot",
    "perpetual": "cex_perp",
    "uniswap_v3": "uniswap_v3",
    "synthetic": "cex_mm",
}
OVERRIDABLE = tuple(PRESETS["cex_spot"])


@dataclass(frozen=True)
class Venue:
    """The resolved execution settings of one backtest.

    Attributes:
        name: The preset.
        block_time_s: Quotes change only at block boundaries; 0: at every bar.
        latency_s: From a decision to the order reaching the venue.
        maker_fee_bps: Per maker fill; negative is earned (a pool's fee tier).
        taker_fee_bps: Per taker fill (marketable orders, the risk stop).
        gas_units: Per order action (place, replace, cancel); 0 off-chain.
        gas_price_gwei: Gas price, so gas per action is units × price ETH.
        log_tick: 0, or the pool's tick spacing × ln 1.0001 (its price grid).
        funding: Whether funding rates enter the book.
        overridden: The fields that ``backtest`` parameters set.
        gas_mint, gas_burn, gas_collect, gas_swap: Gas units per LP action
            (``uniswap_v3`` only; 0 elsewhere).
        gas_price_path: The gas-price series, when one is given.
    """

    name: str
    block_time_s: float
    latency_s: float
    maker_fee_bps: float
    taker_fee_bps: float
    gas_units: float
    gas_price_gwei: float
    log_tick: float
    funding: bool
    overridden: tuple[str, ...] = ()
    gas_mint: float = 0.0
    gas_burn: float = 0.0
    gas_collect: float = 0.0
    gas_swap: float = 0.0
    gas_price_path: str | None = None

    @property
    def gas_eth(self) -> float:
        """Gas per order action in ETH."""
        return self.gas_units * self.gas_price_gwei * 1e-9

    def as_dict(self) -> dict:
        """The fields as a JSON-ready dict (the book's ``venue_settings``).

        Returns:
            Every field (``overridden`` as a list), ``gas_eth_per_action``
            (:attr:`gas_eth`, ETH per order action) and ``description``
            (:meth:`describe`).
        """
        out = asdict(self)
        out["overridden"] = list(self.overridden)
        out["gas_eth_per_action"] = self.gas_eth
        out["description"] = self.describe()
        return out

    def describe(self) -> str:
        """One line for the log and the report."""
        clock = (
            f"{self.block_time_s:g} s blocks" if self.block_time_s > 0 else "every bar"
        )
        price = (
            f"gas prices from {self.gas_price_path}"
            if self.gas_price_path
            else f"{self.gas_price_gwei:g} gwei"
        )
        if self.name == "uniswap_v3":
            gas = (
                f"gas per mint {self.gas_mint:,.0f}, burn {self.gas_burn:,.0f}, "
                f"collect {self.gas_collect:,.0f}, swap {self.gas_swap:,.0f} at {price}"
            )
        elif self.gas_eth > 0:
            gas = f"gas {self.gas_units:,.0f} × {price} per order action"
        else:
            gas = "no gas"
        fees = (
            f"the fee tier {-self.maker_fee_bps:g} bp earned as an LP, paid by the "
            "stop's swap"
            if self.name == "uniswap_v3"
            else f"maker {self.maker_fee_bps:g} bp, taker {self.taker_fee_bps:g} bp"
        )
        parts = [
            f"venue {self.name}: decisions {clock}, latency {self.latency_s:g} s",
            fees,
            gas,
        ]
        if self.log_tick > 0:
            parts.append(f"a {math.expm1(self.log_tick) * 1e4:.1f} bp price grid")
        if self.funding:
            parts.append("funding in PnL")
        if self.overridden:
            parts.append("set by parameters: " + ", ".join(self.overridden))
        return "; ".join(parts)


def preset_name(bars: pd.DataFrame, venue: str) -> str:
    """The preset ``backtest.venue`` names for these bars (``auto``: theirs)."""
    if venue != "auto":
        return venue
    return AUTO.get(bars.attrs.get("venue", "spot"), "cex_spot")


def maker_fee(bars: pd.DataFrame, venue: str, maker_fee_bps: float | None) -> float:
    """The maker fee of an order-book venue (what the quotes widen by).

    Args:
        bars: The bars (their ``attrs["venue"]`` resolves ``auto``).
        venue: ``backtest.venue``.
        maker_fee_bps: ``backtest.maker_fee_bps`` in basis points (None: the
            preset's).

    Returns:
        The fee as a fraction of the price (bps × 1e-4). 0 on a pool: a
        range earns the fee tier instead (:mod:`ethpredict.lp`).
    """
    name = preset_name(bars, venue)
    if name == "uniswap_v3":
        return 0.0
    bps = PRESETS[name]["maker_fee_bps"] if maker_fee_bps is None else maker_fee_bps
    return float(bps) * 1e-4


def venue_of(bars: pd.DataFrame, bp: BacktestParams) -> Venue:
    """Resolve the :class:`Venue` from the bars' ``attrs`` and ``backtest``.

    Args:
        bars: The bars; ``attrs`` ``venue`` (the data's market), and on a
            pool ``fee_bps`` (the fee tier, basis points), ``block_time_s``
            (12 s when absent) and ``tick_spacing``; a ``funding_rate``
            column enables funding on ``cex_perp``.
        bp: The ``backtest`` parameters (``venue`` and the overrides, fees
            in basis points, gas in units and gwei).

    Returns:
        The venue. On ``uniswap_v3`` the maker fee is the negated fee tier
        (earned) and the taker fee the tier; ``log_tick`` is the tick
        spacing × ln 1.0001 on a pool, else 0.

    Raises:
        ParameterError: ``uniswap_v3`` on bars not from a pool;
            ``backtest.gas_price_path`` on another venue; or
            ``backtest.gas_units`` on ``uniswap_v3``.
    """
    name = preset_name(bars, bp.venue)
    pool = bars.attrs.get("venue", "spot") == "uniswap_v3"
    if name == "uniswap_v3" and not pool:
        raise ParameterError(
            "parameter backtest.venue = 'uniswap_v3' needs bars from a Uniswap v3 "
            "pool (data.source: uniswap_v3); these come from "
            f"'{bars.attrs.get('source', 'unknown')}' — for exchange prices with "
            "on-chain costs use backtest.venue=onchain_clob"
        )
    preset = dict(PRESETS[name])
    if name == "uniswap_v3":
        tier = float(bars.attrs.get("fee_bps", 0.0))
        preset.update(
            maker_fee_bps=-tier,
            taker_fee_bps=tier,
            block_time_s=float(bars.attrs.get("block_time_s") or 12.0),
        )
    overridden = tuple(k for k in OVERRIDABLE if getattr(bp, k) is not None)
    for key in overridden:
        preset[key] = float(getattr(bp, key))
    has_rates = "funding_rate" in bars
    if name == "cex_perp" and not has_rates:
        log.warning(
            "A perpetual without funding rates: funding is not in the PnL (set "
            "data.market=perpetual and data.funding_path to include it)"
        )
    spacing = float(bars.attrs.get("tick_spacing", 0)) if pool else 0.0
    lp = {}
    if name != "uniswap_v3" and bp.gas_price_path:
        raise ParameterError(
            "parameter backtest.gas_price_path is a gas price series for the "
            f"uniswap_v3 venue; on {name} set backtest.gas_price_gwei"
        )
    if name == "uniswap_v3":
        if bp.gas_units is not None:
            raise ParameterError(
                "parameter backtest.gas_units is per order action of an order book; "
                "on uniswap_v3 set backtest.gas_mint, gas_burn, gas_collect or "
                "gas_swap (or backtest.lp_gas_path)"
            )
        lp = dict(LP_GAS[bp.lp_gas_path])
        for key in lp:
            if getattr(bp, key) is not None:
                lp[key] = float(getattr(bp, key))
                overridden += (key,)
        lp["gas_price_path"] = bp.gas_price_path
    return Venue(
        name=name,
        log_tick=spacing * math.log(1.0001),
        funding=name == "cex_perp" and has_rates,
        overridden=overridden,
        **{k: float(v) for k, v in preset.items()},
        **lp,
    )


def activation_delay(
    bars: pd.DataFrame, block_time_s: float, latency_s: float, bar_s: float
) -> int:
    """Whole bars between a bar's close and the first bar that an order
    decided at that close is live for from its start.

    The order reaches the venue ``latency_s`` after the close and, on a block
    clock, lands at the first block boundary at or after that; a bar it lands
    inside of is still traded against the old quote. Off-chain
    (``block_time_s`` 0) only the latency counts.

    Args:
        bars: The bars (the first bar's time sets the blocks' phase, on the
            epoch).
        block_time_s: The block time in seconds (0: off-chain, no blocks).
        latency_s: From a decision to the order reaching the venue, seconds.
        bar_s: The bar length in seconds.

    Returns:
        The delay in whole bars (≥ 0).
    """
    if block_time_s > 0:
        close_s = epoch_ns(bars.index)[0] / 1e9 + bar_s
        offset = close_s % block_time_s
        lag = (
            math.ceil((latency_s + offset) / block_time_s - 1e-9) * block_time_s
            - offset
        )
    else:
        lag = latency_s
    return max(0, math.ceil(lag / bar_s - 1e-9))
