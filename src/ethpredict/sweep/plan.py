"""What a trial re-runs: the selected pipeline split in a fixed part and a
trial part, and the parameter tree as the catalog entries Kedro makes of it.

The lowest layer of :mod:`ethpredict.sweep`: it imports no other module of it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from kedro.pipeline import Pipeline

from ethpredict.errors import ETHPredictError
from ethpredict.params import Parameters, validate_parameters

METRICS = "metrics"  # the output that holds the objectives (metrics.json)
# the ablation's book (the same quotes without the signal): in a trial only
# when ``sweep.trial_baseline`` asks for it (SweepParams.baseline_in_trials)
BASELINE_OUTPUTS = frozenset(
    {"quotes_baseline", "book_baseline", "fills_baseline", "orders_baseline"}
)


class SweepError(ETHPredictError):
    """A sweep that cannot start or go on (not a failed trial)."""


def param_entries(params: Parameters) -> dict[str, Any]:
    """What Kedro puts in the catalog for a parameter tree: ``parameters``,
    ``params:<ns>`` (the validated model) and every nested ``params:a.b``."""
    out: dict[str, Any] = {
        "parameters": {k: getattr(params, k) for k in type(params).model_fields}
    }

    def add(name: str, value: Any) -> None:
        out[f"params:{name}"] = value
        fields = (
            {k: getattr(value, k) for k in type(value).model_fields}
            if hasattr(type(value), "model_fields")
            else value
            if isinstance(value, dict)
            else None
        )
        for key, sub in (fields or {}).items():
            add(f"{name}.{key}", sub)

    for ns in type(params).model_fields:
        add(ns, getattr(params, ns))
    return out


def set_param_entries(catalog, params: Parameters) -> None:
    """Replace every parameter entry of ``catalog`` (in place) by ``params``'s.

    Kedro warns "Replacing dataset" for each of the ~120 entries, which would
    bury a sweep's result: those warnings are silenced meanwhile.
    """
    kedro_catalog = logging.getLogger("kedro.io.data_catalog")
    level = kedro_catalog.level
    kedro_catalog.setLevel(logging.ERROR)
    try:
        for key, value in param_entries(params).items():
            catalog[key] = value
    finally:
        kedro_catalog.setLevel(level)


def with_values(params: Parameters, values: dict[str, Any]) -> Parameters:
    """``params`` with dotted ``values`` set, validated as a whole.

    Raises:
        ParameterError: naming the dotted key and what is allowed.
    """
    tree = params.model_dump()
    for key, value in values.items():
        node = tree
        *path, leaf = key.split(".")
        for part in path:
            node = node[part]
        node[leaf] = value
    return validate_parameters(tree)


def reached_entries(keys: Iterable[str]) -> set[str]:
    """Catalog entries that change when the dotted ``keys`` change."""
    out = {"parameters"}
    for key in keys:
        parts = key.split(".")
        out.update(f"params:{'.'.join(parts[:i])}" for i in range(1, len(parts) + 1))
    return out


def split_pipeline(
    pipeline: Pipeline, keys: list[str], absent: frozenset[str] = frozenset()
) -> tuple[Pipeline, Pipeline]:
    """``(fixed, trial)``: the nodes a trial re-runs are those downstream of a
    swept key that ``metrics`` needs; ``fixed`` makes the rest of their inputs.
    Nodes that make only ``absent`` outputs run in neither: a trial gets None
    for those (``BASELINE_OUTPUTS`` without ``sweep.trial_baseline``)."""
    if METRICS not in pipeline.all_outputs():
        raise SweepError(
            "a sweep needs a pipeline that writes metrics (its objectives are "
            "metrics.json keys): use --pipeline=backtest or the default pipeline"
        )
    inputs = pipeline.inputs()
    unused = [k for k in keys if not (reached_entries([k]) - {"parameters"}) & inputs]
    if unused:
        raise SweepError(
            f"sweep.space: {', '.join(unused)} reach no node of this pipeline; "
            "sweep them with the pipeline that uses them (the default one has all)"
        )
    entries = (reached_entries(keys) - {"parameters"}) & inputs
    downstream = set(pipeline.from_inputs(*entries).nodes)
    trial = Pipeline(
        [
            n
            for n in pipeline.to_outputs(METRICS).nodes
            if n in downstream and not set(n.outputs) <= absent
        ]
    )
    if not trial.nodes:
        raise SweepError(
            f"sweep.space: {', '.join(keys)} do not change metrics in this pipeline"
        )
    needed = (trial.inputs() & pipeline.all_outputs()) - absent
    in_trial = set(trial.nodes)
    fixed = (
        Pipeline([n for n in pipeline.to_outputs(*needed).nodes if n not in in_trial])
        if needed
        else Pipeline([])
    )
    return fixed, trial


def fixed_data(
    fixed: Pipeline,
    trial: Pipeline,
    catalog,
    params: Parameters,
    absent: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Every non-parameter input of the trial part: loaded from the catalog,
    or made once by the fixed part; None for the ``absent`` ones."""
    entries = param_entries(params)
    data: dict[str, Any] = dict.fromkeys(absent & trial.inputs())
    produced = fixed.all_outputs()
    wanted = {
        n
        for n in (fixed.inputs() | trial.inputs())
        if n not in entries and n not in absent
    }
    for name in sorted(wanted - produced):
        data[name] = catalog.load(name)
    data.update(entries)
    for node in fixed.nodes:
        data.update(node.run({name: data[name] for name in node.inputs}))
    return {k: v for k, v in data.items() if k in trial.inputs() and k not in entries}
