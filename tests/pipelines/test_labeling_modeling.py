"""labeling → modeling as a sliced Kedro run on an in-memory catalog."""

from __future__ import annotations

from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from ethpredict.pipelines.labeling import create_pipeline as labeling
from ethpredict.pipelines.modeling import create_pipeline as modeling
from tests.modeling.conftest import LP, MP
from tests.pipelines.test_data_engineering import Kept

OUTPUTS = ["events", "labels", "model_input", "model_predictions", "folds", "primary_model",
           "predictions", "meta_model", "meta_events", "model_metrics"]  # fmt: skip


def test_labeling_then_modeling(small):
    catalog = DataCatalog(
        {
            "bars": MemoryDataset(small["bars"]),
            "features_base": MemoryDataset(small["features_base"]),
            "features_advanced": MemoryDataset(small["features_advanced"]),
            "params:labels": MemoryDataset(LP.model_dump()),
            "params:model": MemoryDataset(MP.model_dump()),
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
