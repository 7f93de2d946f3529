"""market_making → backtesting as a sliced Kedro run on an in-memory catalog."""

from __future__ import annotations

import numpy as np
import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from ethpredict.params import validate_parameters
from ethpredict.pipeline_registry import register_pipelines
from ethpredict.sweep import param_entries
from ethpredict.testing.data_engineering import Kept
from ethpredict.testing.project import model_metrics

OUTPUTS = [
    "calibration",
    "quotes",
    "quotes_baseline",
    "book",
    "fills",
    "orders",
    "book_baseline",
    "fills_baseline",
    "orders_baseline",
    "venue",
    "fill_rule_sensitivity",
    "backtest_metrics",
    "report",
    "metrics",
    "tracked_metrics",
]


def test_backtest_slice(small):
    bars = small["bars"]
    rng = np.random.default_rng(0)
    up = rng.uniform(0.2, 0.5, len(bars))
    pred = pd.DataFrame(
        {
            "p_down": 0.7 - up,
            "p_flat": 0.3,
            "p_up": up,
            "bet_size": rng.uniform(-1, 1, len(bars)),
            "bet_source": "meta",
        },
        index=bars.index,
    )
    pred = pred.iloc[1440:]
    trades = pd.DataFrame(
        {"price": pd.Series(dtype=float), "side": pd.Series(dtype=int)}
    )
    catalog = DataCatalog(
        {
            "bars": MemoryDataset(bars),
            "predictions": MemoryDataset(pred),
            "trades": MemoryDataset(trades),
            "pool_liquidity": MemoryDataset(pd.DataFrame()),
            **{
                name: MemoryDataset(value)
                for name, value in param_entries(
                    validate_parameters(
                        {
                            "mm": {"calib_window": 240, "gamma": 0.05},
                            "labels": {"vol_span": 50},
                            "risk": {"max_drawdown": None},
                            "report": {"max_points": 200},
                            "backtest": {"requote_threshold": 20, "gas_units": 100_000},
                        }
                    )
                ).items()
            },
            "model_metrics": MemoryDataset(model_metrics()),
            "data_manifest": MemoryDataset(
                {
                    "source": "synthetic",
                    "synthetic": True,
                    "notice": "SYNTHETIC DATA: test",
                    "symbol": "ETHUSDT",
                    "interval": "1m",
                    "start": str(bars.index[0]),
                    "end": str(bars.index[-1]),
                    "bars": len(bars),
                    "gaps": 0,
                    "filled_bars": 0,
                    "trades": 0,
                    "interval_s": 60,
                    "files": [],
                }
            ),
            **{n: Kept() for n in OUTPUTS},
        }
    )
    pipe = register_pipelines()["backtest"]
    SequentialRunner().run(pipe, catalog)
    m = catalog["backtest_metrics"].load()
    assert m["period"]["start"] == str(bars.index[1440])
    assert m["with_signal"]["fills"] > 0 and m["with_signal"]["updates"] > 0
    assert m["without_signal"]["fills"] > 0
    rows = catalog["fill_rule_sensitivity"].load().set_index("rule")
    assert rows["this_run"].sum() == 1  # the run's own rule, its own book
    assert rows.loc[rows["this_run"], "fills"].item() == m["with_signal"]["fills"]
    assert (
        rows.loc["touch, 0 ticks through", "fills"]
        >= rows.loc["touch, 2 ticks through", "fills"]
    )
    book = catalog["book"].load()
    parts = book["spread_pnl"] + book["inventory_pnl"] - book["fees"] - book["gas"]
    np.testing.assert_allclose(parts, book["equity"], atol=1e-7)
    assert (catalog["quotes_baseline"].load()["mu"] == 0).all()
    assert catalog["quotes"].load().attrs["alpha_weight"] == 4.0
    page = catalog["report"].load()
    assert page.startswith("<!DOCTYPE html>") and "SYNTHETIC DATA" in page
    # opens offline: nothing is loaded from elsewhere (plotly.js is inline)
    assert "<script src=" not in page and "<link" not in page
    assert page.count('class="plotly-graph-div"') == 5  # five interactive figures
    # what the signal added, with its block-bootstrap interval over the days,
    # is the report's first line and in metrics.json
    ci = m["intervals"]
    assert ci["level"] == 0.95
    assert ci["block_days"] == max(1, round(m["with_signal"]["days"] ** (1 / 3)))
    lo, hi = ci["signal_added"]["total_pnl"]
    assert lo <= hi and ci["backtest"]["sharpe"][0] <= ci["backtest"]["sharpe"][1]
    first = page.split('<p class="answer">', 1)[1].split("</p>", 1)[0]
    assert first.startswith("Does the learned signal make the market maker more money?")
    assert f"{m['signal_added']['total_pnl']:+,.2f} USD" in first
    metrics = catalog["metrics"].load()
    assert (
        metrics["signal_added.total_pnl_lo"],
        metrics["signal_added.total_pnl_hi"],
    ) == (lo, hi)
    assert metrics["backtest.fills"] == m["with_signal"]["fills"]
    assert metrics["signal.gbt.log_loss"] is not None
    tracked = catalog["tracked_metrics"].load()
    assert tracked["backtest.total_pnl"] == {
        "value": m["with_signal"]["total_pnl"],
        "step": 0,
    }
    assert all(isinstance(v["value"], float) for v in tracked.values())
