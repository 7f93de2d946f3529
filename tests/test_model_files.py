"""Model files loaded through the catalog never execute code from the file:
the skops dataset trusts exactly the types the project's meta models hold."""

from __future__ import annotations

import operator
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from kedro.io.core import DatasetError
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ethpredict.datasets import SkopsDataset
from ethpredict.modeling.walk import GBT_BINS

X = np.random.default_rng(0).normal(size=(300, 6))
Y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)


@pytest.mark.parametrize(
    "model",
    [
        make_pipeline(
            StandardScaler(),
            SimpleImputer(strategy="constant", fill_value=0.0),
            LogisticRegression(max_iter=1000),
        ),
        HistGradientBoostingClassifier(
            max_iter=20,
            max_leaf_nodes=15,
            early_stopping=False,
            random_state=0,
            max_bins=GBT_BINS,
        ),
        None,  # no meta model: the record of why
    ],
    ids=["logistic", "gbt", "none"],
)
def test_every_meta_model_the_project_writes_loads(model, tmp_path):
    ds = SkopsDataset(filepath=str(tmp_path / "meta.skops"))
    if model is None:
        ds.save({"fitted": False, "min_events": 200})
        assert ds.load() == {"fitted": False, "min_events": 200}
        return
    ds.save(model.fit(X, Y))
    np.testing.assert_array_equal(ds.load().predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        ({"f": eval}, "builtins.eval"),
        ({"g": operator.attrgetter("__class__")}, "operator.attrgetter"),
        ({"h": np.load}, "numpy.load"),
    ],
)
def test_a_crafted_model_file_is_refused_and_runs_nothing(payload, name, tmp_path):
    path = tmp_path / "meta_model.skops"
    sio.dump(payload, path)
    before = path.read_bytes()
    with pytest.raises(DatasetError, match=rf"meta_model\.skops: refusing .*{name}"):
        SkopsDataset(filepath=str(path)).load()
    assert path.read_bytes() == before  # the user's file is left as it was


def test_through_the_catalog_the_refusal_is_one_message(tmp_path):
    """As the project's catalog declares it (a notebook's
    ``catalog.load("meta_model")``): one line that names the file and the
    type; directly from the dataset, an ``ETHPredictError``."""
    import yaml
    from kedro.io import DataCatalog

    from ethpredict.errors import ETHPredictError

    entry = yaml.safe_load(
        (Path(__file__).parents[1] / "conf/base/catalog.yml").read_text()
    )
    entry = {**entry["meta_model"], "filepath": str(tmp_path / "meta_model.skops")}
    entry.pop("versioned", None)
    sio.dump({"f": eval}, tmp_path / "meta_model.skops")
    with pytest.raises(DatasetError) as info:
        DataCatalog.from_config({"meta_model": entry}).load("meta_model")
    message = str(info.value)
    assert "\n" not in message and "meta_model.skops" in message
    assert "builtins.eval" in message
    with pytest.raises(ETHPredictError):
        SkopsDataset(filepath=entry["filepath"]).load()
