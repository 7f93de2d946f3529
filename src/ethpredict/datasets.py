"""Kedro datasets that never leave a half-written file, and model artefacts
in formats that do not execute code on load.

Kedro's stock pandas/JSON datasets write straight into the target file, so a
crash mid-write leaves it corrupt. These subclasses write to a temporary file
in the same folder and move it into place only when the write succeeded
(local filesystem; other protocols fall back to the parent's behaviour).
"""

from __future__ import annotations

import glob
import json
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
)
from kedro_datasets.json import JSONDataset as _JSONDataset
from kedro_datasets.pandas import ParquetDataset as _ParquetDataset
from kedro_mlflow.io.metrics import (
    MlflowMetricsHistoryDataset as _MlflowMetricsHistoryDataset,
)

from ethpredict.errors import UntrustedFileError
from ethpredict.io.atomic import atomic_path


class ParquetDataset(_ParquetDataset):
    """``pandas.ParquetDataset`` with atomic saves. Frame ``attrs`` (such as
    ``synthetic``) are stored in the file's metadata and restored on load."""

    def save(self, data: pd.DataFrame) -> None:
        if self._protocol != "file":
            return super().save(data)
        path = get_filepath_str(self._get_save_path(), self._protocol)
        with atomic_path(path) as tmp:
            data.to_parquet(tmp, **self._save_args)
        self._invalidate_cache()
        return None


class JSONDataset(_JSONDataset):
    """``json.JSONDataset`` with atomic saves."""

    def save(self, data: Any) -> None:
        if self._protocol != "file":
            return super().save(data)
        path = get_filepath_str(self._get_save_path(), self._protocol)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(data, **self._save_args))
        self._invalidate_cache()
        return None


class _LocalVersioned(AbstractVersionedDataset):
    """A local, optionally versioned file written atomically."""

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        metadata: dict | None = None,
    ) -> None:
        super().__init__(
            filepath=PurePosixPath(filepath),
            version=version,
            exists_function=lambda p: Path(p).exists(),
            glob_function=lambda pattern: sorted(glob.glob(pattern)),
        )
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version}

    def _exists(self) -> bool:
        try:
            return Path(self._get_load_path()).exists()
        except DatasetError:
            return False


class TorchModelDataset(_LocalVersioned):
    """A dict of tensors and plain values (a ``state_dict`` with its config),
    saved with ``torch.save`` and loaded with ``weights_only=True``: loading
    never executes code from the file."""

    def load(self) -> dict:
        import torch

        return torch.load(self._get_load_path(), weights_only=True, map_location="cpu")

    def save(self, data: dict) -> None:
        import torch

        with atomic_path(self._get_save_path()) as tmp:
            torch.save(data, tmp)


class SkopsDataset(_LocalVersioned):
    """A scikit-learn estimator in skops format, never executing code from
    the file (unlike pickle). Besides what skops trusts by itself (plain
    containers and scikit-learn's estimators), loading trusts exactly the
    types the project's meta models hold — the logistic pipeline, the
    gradient-boosted trees, or the record of no model — and refuses a file
    with any other (``builtins.eval``, ``operator.attrgetter``, any module's
    function: a crafted file runs nothing)."""

    TRUSTED = frozenset(
        {
            "numpy.dtype",  # the logistic pipeline's fitted arrays
            "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        }
    )

    def load(self) -> Any:
        import skops.io as sio

        path = self._get_load_path()
        found = sio.get_untrusted_types(file=path)
        bad = sorted(set(found) - self.TRUSTED)
        if bad:
            raise UntrustedFileError(
                f"{path}: refusing to load a model file that holds types no "
                f"meta model of this project has: {', '.join(bad)}"
            )
        return sio.load(path, trusted=found)

    def save(self, data: Any) -> None:
        import skops.io as sio

        with atomic_path(self._get_save_path()) as tmp:
            sio.dump(data, tmp)


class TextDataset(_LocalVersioned):
    """A UTF-8 text file (the HTML report), written atomically."""

    def load(self) -> str:
        return Path(self._get_load_path()).read_text(encoding="utf-8")

    def save(self, data: str) -> None:
        with atomic_path(self._get_save_path()) as tmp:
            tmp.write_text(data, encoding="utf-8")


class MlflowMetricsDataset(_MlflowMetricsHistoryDataset):
    """kedro-mlflow's metrics dataset, logged in batches of 1000 (one MLflow
    call each) instead of one call per metric: a run's ~140 metrics took
    1.5–3 s on the SQLite tracking store."""

    def _save(self, data: dict) -> None:
        if not self._logging_activated:
            return
        try:
            run_id = self.run_id
        except DatasetError:  # no run: the parent's way (it starts one)
            return super()._save(data)
        import time

        from mlflow.entities import Metric
        from mlflow.tracking import MlflowClient

        now = int(time.time() * 1000)
        metrics = [
            Metric(key, value, now, step)
            for key, item in data.items()
            for key, value, step in self._build_args_list_from_metric_item(key, item)
        ]
        client = MlflowClient()
        for i in range(0, len(metrics), 1000):  # MLflow's limit per batch
            client.log_batch(run_id, metrics=metrics[i : i + 1000])
