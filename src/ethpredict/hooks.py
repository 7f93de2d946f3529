"""Project hooks: kept thin; the checks they run live beside the code they guard."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from kedro.framework.hooks import hook_impl

from ethpredict.errors import ETHPredictError
from ethpredict.params import Parameters, validate_parameters
from ethpredict.secrets import redact_tree

log = logging.getLogger(__name__)


class ParameterValidationHook:
    """Validate the whole parameter tree (``--params`` included) before any
    node runs. Kedro's own check covers only ``params:`` inputs that nodes of
    the selected pipelines consume and reports pydantic's raw text; this one
    also rejects unknown namespaces and names each dotted key. The validated
    tree is kept for the other hooks (``parameters``)."""

    def __init__(self) -> None:
        self.parameters: Parameters | None = None

    @hook_impl
    def after_context_created(self, context) -> None:
        self.parameters = validate_parameters(context.config_loader["parameters"])


class RedactionHook:
    """Mask the secrets in what kedro-mlflow logs: the run's record
    (``runtime_params``, which it makes tags) and the whole ``parameters``
    tree a node takes (which it logs flattened; only the report takes it,
    and prints it masked anyway). It runs first and edits those dicts in
    place, since every hook receives the same objects."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        for key in ("runtime_params", "extra_params"):
            if run_params.get(key):
                run_params[key] = redact_tree(run_params[key])

    @hook_impl(tryfirst=True)
    def before_node_run(self, node, catalog, inputs, is_async, run_id) -> None:
        if isinstance(inputs.get("parameters"), dict):
            inputs["parameters"] = redact_tree(inputs["parameters"])


class UpstreamCheckHook:
    """Before a run, every dataset the selected pipeline reads but does not
    make must exist; otherwise stop with one line naming the command that
    makes it (e.g. ``kedro run --pipeline=backtest`` before any ``kedro run``)."""

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        from kedro.framework.project import pipelines

        missing = []
        for name in sorted(pipeline.inputs()):
            if (
                name.startswith("params:")
                or name == "parameters"
                or name not in catalog
            ):
                continue
            dataset = catalog.get(name)
            if dataset is not None and not dataset.exists():
                missing.append(name)
        if not missing:
            return
        makers = sorted(
            p_name
            for p_name, p in pipelines.items()
            if p_name not in {"__default__", "backtest"}
            and set(missing) & p.all_outputs()
        )
        raise ETHPredictError(
            f"missing upstream output(s) {', '.join(missing)}: make them first with "
            f"`kedro run` (made by: {', '.join(makers) or 'upstream pipelines'})"
        )


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
        import os
        import sys

        from ethpredict.lineage import (
            ALLOW_MIXED,
            Lineage,
            RunLock,
            clean_stale_temps,
            fingerprint,
        )
        from ethpredict.secrets import redact

        if self._data is None:
            return
        command = redact(" ".join(["kedro", *sys.argv[1:]]))
        self._lock = RunLock(self._data)
        self._lock.acquire(command)
        try:
            clean_stale_temps(self._data)
            self._persisted = {
                n for n in pipeline.all_outputs() if _on_disk(catalog, n)
            }
            self._inputs = {n.name: [i for i in n.inputs if not i.startswith("params:")
                                     and i != "parameters"] for n in pipeline.nodes}  # fmt: skip
            self._folds = any(n.name == "fit_models" for n in pipeline.nodes)
            lineage = Lineage(self._data)
            if os.environ.get(ALLOW_MIXED) != "1":
                lineage.check(
                    sorted(i for i in pipeline.inputs() if _on_disk(catalog, i))
                )
            params = self._validation.parameters
            self._run_id = str(run_params.get("run_id") or run_params.get("session_id"))
            names = run_params.get("pipeline_names") or [
                run_params.get("pipeline_name")
            ]
            lineage.start(self._run_id, command, ",".join(n for n in names if n) or
                          "__default__", fingerprint(params.model_dump(mode="json"))
                          if params is not None else "")  # fmt: skip
            lineage.save()
            self._lineage = lineage
        except BaseException:
            self._release()
            raise

    @hook_impl
    def after_node_run(self, node, catalog, inputs, outputs, is_async, run_id) -> None:
        if self._lineage is None:
            return
        if (
            self._folds
            and "bars" in outputs
            and self._validation.parameters is not None
        ):
            from ethpredict.modeling.folds import walk_forward

            bars = outputs["bars"]
            times = bars["open_time"].to_numpy() if "open_time" in bars else None
            walk_forward(len(bars), self._validation.parameters.model.cv, times)
        self._lineage.node_ran(self._inputs.get(node.name, []), list(outputs),
                               self._persisted)  # fmt: skip

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data, node) -> None:
        if self._lineage is None or dataset_name not in self._persisted:
            return
        path = _load_path(self._catalog_of(dataset_name))
        if path is not None:
            self._lineage.saved(self._run_id, dataset_name, path,
                                self._inputs.get(node.name, []))  # fmt: skip
            self._lineage.save()

    @hook_impl
    def after_catalog_created(self, catalog) -> None:
        self._catalog = catalog

    def _catalog_of(self, name: str):
        return self._catalog.get(name) if self._catalog is not None else None

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


def _on_disk(catalog, name: str) -> bool:
    """A dataset of the catalog that is a file or folder (not memory, not params)."""
    if name.startswith("params:") or name == "parameters" or name not in catalog:
        return False
    return _load_path(catalog.get(name)) is not None


def _load_path(dataset) -> Path | None:
    inner = (
        getattr(dataset, "_artifact_wrapped", None) or dataset
    )  # kedro-mlflow's wrapper
    for candidate in (dataset, inner):
        with contextlib.suppress(Exception):
            path = candidate._get_load_path()
            return Path(str(path))
        path = getattr(candidate, "_filepath", None)
        if path is not None:
            return Path(str(path))
    return None


class ConsoleHook:
    """What a run prints (:mod:`ethpredict.console`): a line per node with
    its time (and a heartbeat for a long node off a terminal), then a
    summary block — data, venue, PnL with and without the signal, risk —
    ending with ``Report: <path>`` when the run wrote the report."""

    SAVED = ("data_manifest", "backtest_metrics")

    def __init__(self) -> None:
        self._beats: dict[str, object] = {}
        self._saved: dict[str, object] = {}

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        self._saved = {}

    @hook_impl
    def before_node_run(self, node, catalog, inputs, is_async, run_id) -> None:
        from ethpredict.console import Heartbeat

        self._beats[node.name] = Heartbeat(node.name).start()

    @hook_impl
    def after_node_run(self, node, catalog, inputs, outputs, is_async, run_id) -> None:
        from ethpredict.console import log as console

        beat = self._beats.pop(node.name, None)
        if beat is not None:
            console.info("  %-30s %7.1f s", node.name, beat.stop())

    @hook_impl
    def on_node_error(self, error, node, catalog, inputs, is_async, run_id) -> None:
        beat = self._beats.pop(node.name, None)
        if beat is not None:
            beat.stop()

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data, node) -> None:
        if dataset_name in self.SAVED:
            self._saved[dataset_name] = data

    @hook_impl
    def after_pipeline_run(self, run_params, pipeline, catalog) -> None:
        import click

        from ethpredict.console import summary_lines

        path = None
        if "report" in pipeline.all_outputs() and "report" in catalog:
            path = getattr(catalog.get("report"), "_filepath", None)
        backtest = self._saved.get("backtest_metrics")
        if backtest is not None:
            manifest = self._saved.get("data_manifest")
            if manifest is None and "data_manifest" in catalog:
                with contextlib.suppress(Exception):  # the summary never fails a run
                    manifest = catalog.load("data_manifest")
            for line in summary_lines(manifest or {}, backtest, None):
                click.echo(line)
        if path is not None:
            click.echo(f"Report: {path}")


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
    import sqlite3

    path = uri.removeprefix("sqlite:///")
    if path in ("", ":memory:") or not Path(path).exists():
        return
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:  # busy or read-only: only slower
        log.debug("MLflow store %s stays in its journal mode: %s", path, exc)


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
        write_ahead_log(mlflow.get_tracking_uri())
        tree = flatten(params.model_dump(mode="json"))
        items = [(k, redact_tree(v, k)) for k, v in tree.items()]
        for i in range(0, len(items), 100):  # MLflow takes at most 100 per batch
            mlflow.log_params(dict(items[i : i + 100]))
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


class RpcCredentialsHook:
    """``rpc.url_credentials: KEY``: the node that takes ``params:rpc`` gets
    ``rpc.url`` from ``credentials[KEY].url``. Only that node's inputs are
    changed (Kedro's ``before_node_run`` return), so the URL is in no
    parameter that is written out (MLflow, the report)."""

    @hook_impl
    def after_context_created(self, context) -> None:
        self._context = context

    @hook_impl
    def before_node_run(self, node, catalog, inputs, is_async, run_id):
        from ethpredict.params import RpcParams, coerce

        rpc = inputs.get("params:rpc")  # a dict, or RpcParams (Kedro's validation)
        if rpc is None:
            return None
        p = coerce(RpcParams, rpc, "rpc")
        if not p.url_credentials:
            return None
        from ethpredict.io.pool_download import url_from_credentials

        url = url_from_credentials(p, self._context.config_loader)
        resolved = p.model_copy(update={"url": url, "url_credentials": None})
        return {"params:rpc": resolved}


class SweepHook:
    """``sweep.n_trials`` set: before the pipeline runs, run (or resume) the
    Optuna study over ``sweep.space`` (see :mod:`ethpredict.sweep`), then let
    Kedro run the pipeline once more as an ordinary run of the best trial —
    its report, metrics and MLflow run are the winner's, and the study's
    trials hang beneath that run. Without ``sweep.n_trials`` it does nothing."""

    def __init__(self, validation: ParameterValidationHook) -> None:
        self._validation = validation
        self._project_path = None
        self._context = None

    @hook_impl
    def after_context_created(self, context) -> None:
        self._project_path = context.project_path
        self._context = context

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        params = self._validation.parameters
        if params is None or params.sweep.n_trials is None:
            return
        from ethpredict.sweep import param_entries, run_sweep, storage_from_credentials

        if params.sweep.storage_credentials:
            credentials = self._context.config_loader["credentials"]
            params = storage_from_credentials(params, credentials)
        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
        name = names[0] if len(names) == 1 and names[0] else None
        best = run_sweep(params, pipeline, catalog, name, self._project_path)
        # the best trial's values replace every parameter entry (~120): Kedro
        # warns "Replacing dataset" for each, which would bury the sweep's result
        kedro_catalog = logging.getLogger("kedro.io.data_catalog")
        level = kedro_catalog.level
        kedro_catalog.setLevel(logging.ERROR)
        try:
            for key, value in param_entries(best).items():
                catalog[key] = value
        finally:
            kedro_catalog.setLevel(level)
        log.info("The best trial's parameters are set; now its ordinary run")
        self._validation.parameters = best
