"""Project settings (https://docs.kedro.org/en/stable/configure/)."""

from ethpredict.hooks import ParameterValidationHook, UpstreamCheckHook

HOOKS = (ParameterValidationHook(), UpstreamCheckHook())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
