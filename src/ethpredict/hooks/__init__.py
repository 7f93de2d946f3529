"""Project hooks (``settings.HOOKS``), one module per concern; each is thin
and calls the module it wires in (the sweep, lineage, the console, MLflow)."""

from ethpredict.hooks.console import ConsoleHook
from ethpredict.hooks.guard import RunGuardHook
from ethpredict.hooks.rpc import RpcCredentialsHook
from ethpredict.hooks.sweep import SweepHook
from ethpredict.hooks.tracking import TrackingHook, flatten, write_ahead_log
from ethpredict.hooks.validation import (
    ParameterValidationHook,
    RedactionHook,
    UpstreamCheckHook,
)

__all__ = [
    "ConsoleHook",
    "ParameterValidationHook",
    "RedactionHook",
    "RpcCredentialsHook",
    "RunGuardHook",
    "SweepHook",
    "TrackingHook",
    "UpstreamCheckHook",
    "flatten",
    "write_ahead_log",
]
