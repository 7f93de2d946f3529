"""Project hooks: kept thin; the checks they run live beside the code they guard."""

from __future__ import annotations

from kedro.framework.hooks import hook_impl

from ethpredict.errors import ETHPredictError
from ethpredict.params import validate_parameters


class ParameterValidationHook:
    """Validate the whole parameter tree (``--params`` included) before any
    node runs. Kedro's own check covers only ``params:`` inputs that nodes of
    the selected pipelines consume and reports pydantic's raw text; this one
    also rejects unknown namespaces and names each dotted key."""

    @hook_impl
    def after_context_created(self, context) -> None:
        validate_parameters(context.config_loader["parameters"])


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


class ReportPathHook:
    """End a run that wrote the report by printing where it is."""

    @hook_impl
    def after_pipeline_run(self, run_params, pipeline, catalog) -> None:
        if "report" in pipeline.all_outputs() and "report" in catalog:
            path = getattr(catalog.get("report"), "_filepath", None)
            if path is not None:
                import click

                click.echo(f"Report: {path}")
