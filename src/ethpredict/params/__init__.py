"""Typed parameter namespaces.

Each top-level key of ``conf/*/parameters*.yml`` is one strict Pydantic model:
unknown keys are rejected and ranges are checked. :func:`validate_parameters`
checks the whole tree (including ``--params`` overrides) before any node runs
and raises :class:`~ethpredict.errors.ParameterError` naming the dotted key,
the value given and what is allowed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError, model_validator

from ethpredict.errors import ParameterError
from ethpredict.params.base import INTERVALS_S, Interval, PosInt, Strict
from ethpredict.params.data import DataParams
from ethpredict.params.download import DownloadParams, RpcParams
from ethpredict.params.mm import BacktestParams, MMParams, RiskParams
from ethpredict.params.model import (
    CalibrationParams,
    CVParams,
    FeaturesParams,
    LabelsParams,
    MetaParams,
    ModelParams,
    NetParams,
    StressPeriod,
)
from ethpredict.params.report import ReportParams
from ethpredict.params.sources import OHLCVParams, ReferenceParams, UniswapParams
from ethpredict.params.sweep import Distribution, SweepParams
from ethpredict.params.synthetic import SyntheticParams, SyntheticPoolParams

__all__ = [
    "INTERVALS_S",
    "BacktestParams",
    "CVParams",
    "CalibrationParams",
    "DataParams",
    "Distribution",
    "DownloadParams",
    "FeaturesParams",
    "Interval",
    "LabelsParams",
    "MMParams",
    "MetaParams",
    "ModelParams",
    "NetParams",
    "OHLCVParams",
    "Parameters",
    "PosInt",
    "ReferenceParams",
    "ReportParams",
    "RiskParams",
    "RpcParams",
    "StressPeriod",
    "Strict",
    "SweepParams",
    "SyntheticParams",
    "SyntheticPoolParams",
    "UniswapParams",
    "coerce",
    "format_validation_error",
    "validate_parameters",
]


class Parameters(Strict):
    """The whole parameter tree: one namespace per concern."""

    data: DataParams = DataParams()
    features: FeaturesParams = FeaturesParams()
    labels: LabelsParams = LabelsParams()
    model: ModelParams = ModelParams()
    mm: MMParams = MMParams()
    backtest: BacktestParams = BacktestParams()
    risk: RiskParams = RiskParams()
    report: ReportParams = ReportParams()
    download: DownloadParams = DownloadParams()
    sweep: SweepParams = SweepParams()
    rpc: RpcParams = RpcParams()

    @model_validator(mode="after")
    def _reference_features(self) -> Parameters:
        # across namespaces: only when both were given (coerce checks one alone)
        given = {"data", "features"} <= self.model_fields_set
        if given and "reference" in self.features.sets and not self.data.has_reference:
            raise ValueError(
                "features.sets includes 'reference' but there is no reference: set "
                "data.reference.path (an exchange's klines, OHLCV or trade captures) "
                "or drop 'reference' from features.sets"
            )
        return self

    @model_validator(mode="after")
    def _sweep_space(self) -> Parameters:
        for key in self.sweep.space:
            if key.split(".")[0] in {"sweep", "download"}:
                raise ValueError(f"sweep.space: {key} cannot be swept")
            if not _is_leaf(type(self), key.split(".")):
                raise ValueError(
                    f"sweep.space: {key} is not a parameter (a dotted name such as "
                    "mm.gamma)"
                )
        if self.sweep.sampler == "grid":
            for key, dist in self.sweep.space.items():
                if dist.grid() is None:
                    raise ValueError(
                        f"sweep.space: {key} needs a step or choices for the grid sampler"
                    )
        if self.sweep.n_trials is not None and not self.sweep.space:
            raise ValueError("sweep.space is empty: nothing to sweep")
        return self


def _is_leaf(model: type[BaseModel], path: list[str]) -> bool:
    """True if ``path`` names a field of ``model`` that holds a value (not a
    namespace)."""
    field = model.model_fields.get(path[0])
    if field is None:
        return False
    ann = field.annotation
    nested = isinstance(ann, type) and issubclass(ann, BaseModel)
    if len(path) == 1:
        return not nested
    return nested and _is_leaf(ann, path[1:])


def _allowed(model: type[BaseModel], loc: tuple) -> str:
    """Describe the keys allowed at the parent of ``loc`` in ``model``."""
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        ann = getattr(field, "annotation", None)
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return ""
        model = ann
    return "allowed keys: " + ", ".join(model.model_fields)


def format_validation_error(exc: ValidationError, root: type[BaseModel]) -> str:
    """One line per problem: dotted key, the value given, what is allowed."""
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc) or "(root)"
        if err["type"] == "extra_forbidden":
            lines.append(
                f"unknown parameter {key} = {err['input']!r}; {_allowed(root, loc)}"
            )
        elif err["type"] == "value_error":
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(
                msg if not loc or msg.startswith(key) else f"parameter {key}: {msg}"
            )
        else:
            lines.append(
                f"parameter {key} = {err['input']!r}: {err['msg'][0].lower()}"
                f"{err['msg'][1:]}"
            )
    return "invalid parameters:\n  - " + "\n  - ".join(lines)


def validate_parameters(raw: dict[str, Any]) -> Parameters:
    """Validate the whole parameter tree.

    Raises:
        ParameterError: naming every bad dotted key, its value and what is
            allowed.
    """
    try:
        return Parameters.model_validate(raw or {})
    except ValidationError as exc:
        raise ParameterError(format_validation_error(exc, Parameters)) from None


def coerce(model: type[Strict], value: Any, namespace: str) -> Any:
    """Return ``value`` (a dict or a ``model``) as a validated ``model``.

    Nodes do not need it: Kedro 1.7 hands a Pydantic-typed ``params:`` input
    over as the model. Hooks do, since they see a node's inputs before that
    (``RpcCredentialsHook``).
    """
    if isinstance(value, model):
        return value
    return getattr(validate_parameters({namespace: value}), namespace)
