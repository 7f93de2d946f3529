"""The backtest kernel's schema: column indices and integer enums in one place.

The kernel (:mod:`ethpredict.core.backtest`) writes three float64 blocks with
time on axis 0 — the per-bar ``book``, the ``fills`` and the ``orders`` —
whose columns are named here (as hftbacktest's ``types.py`` and vectorbt's
``enums.py`` do), so that neither the kernel nor its readers count columns.
"""

from __future__ import annotations

# --- sides (also the sign of a fill's size) ----------------------------------
BID, ASK = 0, 1  # index of a side in the kernel's per-side arrays
BUY, SELL = 1.0, -1.0

# --- fill models (``backtest.fill_model``) -----------------------------------
FILL_TOUCH, FILL_INTENSITY = 0, 1
FILL_MODELS = {"touch": FILL_TOUCH, "intensity": FILL_INTENSITY}

# --- how a fill happened (fills column ``kind``) -----------------------------
KIND_TOUCH = 0  # maker: the bar traded through the resting limit; at the limit
KIND_INTENSITY = 1  # maker: drawn from A·e^(−k·δ) at a level the bar reached
KIND_THROUGH = 2  # maker: a resting order the market is already through at the
#                  open; at min(limit, high) for a bid, max(limit, low) for an ask
KIND_TAKER = 3  # taker: marketable on arrival (post_only false); at the open
KIND_STOP = 4  # taker: the risk stop's market order; at the open
KIND_RANGE = 5  # a Uniswap v3 range converting as the pool's swaps move the price
#                 through it: one fill per block and direction, at the average
#                 price of its swaps' conversions
FILL_KINDS = (
    "touch",
    "intensity",
    "resting_through",
    "taker_on_arrival",
    "stop",
    "range",
)
TAKER_KINDS = (KIND_TAKER, KIND_STOP)

# --- how an order ended (orders column ``end_reason``) -----------------------
END_OPEN = 0  # still pending or live when the data ends
END_FILLED = 1  # its whole size filled
END_REPLACED = 2  # a newer quote of its side went live
END_CANCELLED = 3  # its side stopped being quoted, or the risk stop
END_REJECTED = 4  # post-only and marketable when it went live
END_REASONS = ("open", "filled", "replaced", "cancelled", "rejected")

# --- order types (orders column ``type``) ------------------------------------
ORDER_LIMIT, ORDER_MARKET, ORDER_RANGE = 0, 1, 2
ORDER_TYPES = ("limit", "market", "range")

# --- the per-bar book ----------------------------------------------------------
BOOK_COLUMNS = (
    "position",  # ETH after the bar's fills (and funding)
    "cash",  # quote currency
    "equity",  # cash + position × close
    "bid",  # level-0 live bid at the bar's end (NaN: none)
    "ask",
    "spread_pnl",  # cumulative: Σ side·size·(previous close − price)
    "inventory_pnl",  # cumulative: position × (close − previous close)
    "fees",  # cumulative: paid (negative: earned)
    "gas",  # cumulative, quote currency
    "updates",  # cumulative order actions (place, replace, cancel)
    "fills",  # cumulative
    "halted",  # 1 from the bar whose close breached the drawdown limit
    "funding",  # cumulative, received (negative: paid)
    "rejected",  # cumulative post-only rejections
)
(
    B_POS,
    B_CASH,
    B_EQUITY,
    B_BID,
    B_ASK,
    B_SPREAD,
    B_INV,
    B_FEES,
    B_GAS,
    B_UPDATES,
    B_FILLS,
    B_HALTED,
    B_FUNDING,
    B_REJECTED,
) = range(len(BOOK_COLUMNS))

# --- fills ----------------------------------------------------------------------
FILL_COLUMNS = ("bar", "side", "price", "size", "level", "order", "kind")
F_BAR, F_SIDE, F_PRICE, F_SIZE, F_LEVEL, F_ORDER, F_KIND = range(len(FILL_COLUMNS))

# --- orders (row = order id) ------------------------------------------------------
ORDER_COLUMNS = (
    "side",  # +1 bid/buy, −1 ask/sell
    "level",  # 0 nearest the mid; −1 for the stop's market order
    "type",  # ORDER_LIMIT | ORDER_MARKET
    "submit_bar",  # the bar at whose close it was decided
    "live_bar",  # the first bar it was live for (−1: never)
    "end_bar",  # the bar it ended in (−1: still open at the end)
    "price",  # limit (NaN for a market order)
    "size",  # ETH
    "filled",  # ETH
    "end_reason",  # END_*
)
(
    O_SIDE,
    O_LEVEL,
    O_TYPE,
    O_SUBMIT,
    O_LIVE,
    O_END,
    O_PRICE,
    O_SIZE,
    O_FILLED,
    O_REASON,
) = range(len(ORDER_COLUMNS))

# --- a Uniswap v3 book (ethpredict.core.pool): the orders' extra columns -------
#: after ORDER_COLUMNS; a range's ``price`` is its lower bound, ``size`` the ETH
#: it holds when all ETH, ``filled`` the ETH it converted by its end
POOL_ORDER_COLUMNS = (
    *ORDER_COLUMNS,
    "price_upper",  # the range's upper bound (ETH price)
    "liquidity",  # L in √(ETH · quote) whole-token units
    "fees_earned",  # quote currency, valued at the mark when earned
)
O_UPPER, O_LIQUIDITY, O_FEES = range(len(ORDER_COLUMNS), len(POOL_ORDER_COLUMNS))
