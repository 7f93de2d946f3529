"""Kedro datasets that never leave a half-written file.

Kedro's stock pandas/JSON datasets write straight into the target file, so a
crash mid-write leaves it corrupt. These subclasses write to a temporary file
in the same folder and move it into place only when the write succeeded
(local filesystem; other protocols fall back to the parent's behaviour).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from kedro.io.core import get_filepath_str
from kedro_datasets.json import JSONDataset as _JSONDataset
from kedro_datasets.pandas import ParquetDataset as _ParquetDataset

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
