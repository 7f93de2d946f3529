"""The run report on one year of 1-minute bars: build time and file size.

Goal (issue #5): <= 10 s and <= 15 MB.

    python benchmarks/bench_report.py [--days 365]

A year of the generator's bars is run through the real quoting policy and
backtest (constant calibration, random out-of-sample-like predictions) to
get a year-long book and its fills; then the reporting node builds the page
and the metrics (timed) and the page is written (size reported).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ethpredict.backtesting import order_summary, risk_metrics, run_book  # noqa: E402
from ethpredict.io.synthetic import synthetic_klines  # noqa: E402
from ethpredict.market_making import aligned_signal, quote_policy  # noqa: E402
from ethpredict.params import Parameters, SyntheticParams  # noqa: E402
from ethpredict.pipelines.backtesting.nodes import fill_rule_sensitivity  # noqa: E402
from ethpredict.pipelines.reporting.nodes import build_run_report  # noqa: E402
from ethpredict.testing.project import model_metrics  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    df = synthetic_klines(SyntheticParams(days=args.days, seed=5))
    bars = df[["open", "high", "low", "close", "volume"]].astype(float)
    bars.index = pd.DatetimeIndex(pd.to_datetime(df["open_time"], unit="ms", utc=True))
    n = len(bars)
    p = Parameters(backtest={"venue": "onchain_clob"}, risk={"max_drawdown": None})
    rng = np.random.default_rng(0)
    up = rng.uniform(0.2, 0.5, n)
    pred = pd.DataFrame(
        {
            "p_down": 0.7 - up,
            "p_flat": 0.3,
            "p_up": up,
            "bet_size": rng.uniform(-1, 1, n),
            "bet_source": "meta",
        },
        index=bars.index,
    )
    cal = pd.DataFrame({"sigma": 0.45, "A": 0.025, "k": 0.6}, index=bars.index)
    sig = aligned_signal(bars, pred, p.labels.vol_span)
    quotes = quote_policy(bars, sig, cal, p.mm, p.labels, p.risk, 60.0)
    book, fills, orders = run_book(bars, quotes, p.mm, p.backtest, p.risk)
    base_q = quote_policy(
        bars,
        sig,
        cal,
        p.mm.model_copy(update={"alpha_weight": 0.0}),
        p.labels,
        p.risk,
        60.0,
    )
    base, base_f, base_o = run_book(bars, base_q, p.mm, p.backtest, p.risk)
    bt = {
        "period": {"start": str(bars.index[0]), "end": str(bars.index[-1])},
        "with_signal": {
            **risk_metrics(book, fills, p.mm, p.risk),
            **order_summary(orders, fills),
            "stopped_at": None,
        },
        "without_signal": {
            **risk_metrics(base, base_f, p.mm, p.risk),
            **order_summary(base_o, base_f),
            "stopped_at": None,
        },
        "signal_added": {},
    }
    manifest = {
        "source": "synthetic",
        "synthetic": True,
        "notice": "SYNTHETIC DATA",
        "symbol": "ETHUSDT",
        "interval": "1m",
        "start": str(bars.index[0]),
        "end": str(bars.index[-1]),
        "bars": n,
        "gaps": 0,
        "filled_bars": 0,
        "files": [],
    }
    sensitivity = fill_rule_sensitivity(
        bars, quotes, book, fills, orders, p.mm, p.backtest, p.risk
    )
    print(f"{n:,} bars, {len(fills):,} fills in the book")
    best = np.inf
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        page = build_run_report(
            manifest,
            model_metrics(),
            bt,
            book,
            fills,
            base,
            sensitivity,
            {},
            p.model_dump(mode="json"),
            p.report,
        )
        best = min(best, time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.html"
        path.write_text(page, encoding="utf-8")
        size = path.stat().st_size / 1e6
    print(
        f"report: built in {best:.2f} s (goal <= 10 s), {size:.1f} MB (goal <= 15 MB), "
    )


if __name__ == "__main__":
    main()
