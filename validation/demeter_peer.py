"""The peer side of issue 14's LP cross-check: static Uniswap v3 range
positions on the shared 0.05 % USDC/WETH pool day (2024-01-05), run in
zelos-demeter, with the numbers a second program needs to rebuild the same
position (ticks, raw liquidity, mint minute and price, amounts).

Runs in demeter's own virtualenv (it pins nothing we share, but it is not in
the project's dependencies and this script must not import ethpredict)::

    python3.11 -m venv /work/venv-demeter
    /work/venv-demeter/bin/pip install zelos-demeter==1.3.0
    /work/venv-demeter/bin/python validation/demeter_peer.py --out demeter_peer.json

The committed fixture ``validation/demeter_2024-01-05.json`` (read by
``validation/demeter_crosscheck.py`` and its test, which need no demeter) is
``--fixture --out validation/demeter_2024-01-05.json``: the same records
without the per-minute fee arrays.

Cases (one JSON object each): ±5 %, ±0.5 % around the start price, and the
full range, each funded with ``CAPITAL`` USDC worth of USDC and WETH in the
proportion the range needs at the mint price (demeter's ``estimate_amount``,
so no swap and no swap fee), minted in the first minute with
``add_liquidity_by_tick`` and held to the end of the day without rebalancing.

How demeter models it (1.3.0; details and line numbers in
``validation/demeter_fee_rule.py``, which re-derives the fee in numpy and is
checked here against demeter to 1e-9):

* Fees are booked per *minute*, not per swap: fee_rate × the minute's gross
  input volume (``inAmount0``/``inAmount1``) × L / (currentLiquidity + L) ×
  a weight from the previous and current close ticks only (1 if both inside,
  0 if both outside on the same side, the in-range share of the tick path
  last close → close if they are on different sides). Intra-minute highs and
  lows are ignored. Our own L dilutes the pool's liquidity.
* Value is marked at the pool's price at the *start* of the minute: the
  ``price`` column is the previous minute's close tick
  (``uniswap/helper.py:434-438``); the end-of-day net value is therefore at
  the close of 23:58, while the 23:59 fees are included.
* Fees accrue as ``pending_amount0/1`` (whole tokens, Decimal); the position's
  net value is the liquidity's amounts plus pending fees, both valued at that
  price (``uniswap/market.py:301-344``).

Deterministic: demeter's on-disk data cache (``~/.demeter``, keyed by pool and
dates but not by folder) is bypassed; no randomness is involved.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import math
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demeter_fee_rule import demeter_fees, intrabar_blind_spots, read_minutes

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "../shared/data/real/uniswap-v3/ethereum-usdc-weth-005-2024-01-05"
CHAIN = "ethereum"
POOL = "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"
DAY = date(2024, 1, 5)
FEE_PERCENT = 0.05
CAPITAL = Decimal(10_000)  # USDC worth minted
START = 0  # mint minute (row of the day)
MAX_TICK = 887270  # the largest usable tick at spacing 10
#: (name, half width as a fraction of the start price; None = full range)
CASES: tuple[tuple[str, float | None], ...] = (
    ("range_5pct", 0.05),
    ("range_0.5pct", 0.005),
    ("full_range", None),
)


@dataclass(frozen=True)
class Case:
    name: str
    half_width: float | None


class _NoCache:
    """Stands in for demeter's ``CacheManager`` (``~/.demeter``): its key has
    no data folder in it, so a cached frame could come from another copy."""

    @staticmethod
    def get_cache_key(*args, **kwargs):
        return None

    @staticmethod
    def load(key):
        return None

    @staticmethod
    def save(key, df):
        return None


def minute_file(data_dir: Path) -> Path:
    return data_dir / f"{CHAIN}-{POOL}-{DAY:%Y-%m-%d}.minute.csv.gz"


def load_market_data(data_dir: Path, pool_info):
    """The day through demeter's own loader (fill, price columns): it wants an
    uncompressed ``<chain>-<pool>-<day>.minute.csv``, so one is written to a
    temporary folder first."""
    from demeter.uniswap import helper

    helper.CacheManager = _NoCache
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / f"{CHAIN}-{POOL}-{DAY:%Y-%m-%d}.minute.csv"
        with gzip.open(minute_file(data_dir), "rb") as src, dst.open("wb") as out:
            shutil.copyfileobj(src, out)
        return helper.load_uni_v3_data(pool_info, CHAIN, POOL, DAY, DAY, tmp)


def ticks_for(market, case: Case, price: Decimal) -> tuple[int, int]:
    """Ticks of ``price × (1 ± half_width)``, snapped to the spacing by
    demeter's ``price_to_tick`` (nearest usable tick). token0 is the quote
    (USDC), so a higher ETH price is a lower tick."""
    if case.half_width is None:
        return -MAX_TICK, MAX_TICK
    hw = Decimal(str(case.half_width))
    a = market.price_to_tick(price * (1 - hw))
    b = market.price_to_tick(price * (1 + hw))
    return min(a, b), max(a, b)


def run_case(data_dir: Path, case: Case) -> dict:
    """One static position through demeter's actuator; returns the record."""
    from demeter import Actuator, MarketInfo, Strategy, TokenInfo
    from demeter.uniswap import UniLpMarket, UniV3Pool
    from demeter.uniswap.core import V3CoreLib
    from demeter.uniswap.helper import (
        base_unit_price_to_sqrt_price_x96,
        tick_to_base_unit_price,
        tick_to_sqrt_price_x96,
    )

    usdc, weth = TokenInfo(name="usdc", decimal=6), TokenInfo(name="weth", decimal=18)
    pool = UniV3Pool(token0=usdc, token1=weth, fee=FEE_PERCENT, quote_token=usdc)
    key = MarketInfo("uni")
    rec: dict = {"case": case.name, "half_width": case.half_width}
    per_minute: list[tuple[Decimal, Decimal]] = []

    class StaticRange(Strategy):
        def on_bar(self, snapshot):
            if snapshot.row_id != START:
                return
            market = self.markets[key]
            price = market.market_status.data.price  # start of the minute
            lower, upper = ticks_for(market, case, price)
            amount0, amount1 = market.estimate_amount(CAPITAL, lower, upper)
            self.broker.set_balance(usdc, amount0)  # fund exactly what it needs
            self.broker.set_balance(weth, amount1)
            sqrt_x96 = base_unit_price_to_sqrt_price_x96(price, 6, 18, True)
            # demeter's argument order is (base = WETH, quote = USDC), and so is its result
            _, used1, used0, liq = market.add_liquidity_by_tick(
                lower, upper, amount1, amount0, sqrt_price_x96=sqrt_x96
            )
            rec.update(
                start_minute=str(snapshot.timestamp),
                start_index=START,
                tick_lower=lower,
                tick_upper=upper,
                liquidity=int(liq),
                mint_price=float(price),
                mint_sqrt_price_x96=str(sqrt_x96),
                mint_tick_float=math.log(1e12 / float(price)) / math.log(1.0001),
                amount0_funded=float(amount0),
                amount1_funded=float(amount1),
                amount0_minted=float(used0),
                amount1_minted=float(used1),
                value_minted=float(used0 + used1 * price),
            )

        def after_bar(self, snapshot):
            pos = next(iter(self.markets[key].positions.values()), None)
            per_minute.append(
                (pos.pending_amount0, pos.pending_amount1) if pos else (Decimal(0),) * 2
            )

    actuator = Actuator()
    market = UniLpMarket(key, pool)
    actuator.broker.add_market(market)
    market.data = load_market_data(data_dir, pool)
    actuator.set_price(market.get_price_from_data())
    actuator.strategy = StaticRange()
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        actuator.run(print_result=False)

    # the market status is still the last minute's
    status = market.market_status.data
    bal = market.get_market_balance()
    end_price = status.price
    # not a demeter number: the same position marked at the day's final close
    # tick (after 23:59's last swap), with demeter's own amounts math
    last_tick = int(status.closeTick)
    pos_info, pos = next(iter(market.positions.items()))
    a0, a1 = V3CoreLib.get_token_amounts(
        pool, pos_info, tick_to_sqrt_price_x96(last_tick), pos.liquidity
    )
    p_last = tick_to_base_unit_price(last_tick, 6, 18, True)
    fee0 = [float(a) for a, _ in per_minute]
    fee1 = [float(b) for _, b in per_minute]
    rec.update(
        end_minute=str(market.market_status.timestamp),
        end_price=float(end_price),
        end_price_source="demeter 'price' column: close tick of the previous minute",
        end_close_tick=last_tick,
        last_close_price=float(p_last),
        net_value_at_last_close=float(
            a0 + pos.pending_amount0 + (a1 + pos.pending_amount1) * p_last
        ),
        fees0=float(bal.quote_uncollected),  # USDC
        fees1=float(bal.base_uncollected),  # WETH
        fees_value=float(bal.quote_uncollected + bal.base_uncollected * end_price),
        amount0_end=float(bal.quote_in_position),
        amount1_end=float(bal.base_in_position),
        liquidity_value=float(bal.liquidity_value),
        net_value=float(bal.net_value),
        hold_value=rec["amount0_minted"] + rec["amount1_minted"] * float(end_price),
        account_net_value=float(actuator.account_status[-1].net_value),
        fees0_cum_per_minute=fee0,
        fees1_cum_per_minute=fee1,
    )
    return rec


def bridge(data_dir: Path, rec: dict) -> dict:
    """The same fees from ``demeter_fee_rule`` (numpy, no demeter)."""
    minutes = read_minutes(minute_file(data_dir))
    f0, f1, w = demeter_fees(
        minutes,
        rec["tick_lower"],
        rec["tick_upper"],
        rec["liquidity"],
        rec["start_index"],
    )
    d0, d1 = (
        np.diff(rec["fees0_cum_per_minute"], prepend=0.0),
        np.diff(rec["fees1_cum_per_minute"], prepend=0.0),
    )
    return {
        "fees0": float(f0.sum()),
        "fees1": float(f1.sum()),
        "rel_diff_fees0": abs(f0.sum() / rec["fees0"] - 1) if rec["fees0"] else 0.0,
        "rel_diff_fees1": abs(f1.sum() / rec["fees1"] - 1) if rec["fees1"] else 0.0,
        "max_abs_diff_per_minute0": float(np.max(np.abs(f0 - d0))),
        "max_abs_diff_per_minute1": float(np.max(np.abs(f1 - d1))),
        "minutes_full_weight": int((w == 1).sum()),
        "minutes_partial_weight": int(((w > 0) & (w < 1)).sum()),
        "minutes_zero_weight": int((w == 0).sum()),
        **intrabar_blind_spots(minutes, rec["tick_lower"], rec["tick_upper"], w),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data", type=Path, default=DATA, help="the shared pool-day folder"
    )
    ap.add_argument("--out", type=Path, default=Path("demeter_peer.json"))
    ap.add_argument(
        "--fixture",
        action="store_true",
        help="leave out the per-minute fee arrays (the committed fixture "
        "validation/demeter_2024-01-05.json is written this way)",
    )
    args = ap.parse_args(argv)
    import demeter

    cases = []
    for name, hw in CASES:
        rec = run_case(args.data, Case(name, hw))
        rec["bridge"] = bridge(args.data, rec)
        if args.fixture:
            del rec["fees0_cum_per_minute"], rec["fees1_cum_per_minute"]
        cases.append(rec)
    meta = {
        "peer": "zelos-demeter",
        "version": getattr(demeter, "__version__", None) or _dist_version(),
        "data": str(minute_file(args.data).name),
        "pool": POOL,
        "fee_rate": FEE_PERCENT / 100,
        "token0": "USDC (6 decimals, quote)",
        "token1": "WETH (18 decimals)",
        "capital_usdc": float(CAPITAL),
        "price_unit": "USDC per WETH = 1e12 / 1.0001**tick",
        "python": sys.version.split()[0],
        "command": "python validation/demeter_peer.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    args.out.write_text(json.dumps({"meta": meta, "cases": cases}, indent=1) + "\n")
    for c in cases:
        b = c["bridge"]
        print(
            f"{c['case']:>13}: ticks [{c['tick_lower']}, {c['tick_upper']}] L={c['liquidity']} "
            f"fees {c['fees0']:.6f} USDC + {c['fees1']:.9f} WETH = {c['fees_value']:.4f} USDC; "
            f"net {c['net_value']:.4f} (hold {c['hold_value']:.4f}); "
            f"bridge rel diff {b['rel_diff_fees0']:.1e}/{b['rel_diff_fees1']:.1e}"
        )
    return 0


def _dist_version() -> str:
    from importlib.metadata import version

    return version("zelos-demeter")


if __name__ == "__main__":
    raise SystemExit(main())
