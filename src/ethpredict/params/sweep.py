"""``sweep``: an Optuna study over dotted parameter names."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ethpredict.params.base import Strict


class Distribution(Strict):
    """One swept parameter: ``float`` / ``int`` between ``low`` and ``high``
    (optionally ``log`` scale or a ``step``), or ``categorical`` ``choices``."""

    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    step: float | None = Field(None, gt=0)
    log: bool = False
    choices: list[Any] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> Distribution:
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical distribution needs choices: [..]")
            if self.low is not None or self.high is not None:
                raise ValueError(
                    "a categorical distribution takes choices, not low/high"
                )
            return self
        if self.choices is not None:
            raise ValueError(f"a {self.type} distribution takes low/high, not choices")
        if self.low is None or self.high is None:
            raise ValueError(f"a {self.type} distribution needs low and high")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"log scale needs low > 0, got {self.low}")
        if self.log and self.step is not None:
            raise ValueError("log scale and step cannot be combined")
        if self.type == "int" and (
            self.low != int(self.low) or self.high != int(self.high)
        ):
            raise ValueError("an int distribution needs whole low and high")
        return self

    def grid(self) -> list[Any] | None:
        """Every value a grid sampler visits, or None if not finite."""
        if self.type == "categorical":
            return list(self.choices or [])
        step = (
            self.step if self.step is not None else (1 if self.type == "int" else None)
        )
        if step is None:
            return None
        n = round((self.high - self.low) / step)
        values = [
            self.low + i * step
            for i in range(n + 1)
            if self.low + i * step <= self.high + 1e-12
        ]
        return [round(v) for v in values] if self.type == "int" else values


class SweepParams(Strict):
    """An Optuna study over dotted parameter names (``kedro run
    --params=sweep.n_trials:1000``). Without ``n_trials`` a run is ordinary."""

    n_trials: int | None = Field(
        None,
        ge=1,
        description=(
            "complete trials wanted in the study (resumable); null: an ordinary run"
        ),
    )
    sampler: Literal["grid", "random", "tpe"] = Field(
        "tpe",
        description="the Optuna sampler (seeded)",
    )
    seed: int = Field(
        0,
        ge=0,
        description="the sampler's seed",
    )
    timeout_s: float | None = Field(
        None,
        gt=0,
        description="stop starting trials after this many seconds",
    )
    objectives: dict[str, Literal["maximize", "minimize"]] = Field(
        {"backtest.sharpe": "maximize"},
        min_length=1,
        description=(
            "metrics.json keys -> maximize / minimize; several give a Pareto front"
        ),
    )
    space: dict[str, Distribution] = Field(
        default_factory=dict,
        description=(
            "dotted parameter names from any namespace -> {type: float|int, "
            "low, high, log?, step?} or {type: categorical, choices}; a key "
            "set to null is not swept"
        ),
        # conf/base ships an example space (the model's default sweeps nothing)
        json_schema_extra={
            "conf": {
                "mm.gamma": {"type": "float", "low": 0.005, "high": 1.0, "log": True},
                "mm.spread_scale": {"type": "float", "low": 0.5, "high": 3.0},
                "mm.skew_scale": {"type": "float", "low": 0.0, "high": 3.0},
                "mm.alpha_weight": {"type": "float", "low": 0.0, "high": 8.0},
                "backtest.requote_threshold": {
                    "type": "int",
                    "low": 5,
                    "high": 200,
                    "step": 5,
                },
            }
        },
    )
    n_jobs: int = Field(1, ge=1, le=64, description="worker processes on this machine")
    storage: str | None = Field(
        None,
        description=(
            "an Optuna journal file (a path, relative to the project) or an "
            "RDB URL (sqlite:///..., postgresql://... for several machines); "
            "null: data/09_tracking/optuna.journal"
        ),
    )
    storage_credentials: str | None = Field(
        None,
        description=(
            "a key of conf/<env>/credentials.yml whose `con` is the storage "
            "URL (instead of storage; keeps the password out of parameters)"
        ),
    )
    study_name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.:-]{1,100}$",
        description=(
            "null: the pipeline name + a hash of everything that defines the study"
        ),
    )
    max_failures: int | None = Field(
        None,
        ge=1,
        description=(
            "stop after this many failed trials on this worker; null: n_trials"
        ),
    )
    mlflow_trials: int = Field(
        20,
        ge=0,
        description="best trials logged as nested MLflow runs",
    )
    report_rows: int = Field(
        100,
        ge=1,
        le=100_000,
        description="ranked trials shown in sweep_report.html",
    )
    trial_baseline: bool | None = Field(
        None,
        description=(
            "book the quotes without the signal in every trial too (twice the"
            " work); null: only when an objective is a baseline.* or "
            "signal_added.* key"
        ),
    )

    @model_validator(mode="after")
    def _one_storage(self) -> SweepParams:
        if self.storage and self.storage_credentials:
            raise ValueError("set storage or storage_credentials, not both")
        return self

    @field_validator("space", mode="before")
    @classmethod
    def _unset_keys(cls, value: Any) -> Any:
        # conf/local merges into conf/base key by key: null removes a base key
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if v is not None}
        return value

    def baseline_in_trials(self) -> bool:
        """Whether each trial also books the same quotes without the signal:
        as set, or (null) when an objective is a ``baseline.*`` or
        ``signal_added.*`` key."""
        if self.trial_baseline is not None:
            return self.trial_baseline
        return any(
            k.startswith(("baseline.", "signal_added.")) for k in self.objectives
        )
