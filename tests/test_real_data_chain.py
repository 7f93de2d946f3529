"""The whole default chain (``kedro run``: all six pipelines) on every real
dataset in ``../shared/data/real/``: each run ends with a report whose
metrics are finite, whose out-of-sample predictions cover every bar after the
first training window, whose calibrated probabilities are at least as good
as the class prior's (log-loss), and whose PnL decomposition sums to the
total.

Skips when the folder is absent. Long files run on a short window
(``data.start``/``data.end``); windows and model sizes are scaled to the
data so the module stays within the CI time limit.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from ethpredict.testing.invariants import (
    check_execution,
    check_metrics,
    check_pool_execution,
    pnl_parts,
)
from ethpredict.testing.project import (
    kedro,
    project_root,
    real_data_dir,
    scratch_project,
)
from ethpredict.volatility import unobserved

PROJECT = project_root(__file__)
REAL = real_data_dir(PROJECT)

UNI = "uniswap-v3"
PERP = "perp-1m/ETHUSDT-PERP"
REF_DAY = "cex-reference/ETHUSDT-PERP_1m_2024-01-05.csv.gz"  # the pool day's exchange
#: name → (data parameters, bars expected)
DATASETS = {
    "spot-1m": (
        {
            "source": "ohlcv",
            "path": "ohlcv-1m/ETHUSDT_1m_2024-07-26_2024-08-25.csv.gz",
            "start": "2024-08-03",
            "end": "2024-08-07",
        },
        5760,
    ),
    "perp-1m-funding": (
        {
            "source": "ohlcv",
            "market": "perpetual",
            "path": f"{PERP}_1m_2024-12-19_2025-01-18.csv.gz",
            "funding_path": f"{PERP}_funding_8h_2024-12-19_2025-01-18.csv.gz",
            "start": "2024-12-20",
            "end": "2024-12-24",
        },
        5760,
    ),
    "klines-15m": ({"source": "binance_klines", "path": "ETHUSDT-15m.csv"}, 1363),
    "klines-1h": ({"source": "binance_klines", "path": "ETHUSDT-1h.csv"}, 722),
    "trades-spot-1s": (
        {
            "source": "binance_trades",
            "interval": "1s",
            "path": "binance_stream_spot_ethusdt_*.jsonl.gz",
        },
        None,
    ),
    "trades-usdm-1s": (
        {
            "source": "binance_trades",
            "interval": "1s",
            "path": "binance_stream_usdm_ethusdt_*.jsonl.gz",
        },
        None,
    ),
    "uniswap-raw-blocks": (
        {
            "source": "uniswap_v3",
            "path": f"{UNI}/ethereum-usdc-weth-005-2024-01-05",
            "reference": {"path": REF_DAY},
        },
        7199,
    ),
    "uniswap-030-1m": (
        {
            "source": "uniswap_v3",
            "interval": "1m",
            "path": f"{UNI}/ethereum-usdc-weth-030-2024-01-05",
        },
        None,
    ),
    "uniswap-polygon-minutes": (
        {
            "source": "uniswap_v3",
            "path": f"{UNI}/polygon-usdc-weth-005-minute",
            "start": "2024-02-15",
            "end": "2024-02-17",
        },
        2880,
    ),
}


def run_params(n: int) -> dict:
    """Windows scaled to ``n`` bars: 40 % first training window, 4 test folds."""
    train = max(60, int(n * 0.4))
    return {
        "features": {
            "zscore_window": max(10, min(1440, n // 8)),
            "fracdiff_window": max(10, min(256, n // 20)),
            "vol_window": max(5, min(60, n // 40)),
            "micro_window": max(5, min(60, n // 40)),
        },
        "labels": {"vol_span": max(10, min(100, n // 30))},
        "model": {
            "progress": False,
            "cv": {
                "train_bars": train,
                "test_bars": max(20, (n - train) // 4),
                "embargo_bars": 15,
            },
            "net": {"max_epochs": 4},
            "gbt_iter": 30,
            "meta": {"min_events": 50},
        },
        "mm": {
            "calib_window": max(30, min(1440, n // 10)),
            "calib_every": max(5, min(60, n // 100)),
        },
    }


@pytest.fixture(scope="module")
def real() -> object:
    if not REAL.is_dir():
        pytest.skip(f"real market data folder {REAL} is absent")
    return REAL


def count_bars(data: dict) -> int:
    from ethpredict.params import DataParams
    from ethpredict.pipelines.data_engineering.nodes import ingest_market_data

    return len(ingest_market_data(DataParams(**data))[0])


@pytest.mark.parametrize("name", list(DATASETS))
def test_whole_chain_on_real_data(real, tmp_path, name):
    data, expected = DATASETS[name]
    data = dict(data)
    for key in ("path", "funding_path"):
        if key in data:
            data[key] = str(real / data[key])
    if "reference" in data:  # an exchange reference for the pool
        data["reference"] = {"path": str(real / data["reference"]["path"])}
    if "*" in data["path"]:  # the captures of one venue, side by side
        folder = tmp_path / "captures"
        folder.mkdir()
        for f in real.glob(DATASETS[name][0]["path"]):
            (folder / f.name).symlink_to(f)
        data["path"] = str(folder)
    n = count_bars(data)
    if expected is not None:
        assert n == expected
    project = scratch_project(tmp_path / "p", PROJECT)
    params = {"data": data, **run_params(n)}
    (project / "conf" / "local" / "parameters.yml").write_text(yaml.safe_dump(params))
    res = kedro(project, "run", timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    out = project / "data"
    report = out / "08_reporting" / "report.html"
    assert report.stat().st_size > 10_000

    metrics = json.loads((out / "08_reporting" / "metrics.json").read_text())
    numbers = {k: v for k, v in metrics.items() if isinstance(v, int | float)}
    bad = {k: v for k, v in numbers.items() if not math.isfinite(v)}
    assert not bad, bad
    for k in (
        "total_pnl",
        "spread_pnl",
        "inventory_pnl",
        "fees",
        "gas",
        "funding",
        "max_drawdown",
        "fills",
        "updates",
    ):
        assert isinstance(metrics[f"backtest.{k}"], int | float), k
    assert metrics["data.bars"] == n and metrics["data.synthetic"] is False
    assert not check_metrics(metrics, max_inventory=5.0)

    # calibrated probabilities at least as good as knowing nothing but the prior
    mm = json.loads((out / "07_model_output" / "model_metrics.json").read_text())
    model_ll = mm["models"][mm["model_kind"]]["overall"]["log_loss"]
    prior_ll = mm["calibration"]["prior_log_loss"]
    assert model_ll <= prior_ll + 1e-12, (name, model_ll, prior_ll)
    assert mm["bet_size"]["source"] in ("meta", "primary", "mixed")
    assert "before calibration" in report.read_text()
    # labelled by what was read: a USDC/WETH pool is ETHUSDC, quoted in USDC
    manifest = json.loads((out / "02_intermediate" / "data_manifest.json").read_text())
    if name in ("uniswap-raw-blocks", "uniswap-030-1m"):  # Ethereum's USDC/WETH pools
        assert (manifest["symbol"], manifest["quote"]) == ("ETHUSDC", "USDC")
        assert "USDC per ETH" in report.read_text()

    bars = pd.read_parquet(out / "02_intermediate" / "bars.parquet")
    preds = pd.read_parquet(out / "07_model_output" / "predictions.parquet")
    train = params["model"]["cv"]["train_bars"]
    assert preds.index.equals(bars.index[train:])  # one OOS prediction per bar
    # real bars get a probability; gap-filled or halted ones are no
    # observation (a second without a trade on 1-s bars) and get none
    real_bar = ~unobserved(bars)[train:]
    assert preds.loc[real_bar, ["p_up", "p_down"]].notna().all().all()
    assert preds.loc[~real_bar, ["p_up", "p_down"]].isna().all().all()

    book = pd.read_parquet(out / "07_model_output" / "book.parquet")
    parts = pnl_parts(book)
    np.testing.assert_allclose(parts, book["equity"], atol=1e-6)
    total = (
        metrics["backtest.spread_pnl"]
        + metrics["backtest.inventory_pnl"]
        - metrics["backtest.fees"]
        - metrics["backtest.gas"]
        + metrics["backtest.funding"]
    )
    assert total == pytest.approx(metrics["backtest.total_pnl"], abs=1e-6)

    venue = json.loads((out / "08_reporting" / "backtest_metrics.json").read_text())[
        "venue"
    ]
    if name in ("uniswap-raw-blocks", "uniswap-030-1m"):  # Ethereum's USDC/WETH pools
        assert venue["name"] == "uniswap_v3" and venue["maker_fee_bps"] < 0
        assert venue["log_tick"] > 0
    if data.get("market") == "perpetual":
        assert venue["funding"] and metrics["backtest.funding"] != 0
    if data["source"] != "uniswap_v3":  # exchange data: no gas unless asked
        assert (
            venue["name"] in ("cex_spot", "cex_perp")
            and venue["gas_eth_per_action"] == 0
        )
        assert metrics["backtest.gas"] == 0
    if "usdm" in name or data.get("market") == "perpetual":
        assert venue["name"] == "cex_perp"

    # fills a market could have given, from the data alone
    fills = pd.read_parquet(out / "07_model_output" / "fills.parquet")
    orders = pd.read_parquet(out / "07_model_output" / "orders.parquet")
    bt = yaml.safe_load(
        (project / "conf" / "base" / "parameters_backtesting.yml").read_text()
    )
    cap = bt["backtest"]["max_participation"]
    if data["source"] == "uniswap_v3":  # range orders filled by the pool's swaps
        bad = check_pool_execution(bars, fills, orders, book)
        lp = json.loads((out / "08_reporting" / "backtest_metrics.json").read_text())
        parts = lp["with_signal"]["lp"]
        assert abs(parts["residual"]) < 1e-6, parts
        marked = "reference" if "reference" in data else "pool"
        assert lp["venue"]["marked_at"] == marked
        assert set(lp["lp_baselines"]) >= {"full range", "hold 50/50"}
    else:
        bad = check_execution(bars, fills, orders, book, cap, max_position=5.0)
    assert not any(bad.values()), bad
    assert (out / "08_reporting" / "fill_rule_sensitivity.parquet").exists()
