"""ETHPredict's static Uniswap v3 position against zelos-demeter on the shared
0.05 % USDC/WETH pool day (2024-01-05), side by side (docs/validation.md,
"Uniswap v3 LP accounting against demeter"; issue 14, item 6).

Runs in the project's virtualenv, without demeter: demeter's side is the
committed fixture ``validation/demeter_2024-01-05.json`` (written by
``validation/demeter_peer.py --fixture`` in demeter's own virtualenv)::

    python validation/demeter_crosscheck.py [--data DIR] [--fixture FILE] [--out table.json]

For each of demeter's positions (the same ticks → ETH-price bounds, the same
raw liquidity in whole-token units, minted at minute 0) it runs
:func:`ethpredict.lp.static_position` on

* ``raw``: the pool's logs, swap by swap (``data.uniswap.form: raw``, 1-minute
  bars so the blocks are demeter's minutes; each swap's own price, input and
  active liquidity) — the closest to the truth;
* ``minute``: the day's per-minute summaries (``form: minute``), through
  :func:`ethpredict.lp.swap_path`'s minute paths (previous close → open →
  nearer of high/low → the other → close, every input carried);

and lays the fees (per token, and in USD at one price) and the final net
values beside demeter's, then bridges demeter's number to the swap-by-swap
one convention by convention (:func:`ladder`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.core.liquidity import LN_TICK, amounts_array, raw_scale
from ethpredict.lp import SwapPath, mark_prices, static_position, swap_path
from ethpredict.params import DataParams
from ethpredict.pipelines.data_engineering.nodes import ingest_market_data

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demeter_fee_rule import bar_weight, read_minutes, side

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "../shared/data/real/uniswap-v3/ethereum-usdc-weth-005-2024-01-05"
FIXTURE = REPO / "validation" / "demeter_2024-01-05.json"
MINUTE_FILE = (
    "ethereum-0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640-2024-01-05.minute.csv.gz"
)


def load(data: Path, form: str):
    """Bars, swaps and liquidity of the day in one form (``raw``: 1-minute
    bars over the swaps; ``minute``: demeter-fetch's summaries)."""
    params = {"source": "uniswap_v3", "path": str(data), "uniswap": {"form": form}}
    if form == "raw":
        params["interval"] = "1m"
    with contextlib.redirect_stdout(io.StringIO()):
        bars, trades, _, liquidity = ingest_market_data(DataParams(**params))
    return bars, trades, liquidity


def eth_bounds(tick_lower: int, tick_upper: int) -> tuple[float, float]:
    """The ETH-price range of a USDC/WETH tick range (ETH is token1: the
    upper tick is the lower ETH price)."""
    return (
        math.exp(12 * math.log(10) - tick_upper * LN_TICK),
        math.exp(12 * math.log(10) - tick_lower * LN_TICK),
    )


def ours(bars, path: SwapPath, case: dict, fee: float, price_at: float) -> dict:
    """:func:`static_position` for a demeter case: fees per token (the
    tokens held minus the position's own at the final price), in USD at
    ``price_at`` and as booked, net value at the last close and at
    ``price_at``."""
    lower, upper = eth_bounds(case["tick_lower"], case["tick_upper"])
    L = case["liquidity"] / raw_scale(6, 18)
    mark, _ = mark_prices(bars)
    held = static_position(bars, path, mark, case["start_index"], lower, upper, L, fee)
    s_end = float(path.sqrt_price[-1])
    x, y = (float(v[0]) for v in amounts_array(L, np.array([s_end**2]), lower, upper))
    fee1, fee0 = float(held["eth"].iat[-1]) - x, float(held["quote"].iat[-1]) - y
    x_d, y_d = (
        float(v[0]) for v in amounts_array(L, np.array([price_at]), lower, upper)
    )
    return {
        "fees0": fee0,
        "fees1": fee1,
        "fees_value": fee0 + fee1 * price_at,
        "fees_earned_booked": float(held["fees_earned"].iat[-1]),
        "net_value_last_close": float(held["value"].iat[-1]),
        "last_close": float(mark[-1]),
        "liquidity_value": y_d + x_d * price_at,
        "net_value": y_d + fee0 + (x_d + fee1) * price_at,
        "entry_value": float(held.attrs["entry_value"]),
    }


def _fees(w, minutes, L, fee, liq=None) -> tuple[float, float]:
    """demeter's fee sum with weights ``w``; ``liq``: (token0, token1) pool
    liquidity per minute instead of the closing ``currentLiquidity``."""
    cur = minutes["currentLiquidity"]
    l0, l1 = (cur, cur) if liq is None else liq
    return (
        float((w * minutes["inAmount0"] / 1e6 * L / (l0 + L) * fee).sum()),
        float((w * minutes["inAmount1"] / 1e18 * L / (l1 + L) * fee).sum()),
    )


def path_weight(minutes, lower: int, upper: int) -> np.ndarray:
    """demeter's weight (the in-range share of the tick path, both tokens
    alike) over the whole minute path previous close → open → nearer
    extreme → other → close instead of previous close → close; a minute
    without a move: 1 if its tick is in range."""
    o, c = minutes["openTick"], minutes["closeTick"]
    lo_t, hi_t = minutes["lowestTick"], minutes["highestTick"]
    prev = np.r_[o[0], c[:-1]]
    low_first = (o - lo_t) < (hi_t - o)  # ticks: a lower tick is a higher ETH price
    pts = np.column_stack(
        [prev, o, np.where(low_first, lo_t, hi_t), np.where(low_first, hi_t, lo_t), c]
    )
    a, b = pts[:, :-1], pts[:, 1:]
    inside = np.clip(
        np.minimum(np.maximum(a, b), upper) - np.maximum(np.minimum(a, b), lower),
        0,
        None,
    )
    length = np.abs(b - a).sum(axis=1)
    still = (side(c, lower, upper) == 0).astype(np.float64)
    return np.divide(inside.sum(axis=1), length, out=still, where=length > 0)


def ladder(minutes, case: dict, fee: float, swap_liq_per_minute) -> list[dict]:
    """demeter's fee, then one convention changed at a time (numpy on the
    minute file): the mint minute weighted from its open; each minute's
    fees diluted by the swaps' own active liquidity (the volume-weighted
    share L/(L + L_swap) of the raw logs) instead of the closing one; the
    weight over the intra-minute path (highs and lows)."""
    lo, hi, L = case["tick_lower"], case["tick_upper"], float(case["liquidity"])
    close, opn = minutes["closeTick"], minutes["openTick"]
    last = np.r_[close[0], close[:-1]]  # demeter: the mint minute's own close
    steps = [("demeter's rule", bar_weight(last, close, lo, hi), None)]
    last_open = last.copy()
    last_open[case["start_index"]] = opn[case["start_index"]]
    w = bar_weight(last_open, close, lo, hi)
    steps.append(("+ mint minute from its open", w, None))
    steps.append(("+ swaps' own liquidity", w, swap_liq_per_minute))
    steps.append(
        (
            "+ intra-minute path (highs, lows)",
            path_weight(minutes, lo, hi),
            swap_liq_per_minute,
        )
    )
    out = []
    for name, wt, liq in steps:
        f0, f1 = _fees(wt, minutes, L, fee, liq)
        out.append({"step": name, "fees0": f0, "fees1": f1})
    return out


def swap_liquidity_per_minute(
    trades: pd.DataFrame, bars: pd.DataFrame, L: float, fallback: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per minute and input token (USDC, WETH), the pool liquidity (raw)
    that gives the minute's input the same dilution as its swaps one by one:
    L/(L + l) = the input-weighted mean of L/(L + L_swap) over the minute's
    swaps with that input (``fallback`` where there are none)."""
    m = ((trades.index - bars.index[0]).total_seconds() // 60).to_numpy().astype(int)
    up = trades["side"].to_numpy() > 0  # USDC in
    share = L / (trades["liquidity"].to_numpy() + L)
    n = len(bars)
    out = []
    for amount in (
        np.where(up, trades["quote_qty"].to_numpy(), 0.0),
        np.where(up, 0.0, trades["qty"].to_numpy()),
    ):
        num, den = np.bincount(m, amount * share, n), np.bincount(m, amount, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            liq = L / (num / den) - L
        out.append(np.where(den > 0, liq, fallback))
    return out[0], out[1]


def crosscheck(data: Path = DATA, fixture: Path = FIXTURE) -> dict:
    peer = json.loads(Path(fixture).read_text())
    fee = peer["meta"]["fee_rate"]
    raw = load(data, "raw")
    mnt = load(data, "minute")
    assert float(raw[0].attrs["fee_bps"]) * 1e-4 == fee
    paths = {
        "raw": (raw[0], swap_path(*raw)),
        "minute": (mnt[0], swap_path(mnt[0], None, mnt[2])),
    }
    minutes = read_minutes(Path(data) / MINUTE_FILE)
    rows = []
    for case in peer["cases"]:
        p_end = case["end_price"]  # demeter's: the close tick of 23:58
        row = {
            "case": case["case"],
            "tick_lower": case["tick_lower"],
            "tick_upper": case["tick_upper"],
            "liquidity_raw": case["liquidity"],
            "demeter": {
                k: case[k]
                for k in (
                    "fees0",
                    "fees1",
                    "fees_value",
                    "liquidity_value",
                    "net_value",
                    "net_value_at_last_close",
                    "end_price",
                    "last_close_price",
                )
            },
        }
        for name, (bars, path) in paths.items():
            row[name] = ours(bars, path, case, fee, p_end)
        liq_m = swap_liquidity_per_minute(
            raw[1], raw[0], float(case["liquidity"]), minutes["currentLiquidity"]
        )
        row["ladder"] = ladder(minutes, case, fee, liq_m)
        for step in row["ladder"]:
            step["fees_value"] = step["fees0"] + step["fees1"] * p_end
        rows.append(row)
    return {
        "meta": {
            "fixture": str(Path(fixture).name),
            "peer": peer["meta"],
            "value_price": "demeter's end price (23:58 close tick)",
        },
        "cases": rows,
    }


def _rel(a: float, b: float) -> str:
    return f"{a / b - 1:+.2%}" if b else "n/a"


def report(res: dict) -> str:
    lines = []
    for r in res["cases"]:
        d = r["demeter"]
        lines.append(
            f"\n{r['case']}: ticks [{r['tick_lower']}, {r['tick_upper']}], "
            f"L = {r['liquidity_raw']} raw"
        )
        lines.append(
            f"  {'':28} {'USDC fees':>11} {'WETH fees':>12} {'fees USD':>9} "
            f"{'vs dem.':>8} {'vs raw':>8} {'net value':>10} {'vs dem.':>8}"
        )
        truth = r["raw"]["fees_value"]
        ent = [
            ("demeter 1.3.0", d["fees0"], d["fees1"], d["fees_value"], d["net_value"])
        ]
        for k, label in (
            ("raw", "ours, swap by swap"),
            ("minute", "ours, minute (lp.swap_path)"),
        ):
            o = r[k]
            ent.append((label, o["fees0"], o["fees1"], o["fees_value"], o["net_value"]))
        for label, f0, f1, fv, nv in ent:
            bp = (nv - d["net_value"]) / d["net_value"] * 1e4
            lines.append(
                f"  {label:28} {f0:11.4f} {f1:12.7f} {fv:9.3f} "
                f"{_rel(fv, d['fees_value']):>8} {_rel(fv, truth):>8} "
                f"{nv:10.3f} {bp:+7.2f}bp"
            )
        lines.append("  demeter → swap by swap, one convention at a time (fees USD):")
        prev = None
        for s in r["ladder"]:
            delta = "" if prev is None else f" ({s['fees_value'] - prev:+.3f})"
            lines.append(
                f"    {s['step']:34} {s['fees_value']:9.3f}{delta}  vs raw "
                f"{_rel(s['fees_value'], truth)}"
            )
            prev = s["fees_value"]
        lines.append(
            f"    {'= ours, swap by swap':34} {truth:9.3f} ({truth - prev:+.3f}) "
            "rest: what the minute summary cannot show"
        )
        o = r["raw"]
        lines.append(
            "  net value at the last close (23:59): demeter "
            f"{d['net_value_at_last_close']:.3f} at {d['last_close_price']:.4f}; "
            f"ours (raw) {o['net_value_last_close']:.3f} "
            f"at {o['last_close']:.4f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--fixture", type=Path, default=FIXTURE)
    ap.add_argument("--out", type=Path, default=None, help="write the numbers as JSON")
    args = ap.parse_args(argv)
    res = crosscheck(args.data, args.fixture)
    print(report(res))
    if args.out:
        args.out.write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
