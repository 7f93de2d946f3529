"""Runs that never mix (:mod:`ethpredict.lineage`), as a hook."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from kedro.framework.hooks import hook_impl

from ethpredict.hooks.validation import ParameterValidationHook
from ethpredict.lineage import (
    ALLOW_MIXED,
    Lineage,
    RunLock,
    clean_stale_temps,
    fingerprint,
)
from ethpredict.secrets import redact


def on_disk(catalog, name: str) -> bool:
    """A dataset of the catalog that is a file or folder (not memory, not params)."""
    if name.startswith("params:") or name == "parameters" or name not in catalog:
        return False
    return load_path(catalog.get(name)) is not None


def load_path(dataset) -> Path | None:
    """The file or folder ``dataset`` loads from (a versioned dataset's
    current version; through kedro-mlflow's artefact wrapper), or None."""
    inner = getattr(dataset, "_artifact_wrapped", None) or dataset
    for candidate in (dataset, inner):
        with contextlib.suppress(Exception):
            path = candidate._get_load_path()
            return Path(str(path))
        path = getattr(candidate, "_filepath", None)
        if path is not None:
            return Path(str(path))
    return None


def check_folds(bars, params) -> None:
    """Raise now if the walk-forward folds of ``params.model.cv`` do not fit
    ``bars`` (before the bars are saved)."""
    from ethpredict.modeling.folds import walk_forward  # lazy: NumPy at start-up

    times = bars["open_time"].to_numpy() if "open_time" in bars else None
    walk_forward(len(bars), params.model.cv, times)


class RunGuardHook:
    """Runs that never mix (:mod:`ethpredict.lineage`): one run at a time in
    a project, stale temporary files removed, each output's lineage
    recorded, inputs of two versions refused — and the walk-forward folds
    checked against the data's length as soon as the bars exist, before
    they are saved (Kedro saves a node's outputs after ``after_node_run``),
    so a run that cannot model its data replaces nothing."""

    def __init__(self, validation: ParameterValidationHook) -> None:
        self._validation = validation
        self._data: Path | None = None
        self._lock = None
        self._lineage = None
        self._run_id = ""
        self._persisted: set[str] = set()
        self._inputs: dict[str, list[str]] = {}
        self._folds = False
        self._catalog = None

    @hook_impl
    def after_context_created(self, context) -> None:
        self._data = Path(context.project_path) / "data"

    @hook_impl(trylast=True)  # after a sweep's trials: shared studies run side by side
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        if self._data is None:
            return
        command = redact(" ".join(["kedro", *sys.argv[1:]]))
        self._lock = RunLock(self._data)
        self._lock.acquire(command)
        try:
            clean_stale_temps(self._data)
            self._persisted = {n for n in pipeline.all_outputs() if on_disk(catalog, n)}
            self._inputs = {
                n.name: [
                    i
                    for i in n.inputs
                    if not i.startswith("params:") and i != "parameters"
                ]
                for n in pipeline.nodes
            }
            self._folds = any(n.name == "fit_models" for n in pipeline.nodes)
            lineage = Lineage(self._data)
            if os.environ.get(ALLOW_MIXED) != "1":
                lineage.check(
                    sorted(i for i in pipeline.inputs() if on_disk(catalog, i))
                )
            params = self._validation.parameters
            self._run_id = str(run_params.get("run_id") or run_params.get("session_id"))
            names = run_params.get("pipeline_names") or [
                run_params.get("pipeline_name")
            ]
            lineage.start(
                self._run_id,
                command,
                ",".join(n for n in names if n) or "__default__",
                fingerprint(params.model_dump(mode="json"))
                if params is not None
                else "",
            )
            lineage.save()
            self._lineage = lineage
        except BaseException:
            self._release()
            raise

    @hook_impl
    def after_node_run(self, node, catalog, inputs, outputs, is_async, run_id) -> None:
        if self._lineage is None:
            return
        params = self._validation.parameters
        if self._folds and "bars" in outputs and params is not None:
            check_folds(outputs["bars"], params)
        self._lineage.node_ran(
            self._inputs.get(node.name, []), list(outputs), self._persisted
        )

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data, node) -> None:
        if self._lineage is None or dataset_name not in self._persisted:
            return
        dataset = self._catalog.get(dataset_name) if self._catalog is not None else None
        path = load_path(dataset)
        if path is not None:
            inputs = self._inputs.get(node.name, [])
            self._lineage.saved(self._run_id, dataset_name, path, inputs)
            self._lineage.save()

    @hook_impl
    def after_catalog_created(self, catalog) -> None:
        self._catalog = catalog

    @hook_impl
    def after_pipeline_run(self, run_params, pipeline, catalog) -> None:
        self._end("completed")

    @hook_impl
    def on_pipeline_error(self, error, run_params, pipeline, catalog) -> None:
        self._end("failed")

    def _end(self, status: str) -> None:
        if self._lineage is not None:
            self._lineage.end(self._run_id, status)
            with contextlib.suppress(OSError):
                self._lineage.save()
        self._lineage = None
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
