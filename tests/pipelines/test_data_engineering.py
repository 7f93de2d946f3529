"""data_engineering as a sliced Kedro run on an in-memory catalog."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kedro.runner import SequentialRunner

from ethpredict.errors import DataValidationError, ParameterError
from ethpredict.pipelines.data_engineering import create_pipeline
from ethpredict.testing.builders import (
    dated_candles,
    halted_klines,
    kline_rows,
    synthetic_pool,
    write_csv,
)
from ethpredict.testing.data_engineering import Kept, catalog, run


def test_synthetic_source_end_to_end(tmp_path):
    out = run(catalog({"path": str(tmp_path), "synthetic": {"days": 2}}))
    bars, manifest = out["bars"], out["data_manifest"]
    assert len(bars) == 2880 and not bars["is_filled"].any()
    assert bars["is_stale"].dtype == bool and not bars["is_stale"].any()
    assert out["data_manifest"]["stale_bars"] == 0
    assert manifest["synthetic"] is True and "SYNTHETIC" in manifest["notice"]
    for name in ("bars", "features_base", "features_advanced"):
        assert out[name].attrs["synthetic"] is True
        assert out[name].index.equals(bars.index)
    # the name tells the planted signal (the default one); none: the old name
    assert (
        tmp_path
        / "ETHUSDT-1m-synthetic-seed42-2024-01-01-2d-ic0.1-h15-hl30-noise0.18.json"
    ).exists()


def test_synthetic_file_is_written_once_and_reused(tmp_path):
    cat = catalog({"path": str(tmp_path), "synthetic": {"days": 2}})
    run(cat)
    csv = next(tmp_path.glob("*.csv"))
    stamp = csv.stat().st_mtime_ns
    run(catalog({"path": str(tmp_path), "synthetic": {"days": 2}}))
    assert csv.stat().st_mtime_ns == stamp


def test_kline_folder_with_gap_flagged(tmp_path):
    rows = kline_rows(80)
    write_csv(tmp_path / "a.csv", rows[:40], header=True)
    write_csv(tmp_path / "b.csv", rows[45:])
    out = run(catalog({"source": "binance_klines", "path": str(tmp_path)}))
    assert len(out["bars"]) == 80 and out["bars"]["is_filled"].sum() == 5
    assert out["data_manifest"]["synthetic"] is False
    assert (
        out["data_manifest"]["gaps"] == 1 and out["data_manifest"]["filled_bars"] == 5
    )
    assert out["bars"].attrs["source"] == "binance_klines"


def test_feature_sets_can_be_switched_off(tmp_path):
    write_csv(tmp_path / "a.csv", kline_rows(50))
    out = run(
        catalog(
            {"source": "binance_klines", "path": str(tmp_path)}, {"sets": ["advanced"]}
        )
    )
    assert out["features_base"].shape == (50, 0)
    assert out["features_advanced"].shape[1] > 0


def test_slice_from_bars_runs_features_only(tmp_path):
    write_csv(tmp_path / "a.csv", kline_rows(50))
    full = run(catalog({"source": "binance_klines", "path": str(tmp_path)}))
    cat = catalog({"source": "binance_klines", "path": "/nowhere"})
    cat["bars"] = Kept(full["bars"])
    out = run(cat, create_pipeline().from_inputs("bars"))
    pd.testing.assert_frame_equal(out["features_base"], full["features_base"])


def test_invalid_data_stops_the_pipeline(tmp_path):
    write_csv(tmp_path / "a.csv", kline_rows(10)[:3] + kline_rows(10)[5:])
    cat = catalog({"source": "binance_klines", "path": str(tmp_path), "on_gap": "fail"})
    with pytest.raises(DataValidationError, match="gap of 2 missing bar"):
        SequentialRunner().run(create_pipeline(), cat)


def test_trade_capture_source(tmp_path):
    import json

    t0 = 1_704_067_200_000

    def trade(i: int) -> dict:
        return {
            "e": "trade",
            "s": "ETHUSDT",
            "t": i,
            "p": str(100 + i % 3),
            "q": "1",
            "T": t0 + i * 7_000,
            "m": bool(i % 2),
        }

    lines = [
        f"{i} " + json.dumps({"stream": "ethusdt@trade", "data": trade(i)})
        for i in range(60)
    ]
    (tmp_path / "cap.jsonl").write_text("\n".join(lines))
    out = run(catalog({"source": "binance_trades", "path": str(tmp_path)}))
    assert len(out["trades"]) == 60 and set(out["trades"]["side"]) == {-1, 1}
    assert out["bars"]["is_stale"].dtype == bool
    assert len(out["bars"]) == 5  # 7 minutes of trades minus the partial edges


def test_uniswap_pool_source_end_to_end(tmp_path):
    path, _ = synthetic_pool(tmp_path, n=600)
    out = run(catalog({"source": "uniswap_v3", "path": str(path), "stale_min_bars": 2}))
    bars, swaps, liq = out["bars"], out["trades"], out["pool_liquidity"]
    assert out["data_manifest"]["venue"] == "uniswap_v3" and len(swaps) == 600
    assert {"block", "liquidity", "fee_bps", "exec_price"} <= set(swaps.columns)
    assert liq["liquidity"].notna().all() and len(liq) == 601
    # a block without swaps is the pool's real quiet state, never a halt
    assert (bars["volume"] == 0).rolling(2).sum().eq(2).any()
    assert bars["is_stale"].dtype == bool and not bars["is_stale"].any()
    for name in ("features_base", "features_advanced"):
        assert out[name].index.equals(bars.index)
        assert out[name].attrs["venue"] == "uniswap_v3"


def test_ohlcv_source_end_to_end(tmp_path):
    dated_candles(300).to_feather(tmp_path / "c.feather")
    out = run(catalog({"source": "ohlcv", "path": str(tmp_path / "c.feather")}))
    assert len(out["bars"]) == 300 and out["data_manifest"]["source"] == "ohlcv"
    assert out["trades"].empty and out["pool_liquidity"].empty
    assert out["bars"]["is_stale"].dtype == bool


def test_a_halt_then_a_gap_is_marked_reported_and_missing(tmp_path, caplog):
    caplog.set_level("WARNING", logger="ethpredict")
    out = run(catalog({"source": "binance_klines", "path": halted_klines(tmp_path)}))
    bars, manifest = out["bars"], out["data_manifest"]
    assert len(bars) == 600
    assert np.flatnonzero(bars["is_stale"]).tolist() == list(range(200, 272))
    assert np.flatnonzero(bars["is_filled"]).tolist() == list(range(272, 352))
    assert manifest["stale_bars"] == 72 and manifest["filled_bars"] == 80
    assert manifest["stale_ranges"] == [
        ["2024-01-01T03:20:00+00:00", "2024-01-01T04:31:00+00:00"]
    ]
    assert manifest["filled_ranges"] == [
        ["2024-01-01T04:32:00+00:00", "2024-01-01T05:51:00+00:00"]
    ]
    assert manifest["on_stale"] == "flag" and manifest["stale_runs"] == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert (
        "72 stale bar(s) (a halt: zero volume at a frozen price for ≥ 3 bars) in 1 "
        "run(s), kept, marked is_stale (data.on_stale: flag); features, labels and "
        "calibration treat them as missing: "
        "2024-01-01T03:20:00+00:00 – 2024-01-01T04:31:00+00:00"
    ) in warnings
    assert any(
        w.startswith("80 gap-filled bar(s) in 1 run(s)")
        and "2024-01-01T04:32:00+00:00 – 2024-01-01T05:51:00+00:00" in w
        for w in warnings
    )
    base, adv = out["features_base"], out["features_advanced"]
    for f in (base, adv):  # missing, not calm: no 0 volatility in the halt
        assert f.iloc[200:352].isna().all().all()
    assert base["rv_cc_60"].iloc[199] > 0 and base["rv_cc_60"].iloc[412] > 0
    assert base["rv_cc_60"].iloc[352:412].isna().all()  # windows over the halt
    assert np.isnan(base["ret_1"].iat[352]) and np.isfinite(base["ret_1"].iat[353])


def test_on_stale_fail_stops_with_one_clear_line(tmp_path):
    path = halted_klines(tmp_path)
    cat = catalog({"source": "binance_klines", "path": path, "on_stale": "fail"})
    with pytest.raises(DataValidationError) as exc:
        SequentialRunner().run(create_pipeline(), cat)
    msg = str(exc.value)
    assert "k.csv, line 201" in msg and "72 stale bar(s)" in msg and "\n" not in msg
    assert "2024-01-01T03:20:00+00:00 – 2024-01-01T04:31:00+00:00" in msg
    assert "data.on_stale=drop" in msg


def test_on_stale_drop_removes_them_and_features_match_flag(tmp_path):
    path = halted_klines(tmp_path)
    flag = run(catalog({"source": "binance_klines", "path": path}))
    drop = run(catalog({"source": "binance_klines", "path": path, "on_stale": "drop"}))
    bars = drop["bars"]
    assert len(bars) == 528 and not bars["is_stale"].any()
    assert bars["is_filled"].sum() == 80 and drop["data_manifest"]["stale_bars"] == 72
    assert bars.index.equals(flag["bars"].index[~flag["bars"]["is_stale"]])
    for name in ("features_base", "features_advanced"):
        assert drop[name].index.equals(bars.index)
        pd.testing.assert_frame_equal(drop[name], flag[name].loc[bars.index])


def test_reference_feature_set_and_model_input(tmp_path):
    from ethpredict.pipelines.modeling.nodes import assemble_model_input

    write_csv(tmp_path / "bars" / "a.csv", kline_rows(200))
    write_csv(tmp_path / "ref" / "r.csv", kline_rows(200, seed=5))
    data = {
        "source": "binance_klines",
        "path": str(tmp_path / "bars"),
        "reference": {"path": str(tmp_path / "ref")},
    }
    features = {
        "zscore_window": 30,
        "micro_window": 10,
        "sets": ["base", "advanced", "reference"],
    }
    out = run(catalog(data, features))
    ref = out["features_reference"]
    assert {"ref_ret_1", "ref_basis_bp", "ref_volume_z_10"} <= set(ref.columns)
    assert ref.index.equals(out["bars"].index) and ref.attrs["reference"] == "r.csv"
    assert ref["ref_basis_bp"].iloc[2:].notna().all()
    x = assemble_model_input(out["features_base"], out["features_advanced"], ref)
    assert "ref_basis_bp" in x and "ret_1" in x
    # without the set: no columns; without a reference: a clear error
    assert run(catalog(data))["features_reference"].shape == (200, 0)
    cat = catalog(
        {"source": "binance_klines", "path": str(tmp_path / "bars")}, features
    )
    with pytest.raises(ParameterError, match="features.sets includes 'reference'"):
        SequentialRunner().run(create_pipeline(), cat)
