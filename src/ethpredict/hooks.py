"""Project hooks."""

from __future__ import annotations

from kedro.framework.hooks import hook_impl

from ethpredict.params import validate_parameters


class ParameterValidationHook:
    """Validate the whole parameter tree (``--params`` included) before any
    node runs. Kedro's own check covers only ``params:`` inputs that nodes of
    the selected pipelines consume and reports pydantic's raw text; this one
    also rejects unknown namespaces and names each dotted key."""

    @hook_impl
    def after_context_created(self, context) -> None:
        validate_parameters(context.config_loader["parameters"])
