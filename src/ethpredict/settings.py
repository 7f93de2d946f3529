"""Project settings (https://docs.kedro.org/en/stable/configure/)."""

from omegaconf.resolvers import oc

from ethpredict.hooks import (
    ConsoleHook,
    ParameterValidationHook,
    RedactionHook,
    RpcCredentialsHook,
    RunGuardHook,
    SweepHook,
    TrackingHook,
    UpstreamCheckHook,
)

_validation = ParameterValidationHook()
HOOKS = (
    _validation,
    RedactionHook(),  # before kedro-mlflow tags the run with its parameters
    SweepHook(_validation),  # pluggy calls it after UpstreamCheckHook
    UpstreamCheckHook(),
    ConsoleHook(),
    RunGuardHook(_validation),  # takes the project's run lock after a sweep's trials
    TrackingHook(_validation),  # logs the parameters _validation checked
    RpcCredentialsHook(),
)

CONFIG_LOADER_ARGS = {
    # ${oc.env:NAME} in parameters and the catalog (Kedro allows it only in
    # credentials by default); ${globals:…} and ${runtime_params:…} are Kedro's
    "custom_resolvers": {"oc.env": oc.env},
    "base_env": "base",
    "default_run_env": "local",
    # Kedro merges --params into each environment, then lets conf/local replace
    # whole top-level keys of conf/base ("destructive"): `--params=mm.gamma:0.3`
    # would drop every other mm value set in YAML. Soft merge keeps them.
    "merge_strategy": {"parameters": "soft"},
}
