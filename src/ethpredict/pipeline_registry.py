"""Project pipelines, discovered from ``ethpredict/pipelines/<name>/``.

Every sub-package of :mod:`ethpredict.pipelines` with a ``create_pipeline``
is registered under its folder name; one that fails to import stops the
command with its error. Kedro's ``find_pipelines`` is not used: Kedro 1.7's
CLI makes it import only the requested names (``ethpredict.pipelines.<name>``),
which cannot serve the composite ``backtest`` pipeline.
"""

from __future__ import annotations

import importlib
import pkgutil

from kedro.pipeline import Pipeline

import ethpredict.pipelines

#: Pipelines that reach the network; never part of ``__default__``.
NETWORK_PIPELINES = {"download", "download_pool"}
#: ``kedro run --pipeline=backtest``: market making onwards, from persisted inputs
BACKTEST = ("market_making", "backtesting", "reporting")


def discover() -> dict[str, Pipeline]:
    """``{folder name: create_pipeline()}`` for every pipeline package."""
    found = {}
    for info in pkgutil.iter_modules(ethpredict.pipelines.__path__):
        if info.ispkg:
            module = importlib.import_module(f"ethpredict.pipelines.{info.name}")
            found[info.name] = module.create_pipeline()
    return found


def register_pipelines() -> dict[str, Pipeline]:
    """The discovered pipelines, ``__default__`` (all but the network ones)
    and ``backtest``."""
    pipelines = discover()
    pipelines["__default__"] = sum(
        (p for name, p in pipelines.items() if name not in NETWORK_PIPELINES),
        start=Pipeline([]),
    )
    pipelines["backtest"] = sum(
        (pipelines[n] for n in BACKTEST if n in pipelines), start=Pipeline([])
    )
    return pipelines
