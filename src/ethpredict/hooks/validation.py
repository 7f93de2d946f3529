"""Hooks that check a run before it starts: its parameters, the secrets in
what is logged of them, and the upstream outputs it reads."""

from __future__ import annotations

from kedro.framework.hooks import hook_impl

from ethpredict.errors import ETHPredictError
from ethpredict.params import Parameters, validate_parameters
from ethpredict.secrets import redact_tree


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


def missing_upstream(pipeline, catalog) -> list[str]:
    """Datasets of the catalog that ``pipeline`` reads, does not make, and
    that do not exist (parameters and memory datasets left out), sorted."""
    missing = []
    for name in sorted(pipeline.inputs()):
        if name.startswith("params:") or name == "parameters" or name not in catalog:
            continue
        dataset = catalog.get(name)
        if dataset is not None and not dataset.exists():
            missing.append(name)
    return missing


def makers(missing: list[str], pipelines) -> list[str]:
    """The registered pipelines (not the aggregates ``__default__`` and
    ``backtest``) that make any of ``missing``, sorted."""
    return sorted(
        name
        for name, p in pipelines.items()
        if name not in {"__default__", "backtest"} and set(missing) & p.all_outputs()
    )


class UpstreamCheckHook:
    """Before a run, every dataset the selected pipeline reads but does not
    make must exist; otherwise stop with one line naming the command that
    makes it (e.g. ``kedro run --pipeline=backtest`` before any ``kedro run``)."""

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        # read when the run starts: Kedro has configured the project by then
        from kedro.framework.project import pipelines

        missing = missing_upstream(pipeline, catalog)
        if not missing:
            return
        made_by = ", ".join(makers(missing, pipelines)) or "upstream pipelines"
        raise ETHPredictError(
            f"missing upstream output(s) {', '.join(missing)}: make them first with "
            f"`kedro run` (made by: {made_by})"
        )
