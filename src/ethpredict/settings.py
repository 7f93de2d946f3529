"""Project settings (https://docs.kedro.org/en/stable/configure/)."""

from ethpredict.hooks import (
    ParameterValidationHook,
    ReportPathHook,
    TrackingHook,
    UpstreamCheckHook,
)

HOOKS = (
    ParameterValidationHook(),
    UpstreamCheckHook(),
    ReportPathHook(),
    TrackingHook(),
)

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
