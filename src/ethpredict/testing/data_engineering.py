"""data_engineering as a sliced Kedro run on an in-memory catalog."""

from __future__ import annotations

from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from ethpredict.params import DataParams, FeaturesParams

OUTPUTS = [
    "bars",
    "trades",
    "data_manifest",
    "pool_liquidity",
    "features_base",
    "features_advanced",
    "features_reference",
]


class Kept(MemoryDataset):
    """Keeps its data after the runner releases it, so tests can read it."""

    def _release(self) -> None:
        pass


def catalog(data: dict, features: dict | None = None) -> DataCatalog:
    """``params:data`` and ``params:features`` (validated) and a ``Kept``
    dataset for every output of data_engineering."""
    return DataCatalog(
        {
            "params:data": MemoryDataset(DataParams.model_validate(data)),
            "params:features": MemoryDataset(
                FeaturesParams.model_validate(features or {"zscore_window": 30})
            ),
            **{name: Kept() for name in OUTPUTS},
        }
    )


def run(cat: DataCatalog, pipe=None) -> dict:
    """Run ``pipe`` (default: all of data_engineering) on ``cat``; returns
    the outputs it wrote, by name."""
    from ethpredict.pipelines.data_engineering import create_pipeline

    SequentialRunner().run(pipe or create_pipeline(), cat)
    return {name: cat[name].load() for name in OUTPUTS if cat[name].exists()}
