"""The execution of one finished run, from its outputs under ``data/``.

Prints the resolved venue and its costs, the physical invariants of the fills
(:func:`ethpredict.testing.invariants.check_execution`, on a pool
:func:`~ethpredict.testing.invariants.check_pool_execution`: all zero for a
run a market could have given), how the orders ended, how the fills happened, the
PnL decomposition and the fill-rule sensitivity rows::

    python validation/execution_report.py --project DIR

``DIR`` is a project folder after ``kedro run`` (the default chain). The
participation cap and the position bound are not in the outputs: pass them
when the run's parameters differ from ``conf/base``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.core import types as T
from ethpredict.testing.invariants import check_execution, check_pool_execution

PNL = ("total_pnl", "spread_pnl", "inventory_pnl", "fees", "gas", "funding")


def load_run(project: Path) -> dict:
    """The run's outputs: bars, fills, orders, book (frames), the with-signal
    backtest metrics, the venue and the fill-rule sensitivity table."""
    data = Path(project) / "data"
    out7, out8 = data / "07_model_output", data / "08_reporting"
    return {
        "bars": pd.read_parquet(data / "02_intermediate" / "bars.parquet"),
        **{
            k: pd.read_parquet(out7 / f"{k}.parquet")
            for k in ("fills", "orders", "book")
        },
        "metrics": json.loads((out8 / "backtest_metrics.json").read_text())[
            "with_signal"
        ],
        "venue": json.loads((out8 / "venue.json").read_text()),
        "sensitivity": pd.read_parquet(out8 / "fill_rule_sensitivity.parquet"),
    }


def execution_summary(
    run: dict, max_participation: float = 0.1, max_position: float | None = 5.0
) -> dict:
    """One flat dict: venue, fills and their invariant violations, order fates
    (shares of all orders), fills by kind, rejections, PnL parts, risk stop."""
    venue, m = run["venue"], run["metrics"]
    fills, orders = run["fills"], run["orders"]
    bad = (
        check_pool_execution(run["bars"], fills, orders, run["book"])
        if venue["name"] == "uniswap_v3"  # range orders: the pool's invariants
        else check_execution(
            run["bars"], fills, orders, run["book"], max_participation, max_position
        )
    )
    reason = orders["end_reason"].astype(str)
    kinds = fills["kind"].astype(str)
    n_orders = max(len(orders), 1)
    return {
        "venue": venue["name"],
        "maker_fee_bps": venue["maker_fee_bps"],
        "taker_fee_bps": venue["taker_fee_bps"],
        "gas_eth_per_action": venue["gas_eth_per_action"],
        "bars": len(run["bars"]),
        "unobserved_bars": int(
            sum(
                run["bars"][c].sum()
                for c in ("is_filled", "is_stale")
                if c in run["bars"]
            )
        ),
        "fills": len(fills),
        **bad,
        "orders": len(orders),
        **{f"share_{r}": float((reason == r).sum() / n_orders) for r in T.END_REASONS},
        **{f"fills_{k}": int((kinds == k).sum()) for k in T.FILL_KINDS},
        "taker_fills": int(fills["taker"].sum()),
        "rejected": int((reason == "rejected").sum()),
        **{k: m[k] for k in PNL},
        **({f"lp_{k}": v for k, v in m["lp"].items()} if "lp" in m else {}),
        "stopped_at": m["stopped_at"],
    }


def sensitivity_rows(run: dict) -> pd.DataFrame:
    """The fill-rule sensitivity: total PnL, fills and the 1-bar markout per rule."""
    cols = [
        "rule",
        "this_run",
        "total_pnl",
        "fills",
        "taker_fills",
        "rejected",
        "mean_markout_1",
    ]
    s = run["sensitivity"]
    return s[[c for c in cols if c in s]]


def fmt(value: object) -> str:
    """A number in a readable width (shares as percent are left to the caller)."""
    if isinstance(value, float | np.floating):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def markdown(summary: dict, sens: pd.DataFrame) -> str:
    """The summary as a two-column markdown table, then the sensitivity rows."""
    lines = ["| quantity | value |", "|---|---|"]
    for key, value in summary.items():
        shown = f"{value:.1%}" if key.startswith("share_") else fmt(value)
        lines.append(f"| {key} | {shown} |")
    lines += [
        "",
        "| " + " | ".join(sens.columns) + " |",
        "|" + "---|" * len(sens.columns),
    ]
    for row in sens.itertuples(index=False):
        lines.append("| " + " | ".join(fmt(v) for v in row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and print the report of one project folder."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--project", type=Path, required=True, help="finished project folder"
    )
    ap.add_argument(
        "--max-participation",
        type=float,
        default=0.1,
        help="backtest.max_participation of the run (default 0.1)",
    )
    ap.add_argument(
        "--max-position",
        type=float,
        default=5.0,
        help="mm.max_inventory × mm.order_size in ETH (default 5.0)",
    )
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)
    run = load_run(args.project)
    summary = execution_summary(run, args.max_participation, args.max_position)
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        print(markdown(summary, sensitivity_rows(run)))


if __name__ == "__main__":
    main()
