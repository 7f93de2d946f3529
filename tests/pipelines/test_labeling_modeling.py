"""labeling → modeling as a sliced Kedro run on an in-memory catalog."""

from __future__ import annotations

import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from ethpredict.pipelines.labeling import create_pipeline as labeling
from ethpredict.pipelines.modeling import create_pipeline as modeling
from ethpredict.testing.data_engineering import Kept
from ethpredict.testing.modeling import LP, MP

OUTPUTS = [
    "events",
    "labels",
    "model_input",
    "model_predictions",
    "folds",
    "primary_model",
    "predictions",
    "meta_model",
    "meta_events",
    "model_metrics",
]


def test_labeling_then_modeling(small):
    bars = small["bars"].copy()
    bars["is_stale"] = False
    halt = slice(MP.cv.train_bars + 100, MP.cv.train_bars + 172)  # in a test window
    bars.iloc[halt, bars.columns.get_loc("is_stale")] = True
    catalog = DataCatalog(
        {
            "bars": MemoryDataset(bars),
            "features_base": MemoryDataset(small["features_base"]),
            "features_advanced": MemoryDataset(small["features_advanced"]),
            "features_reference": MemoryDataset(pd.DataFrame(index=bars.index)),
            "params:labels": MemoryDataset(LP),
            "params:model": MemoryDataset(MP),
            **{name: Kept() for name in OUTPUTS},
        }
    )
    pipe = labeling() + modeling()  # data_engineering outputs come from the catalog
    SequentialRunner().run(pipe, catalog)
    labels = catalog["labels"].load()
    assert labels["uniqueness"].between(0, 1).all() and len(labels) > 100
    preds = catalog["predictions"].load()
    assert preds.index.equals(small["bars"].index[MP.cv.train_bars :])
    assert preds.attrs["model_kind"] == "primary"
    # no event starts on a stale bar, and nothing is predicted for one
    assert not labels["t0_idx"].between(halt.start, halt.stop - 1).any()
    stale = preds.loc[bars.index[halt]]
    assert stale[["p_down", "p_up", "meta_prob"]].isna().all().all()
    assert (stale["bet_size"] == 0).all() and (stale["side"] == 0).all()
    live = preds.drop(bars.index[halt])
    assert live["p_up"].notna().all() and (live["side"].abs() == 1).all()
    metrics = catalog["model_metrics"].load()
    assert metrics["folds"][0]["train"] > 0
    assert "state_dict" in catalog["primary_model"].load()


def test_the_default_pipeline_is_the_whole_chain():
    from kedro.framework.project import configure_project, pipelines

    configure_project("ethpredict")
    names = {n.name for n in pipelines["__default__"].nodes}
    assert {
        "ingest_market_data",
        "sample_events",
        "fit_models",
        "evaluate_models",
    } <= names
    assert "download_binance_klines" not in names
