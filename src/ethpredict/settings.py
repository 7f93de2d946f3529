"""Project settings (https://docs.kedro.org/en/stable/configure/)."""

from ethpredict.hooks import (
    ParameterValidationHook,
    ReportPathHook,
    TrackingHook,
    UpstreamCheckHook,
)

_validation = ParameterValidationHook()
HOOKS = (
    _validation,
    UpstreamCheckHook(),
    ReportPathHook(),
    TrackingHook(_validation),  # logs the parameters _validation checked
)

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
