"""Project settings (https://docs.kedro.org/en/stable/configure/)."""

from ethpredict.hooks import ParameterValidationHook, ReportPathHook, UpstreamCheckHook

HOOKS = (ParameterValidationHook(), UpstreamCheckHook(), ReportPathHook())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
