"""Project pipelines, discovered from ``ethpredict/pipelines/<name>/``."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

#: Pipelines that reach the network; never part of ``__default__``.
NETWORK_PIPELINES = {"download"}


def register_pipelines() -> dict[str, Pipeline]:
    """``__default__`` is every discovered pipeline except the network ones.

    Discovery raises on a pipeline that fails to import instead of silently
    dropping it.
    """
    pipelines = find_pipelines(raise_errors=True)
    pipelines.pop("__default__", None)
    pipelines["__default__"] = sum(
        (p for name, p in pipelines.items() if name not in NETWORK_PIPELINES),
        start=Pipeline([]),
    )
    return pipelines
