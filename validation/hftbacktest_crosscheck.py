"""One fixed quoting policy on a Binance USD-M capture, in hftbacktest and in
ETHPredict's bar kernel, side by side (docs/validation.md).

Policy: one bid and one ask at mid ± ``half_spread`` (rounded to the tick away
from the mid), ``order_size`` ETH each, requoted every second, and no quote on
the side that would grow ``|position|`` beyond ``max_orders`` orders.

    python validation/hftbacktest_crosscheck.py [--capture PATH] [--out table.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.backtesting import run_book
from ethpredict.io.bars import assemble_bars
from ethpredict.io.trades import bars_from_trades, read_trade_stream
from ethpredict.params import BacktestParams, MMParams, RiskParams

REPO = Path(__file__).resolve().parents[1]
CAPTURE = REPO / "../shared/data/real/binance_stream_usdm_ethusdt_20240808.jsonl.gz"
NS = 1_000_000_000
STEP_NS = 10_000_000  # hftbacktest is stepped in 10 ms to see fills and the mid
#: ETHPredict variants: (column name, through_ticks, latency_s)
VARIANTS = (("EP tt=0", 0.0, 0.0), ("EP tt=1", 1.0, 0.0), ("EP tt=0 10ms", 0.0, 0.01))


@dataclass(frozen=True)
class Policy:
    """The quoting policy and the venue settings shared by both engines."""

    half_spread: float = 0.10  # USDT (10 ticks)
    order_size: float = 1.0  # ETH
    max_orders: int = 5  # position limit, in orders
    tick: float = 0.01
    lot: float = 0.001
    latency_s: float = 0.010  # hftbacktest order entry and response latency
    maker_fee_bps: float = 2.0  # Binance USD-M regular tier
    taker_fee_bps: float = 5.0


def load_bars(capture: Path) -> pd.DataFrame:
    """1-second bars from the capture's trades, as ``data.source:
    binance_trades`` with ``data.interval: 1s`` builds them (the partial first
    and last second dropped; seconds without a trade flagged flat bars)."""
    raw = read_trade_stream(capture)
    bars = assemble_bars([bars_from_trades(raw, 1)], on_gap="flag").bars
    bars["funding_rate"] = 0.0  # no settlement inside the capture's bars
    return bars


def hbt_backtest(capture: Path, pol: Policy):
    """hftbacktest on the capture: its Binance futures converter, a linear
    asset, constant order latency, risk-averse queue, no partial fills. The
    event array is returned too: the backtest reads it in place, so the caller
    keeps it alive."""
    import hftbacktest as hbt
    from hftbacktest.data.utils import binancefutures

    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints
        data = binancefutures.convert(str(capture), buffer_size=20_000_000)
    lat = int(pol.latency_s * NS)
    asset = (
        hbt.BacktestAsset()
        .data([data])
        .linear_asset(1.0)
        .constant_order_latency(lat, lat)
        .risk_adverse_queue_model()
        .no_partial_fill_exchange()
        .trading_value_fee_model(pol.maker_fee_bps * 1e-4, pol.taker_fee_bps * 1e-4)
        .tick_size(pol.tick)
        .lot_size(pol.lot)
    )
    return hbt.HashMapMarketDepthBacktest([asset]), data


def run_hftbacktest(capture: Path, pol: Policy, start_ns: int, end_ns: int) -> dict:
    """Quote from ``start_ns`` (the first bar close) to ``end_ns`` (the last),
    deciding at each whole second of local time; fills are seen within 10 ms.
    An order still at the wanted price is kept (its queue place with it)."""
    import hftbacktest as hbt

    bt, _data = hbt_backtest(capture, pol)
    bt.elapse(1)  # loads the first events and sets the clock
    bt.elapse(start_ns - bt.current_timestamp)
    limit = pol.max_orders * pol.order_size - 1e-9
    live = {1: None, -1: None}  # side -> order id
    submitted: dict[int, tuple[float, int]] = {}  # order id -> (mid, decision ns)
    fills, path, quotes, rejected = [], [], [], []
    while True:
        now, dp = bt.current_timestamp, bt.depth(0)
        mid, sec = (dp.best_bid + dp.best_ask) / 2, bt.current_timestamp // NS * NS
        if now % NS < STEP_NS:  # a decision
            pos = bt.position(0)
            path.append((sec - NS, pos, mid))  # after the fills of the bar ending now
            if now >= end_ns:
                break
            px = {
                1: math.floor((mid - pol.half_spread) / pol.tick + 1e-9) * pol.tick,
                -1: math.ceil((mid + pol.half_spread) / pol.tick - 1e-9) * pol.tick,
            }
            want = {side: side * pos < limit for side in px}
            quotes.append((sec, *(px[s] if want[s] else np.nan for s in px)))
            orders = bt.orders(0)
            for side, oid in live.items():
                o = orders.get(oid) if oid is not None else None
                same = o is not None and abs(o.price - px[side]) < pol.tick / 2
                if same and o.status == hbt.NEW and want[side]:
                    continue
                if o is not None and o.cancellable:
                    bt.cancel(0, oid, False)
                live[side] = None
                if want[side]:
                    new = len(submitted) + 1
                    send = bt.submit_buy_order if side > 0 else bt.submit_sell_order
                    send(0, new, px[side], pol.order_size, hbt.GTX, hbt.LIMIT, False)
                    live[side], submitted[new] = new, (mid, sec)
        if bt.elapse(STEP_NS) != 0:
            break
        values, dp = bt.orders(0).values(), bt.depth(0)
        while values.has_next():
            o = values.get()
            mid_dec, t_dec = submitted[o.order_id]
            if o.status == hbt.FILLED:
                fills.append(
                    (
                        o.exch_timestamp,
                        o.side,
                        o.exec_price,
                        o.exec_qty,
                        (dp.best_bid + dp.best_ask) / 2,
                        mid_dec,
                    )
                )
            elif o.status == hbt.EXPIRED:  # a post-only order that would cross
                rejected.append((pd.Timestamp(t_dec, tz="UTC"), o.side))
        bt.clear_inactive_orders(0)
    sv = bt.state_values(0)
    f = pd.DataFrame(fills, columns=["ts", "side", "price", "size", "mid_fill", "dec"])
    f["bar"] = pd.to_datetime(f["ts"] // NS * NS, utc=True)
    pth = pd.DataFrame(path, columns=["t", "position", "mid"])
    pth.index = pd.to_datetime(pth.pop("t"), utc=True)
    end_mid = pth["mid"].reindex(f["bar"]).to_numpy()  # the mid when the second ends
    q = pd.DataFrame(quotes, columns=["t", "bid", "ask"])

    def edge(ref) -> float:
        return float((f.side * f["size"] * (ref - f.price)).sum())

    return {
        "fills": f,
        "position": pth["position"],
        "fees": sv.fee,
        "pnl": sv.balance + sv.position * pth["mid"].iat[-1] - sv.fee,
        "spread_dec": edge(f.dec),
        "spread_fill": edge(f.mid_fill),
        "markout": edge(end_mid),
        "rejected": set(rejected),
        "quotes": q.set_index(pd.to_datetime(q.pop("t"), utc=True)),
    }


def ethpredict_backtest_params(pol: Policy, through_ticks: float, latency_s: float):
    """The settings we mean, in one place: the perpetual exchange venue (no
    block clock, no gas), post-only orders, no participation cap (fills stay
    all-or-nothing like hftbacktest's no-partial-fill exchange), requoted every
    bar, the policy's fees."""
    return BacktestParams(
        venue="cex_perp",
        post_only=True,
        max_participation=1.0,
        block_time_s=0.0,
        latency_s=latency_s,
        gas_units=0.0,
        maker_fee_bps=pol.maker_fee_bps,
        taker_fee_bps=pol.taker_fee_bps,
        fill_model="touch",
        through_ticks=through_ticks,
        requote_threshold=0.0,
        markouts=[1],
    )


def run_ethpredict(
    bars: pd.DataFrame, pol: Policy, through_ticks: float, latency_s: float
) -> dict:
    """``run_book`` with constant quotes (depth = half-spread, fixed size)."""
    h, s = pol.half_spread, pol.order_size
    quotes = pd.DataFrame(
        {
            "bid_depth": h,
            "ask_depth": h,
            "skew": 0.0,
            "bid_size": s,
            "ask_size": s,
            "A": 0.0,
            "k": 0.0,
            "valid": True,
        },
        index=bars.index,
    )
    mp = MMParams(order_size=s, max_inventory=pol.max_orders, tick=pol.tick, levels=1)
    bp = ethpredict_backtest_params(pol, through_ticks, latency_s)
    book, fills, _ = run_book(bars, quotes, mp, bp, RiskParams(max_drawdown=None))
    f = fills[["side", "price", "size"]].astype(np.float64).reset_index(drop=True)
    f.insert(0, "bar", bars.index[fills["bar"].to_numpy()])
    close = bars["close"].reindex(f["bar"]).to_numpy()
    return {
        "fills": f,
        "position": book["position"],
        "fees": float(book["fees"].iat[-1]),
        "pnl": float(book["equity"].iat[-1]),
        "spread_dec": float(book["spread_pnl"].iat[-1]),
        "spread_fill": None,  # a bar has no mid at the fill
        "markout": float((f.side * f["size"] * (close - f.price)).sum()),
        "quotes": book[["bid", "ask"]],
    }


def metrics(run: dict, ref: dict) -> dict:
    """The table's rows for one engine (``ref``: hftbacktest, for the
    correlation of the position paths sampled each second)."""
    f = run["fills"]
    pos, other = run["position"].align(ref["position"], join="inner")
    return {
        "buys": int((f.side > 0).sum()),
        "sells": int((f.side < 0).sum()),
        "volume_eth": float(f["size"].sum()),
        "spread_pnl_vs_decision_mid": run["spread_dec"],
        "spread_pnl_vs_mid_at_fill": run["spread_fill"],
        "markout_end_of_second": run["markout"],
        "fees": float(run["fees"]),
        "final_pnl": float(run["pnl"]),
        "position_corr": float(np.corrcoef(pos, other)[0, 1]),
        "max_abs_position": float(run["position"].abs().max()),
    }


def gap_evidence(
    bars: pd.DataFrame, hbt: dict, ep: dict, pol: Policy, through_ticks: float
) -> dict:
    """Why fills differ, per (second, side) filled by one engine only: the
    other did not quote that side (its position limit), hftbacktest's
    post-only order was rejected, the bar did not trade through the other's
    price by ``through_ticks`` (quotes from the last trade vs the book mid;
    hftbacktest fills on book crosses too), or it did and hftbacktest still
    did not fill (the queue ahead, or an order in flight)."""
    edge = through_ticks * pol.tick - 1e-9
    keys = {
        n: set(zip(r["fills"]["bar"], r["fills"].side, strict=True))
        for n, r in (("hbt", hbt), ("ep", ep))
    }
    quotes = {"hbt": hbt["quotes"].reindex(bars.index), "ep": ep["quotes"]}
    out = {"matched": len(keys["hbt"] & keys["ep"])}
    for me, other in (("ep", "hbt"), ("hbt", "ep")):
        why = dict.fromkeys(["not_quoting", "not_through", "other"], 0)
        why.update({"rejected": 0} if other == "hbt" else {})
        for b, side in keys[me] - keys[other]:
            px = quotes[other].loc[b, "bid" if side > 0 else "ask"]
            if np.isnan(px):
                why["not_quoting"] += 1
            elif (b, side) in hbt["rejected"] and other == "hbt":
                why["rejected"] += 1
            elif not (
                bars.loc[b, "low"] <= px - edge
                if side > 0
                else bars.loc[b, "high"] >= px + edge
            ):
                why["not_through"] += 1
            else:
                why["other"] += 1
        out.update(
            {f"{me}_only": sum(why.values())},
            **{f"{me}_only_{other}_{k}": v for k, v in why.items()},
        )
    hf = hbt["fills"]  # hbt fills where no trade reached the order's own price
    lo, hi = (bars[c].reindex(hf["bar"]).to_numpy() for c in ("low", "high"))
    own = np.where(hf.side > 0, lo <= hf.price - edge, hi >= hf.price + edge)
    out["hbt_fills_bar_not_through_own_price"] = int((~own).sum())
    q, e = quotes["hbt"], quotes["ep"]
    nearer = pd.concat([e["bid"] - q["bid"], q["ask"] - e["ask"]]) / pol.tick
    out["ep_quote_nearer_ticks"] = float(nearer.mean())
    out["same_quote_share"] = float((nearer.abs() < 0.5).sum() / nearer.notna().sum())
    out["hbt_rejected_orders"] = len(hbt["rejected"])
    return out


def compare(capture: Path, pol: Policy = Policy()) -> dict:
    """Run both engines; the table (rows × columns) and the gap evidence."""
    bars = load_bars(capture)
    start, end = (int(t.value) + NS for t in (bars.index[0], bars.index[-1]))
    hbt = run_hftbacktest(capture, pol, start, end)
    table = {"hftbacktest": metrics(hbt, hbt)}
    gaps = {}
    for name, tt, lat in VARIANTS:
        ep = run_ethpredict(bars, pol, tt, lat)
        table[name] = metrics(ep, hbt)
        gaps[name] = gap_evidence(bars, hbt, ep, pol, tt)
    return {
        "policy": asdict(pol),
        "bars": len(bars),
        "hbt_fills": len(hbt["fills"]),
        "table": table,
        "gaps": gaps,
    }


def render(result: dict) -> str:
    """The table as text: each engine and its difference to hftbacktest."""
    t = result["table"]
    ref, names = t["hftbacktest"], [n for n in t if n != "hftbacktest"]
    head = f"{'metric':28}{'hftbacktest':>12}" + "".join(
        f"{n:>14}{'Δ':>8}" for n in names
    )
    lines = [head, "-" * len(head)]

    def cell(x: float | None, width: int, v: float = 0.0) -> str:
        return f"{'-':>{width}}" if x is None else f"{x - v:{width}.2f}"

    for row, v in ref.items():
        cells = "".join(cell(t[n][row], 14) + cell(t[n][row], 8, v) for n in names)
        lines.append(f"{row:28}{v:12.2f}{cells}")
    for name, g in result["gaps"].items():
        lines.append(f"{name}: " + ", ".join(f"{k}={v:.3g}" for k, v in g.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--capture", type=Path, default=CAPTURE)
    ap.add_argument("--out", type=Path, help="write the table as JSON here")
    args = ap.parse_args(argv)
    try:
        import hftbacktest  # noqa: F401
    except ImportError:
        print("hftbacktest is not importable: pip install hftbacktest==2.4.4")
        return 2
    result = compare(args.capture.resolve())
    print(render(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
