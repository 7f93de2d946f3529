"""demeter's per-minute LP fee rule, rewritten in numpy without demeter.

zelos-demeter (1.3.0) does not replay swaps: it books a position's fees once
per minute from demeter-fetch's minute summary (``*.minute.csv``). This module
is that rule on its own, so that demeter's numbers can be explained next to a
swap-by-swap kernel without installing demeter (it needs only numpy and the
standard library, and runs in the project's virtualenv as well as in
demeter's). ``validation/demeter_peer.py`` checks it against demeter itself.

The rule, as read in demeter 1.3.0 (paths relative to the installed
``demeter`` package):

* ``uniswap/core.py:117-166`` (``V3CoreLib.update_fee``), once per minute t
  while the position is live::

      share_t = L / (currentLiquidity_t + L)
      fee0_t  = w_t * inAmount0_t / 10**6  * share_t * fee_rate
      fee1_t  = w_t * inAmount1_t / 10**18 * share_t * fee_rate

  ``fee_rate`` = 0.0005 for the 0.05 % pool (``uniswap/_typing.py:82-91``,
  ``UniV3Pool.__init__``: fee is given in percent, 0.05 -> fee_rate
  0.05/100, tick spacing int(0.05 * 200) = 10).
* L itself is Uniswap's: ``uniswap/liquitidy_math.py:125-152``
  (``get_liquidity``, min of the token0 and token1 liquidities, integer
  wei math) with the contract's ``getSqrtRatioAtTick`` (``:155``); amounts
  back from L in ``get_amounts`` (``:48-72``).
* The dilution ``+ L``: ``uniswap/market.py:193-198`` adds the sum of all the
  strategy's position liquidity to the row's ``currentLiquidity`` every time
  the market status is set, whether or not the position is in range.
* The weight ``w_t`` (``core.py:138-166``) looks only at two ticks: the close
  tick of the previous minute (``last_tick``) and this minute's close tick.
  With ``side(tick)`` = above if ``tick >= upper``, below if ``tick < lower``,
  in range otherwise:

  - same side, both in range: ``w = 1``;
  - same side, both outside: ``w = 0`` (even if the minute's high/low went
    through the range);
  - different sides: ``w`` = length of ``[last, close]`` inside
    ``[lower, upper]`` over ``|close - last|``, in ticks (the middle two of
    the four sorted ticks, ``core.py:157-163``).

  ``openTick``, ``lowestTick`` and ``highestTick`` are not used.
* ``last_tick`` (``market.py:193-194``) is the ``closeTick`` of the market
  status that was current when ``set_market_status`` is called. The actuator
  (``core/actuator.py:414-444``) calls it at the start of every minute and a
  second time after ``on_bar`` in a minute where the strategy acted. So for
  t > mint minute, ``last_tick = closeTick[t-1]``; in the mint minute,
  ``last_tick = closeTick[mint]`` (the second call), i.e. the mint minute
  earns its whole volume if its close is in range and nothing otherwise.
* The mint minute itself earns fees: ``on_bar`` mints before ``update()``
  books the minute (``actuator.py:434-444``). The position is minted at the
  price at the *start* of that minute (the previous minute's close; the first
  row of the data has the tick of its first swap, ``uniswap/helper.py:434-438``)
  but earns all of that minute's swaps.

The minute file (demeter-fetch): ``inAmount0/1`` is the sum of the positive
swap amounts of the minute (gross, fee included), ``closeTick`` the tick after
its last swap and ``currentLiquidity`` the pool's active liquidity after its
last swap; all checked against the pool's decoded swaps in ``pool.tick``.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np

FEE_RATE = 0.0005  # the 0.05 % pool
DECIMALS0 = 6  # USDC
DECIMALS1 = 18  # WETH
COLUMNS = (
    "closeTick",
    "openTick",
    "lowestTick",
    "highestTick",
    "inAmount0",
    "inAmount1",
    "currentLiquidity",
)


def read_minutes(path: Path) -> dict[str, np.ndarray]:
    """The minute file's columns as float64 arrays (``timestamp`` as text).

    ``currentLiquidity`` (~1.2e19) does not fit an int64, so everything is
    float64; the relative rounding (~1e-16) is far below the 1e-9 the bridge
    is held to."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out: dict[str, np.ndarray] = {"timestamp": np.array([r["timestamp"] for r in rows])}
    for col in COLUMNS:
        out[col] = np.array([float(r[col]) for r in rows], dtype=np.float64)
    return out


def side(tick: np.ndarray, lower: int, upper: int) -> np.ndarray:
    """demeter's ``in_range``: +1 above (``tick >= upper``), -1 below
    (``tick < lower``), 0 in range."""
    return np.where(tick >= upper, 1, np.where(tick < lower, -1, 0))


def bar_weight(
    last: np.ndarray, close: np.ndarray, lower: int, upper: int
) -> np.ndarray:
    """The share of each minute's fees a position earns, from the previous
    close tick ``last`` and this minute's ``close`` alone (``core.py:146-166``)."""
    last = np.asarray(last, dtype=np.float64)
    close = np.asarray(close, dtype=np.float64)
    s_last, s_close = side(last, lower, upper), side(close, lower, upper)
    # overlap of [min(last, close), max(last, close)] with [lower, upper], in ticks
    lo, hi = np.minimum(last, close), np.maximum(last, close)
    overlap = np.clip(np.minimum(hi, upper) - np.maximum(lo, lower), 0.0, None)
    move = np.abs(close - last)
    crossed = np.divide(overlap, move, out=np.zeros_like(move), where=move > 0)
    return np.where(s_last == s_close, (s_close == 0).astype(np.float64), crossed)


def demeter_fees(
    minutes: dict[str, np.ndarray],
    tick_lower: int,
    tick_upper: int,
    liquidity: int,
    start: int = 0,
    fee_rate: float = FEE_RATE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-minute fees (token0, token1, in whole tokens) and weights of a
    static position of raw liquidity ``liquidity`` minted in minute ``start``
    and held to the end of the file, booked by demeter's rule. Minutes before
    ``start`` are zero."""
    close = minutes["closeTick"]
    n = close.size
    last = np.empty(n)
    last[1:] = close[:-1]
    last[start] = close[start]  # the mint minute: set_market_status ran twice
    w = bar_weight(last, close, tick_lower, tick_upper)
    w[:start] = 0.0
    share = float(liquidity) / (minutes["currentLiquidity"] + float(liquidity))
    fee0 = w * minutes["inAmount0"] / 10.0**DECIMALS0 * share * fee_rate
    fee1 = w * minutes["inAmount1"] / 10.0**DECIMALS1 * share * fee_rate
    return fee0, fee1, w


def intrabar_blind_spots(
    minutes: dict[str, np.ndarray], tick_lower: int, tick_upper: int, w: np.ndarray
) -> dict[str, int]:
    """Minutes where demeter's two-tick weight and the minute's own tick range
    (``lowestTick``..``highestTick``, after each swap) disagree: touched the
    range but weighted 0, or weighted 1 but traded outside it."""
    lo, hi = minutes["lowestTick"], minutes["highestTick"]
    touched = (hi >= tick_lower) & (lo < tick_upper)
    left = (lo < tick_lower) | (hi >= tick_upper)
    return {
        "minutes_touched_but_zero_weight": int((touched & (w == 0)).sum()),
        "minutes_full_weight_but_left_range": int((left & (w == 1)).sum()),
    }
