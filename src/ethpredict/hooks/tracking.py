"""What kedro-mlflow does not log the way our users read it, as a hook."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path

from kedro.framework.hooks import hook_impl

from ethpredict.hooks.validation import ParameterValidationHook
from ethpredict.secrets import redact_tree

log = logging.getLogger(__name__)


def flatten(tree: dict, prefix: str = "") -> dict[str, object]:
    """``{"mm": {"gamma": 0.3}}`` → ``{"mm.gamma": 0.3}``."""
    out: dict[str, object] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def write_ahead_log(uri: str) -> None:
    """Put a SQLite tracking store in WAL mode (it stays so): MLflow writes
    each parameter and metric in a transaction of its own, and in SQLite's
    default rollback-journal mode each costs several disk syncs (21 ms a
    parameter on this machine; 9 ms in WAL mode). Other stores: nothing."""
    if not uri.startswith("sqlite:///"):
        return
    path = uri.removeprefix("sqlite:///")
    if path in ("", ":memory:") or not Path(path).exists():
        return
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:  # busy or read-only: only slower
        log.debug("MLflow store %s stays in its journal mode: %s", path, exc)


def log_parameters(params) -> None:
    """Every parameter under its dotted name, secrets masked, to the active
    MLflow run (in batches of 100, MLflow's limit)."""
    import mlflow  # lazy: MLflow takes seconds to import

    write_ahead_log(mlflow.get_tracking_uri())
    tree = flatten(params.model_dump(mode="json"))
    items = [(k, redact_tree(v, k)) for k, v in tree.items()]
    for i in range(0, len(items), 100):
        mlflow.log_params(dict(items[i : i + 100]))


class TrackingHook:
    """What kedro-mlflow does not log the way our users read it: every
    parameter under its dotted name (``mm.gamma``; kedro-mlflow logs each
    namespace as one string, since nodes receive validated models), and the
    saved model files (its artefact wrapper cannot wrap versioned datasets
    under Kedro 1.7: it makes a save version of its own, which the catalog
    rejects) — and the report when ``report.mlflow_copy`` is true (7 MB a
    run; by default only ``metrics.json`` is). Does nothing when no MLflow
    run is active."""

    MODELS = ("primary_model", "meta_model")

    def __init__(self, validation: ParameterValidationHook) -> None:
        self._validation = validation  # holds the run's validated parameters
        self._catalog = None
        self._logged = False

    @hook_impl
    def after_context_created(self, context) -> None:
        self._logged = False  # a new run

    @hook_impl
    def after_catalog_created(self, catalog) -> None:
        self._catalog = catalog

    @hook_impl
    def before_node_run(self, node, catalog, inputs, is_async, run_id) -> None:
        import mlflow

        params = self._validation.parameters
        if self._logged or params is None or mlflow.active_run() is None:
            return
        log_parameters(params)
        self._logged = True  # once per run

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data, node) -> None:
        params = self._validation.parameters
        report = (
            dataset_name == "report"
            and params is not None
            and params.report.mlflow_copy
        )
        if (dataset_name not in self.MODELS and not report) or self._catalog is None:
            return
        import mlflow

        dataset = self._catalog.get(dataset_name)
        if mlflow.active_run() is None or dataset is None:
            return
        folder = "report" if report else "model"
        mlflow.log_artifact(str(dataset._get_load_path()), artifact_path=folder)
