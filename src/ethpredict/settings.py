"""Project settings (https://docs.kedro.org/en/stable/configure/)."""

from ethpredict.hooks import (
    ParameterValidationHook,
    ReportPathHook,
    SweepHook,
    TrackingHook,
    UpstreamCheckHook,
)

_validation = ParameterValidationHook()
HOOKS = (
    _validation,
    SweepHook(_validation),  # pluggy calls it after UpstreamCheckHook
    UpstreamCheckHook(),
    ReportPathHook(),
    TrackingHook(_validation),  # logs the parameters _validation checked
)

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # Kedro merges --params into each environment, then lets conf/local replace
    # whole top-level keys of conf/base ("destructive"): `--params=mm.gamma:0.3`
    # would drop every other mm value set in YAML. Soft merge keeps them.
    "merge_strategy": {"parameters": "soft"},
}
