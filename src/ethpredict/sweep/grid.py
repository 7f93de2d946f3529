"""The grid sampler: every point of ``sweep.space`` exactly once, also with
several workers on one study.

Optuna's own :class:`optuna.samplers.GridSampler` does not promise that: a
point counts as visited only once its trial has finished, so workers that
ask at the same moment can draw the same point, and the study may end with
more trials than the grid has points (its documentation says so). Here a
point is taken as soon as a trial runs it, the workers draw different
points, and a trial that finds its point drawn by an earlier running or
complete trial gives way (:meth:`ExactGridSampler.gives_way`).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from ethpredict.params import SweepParams

#: trials whose point is taken: running or done
LIVE = (TrialState.COMPLETE, TrialState.RUNNING)


def grid_size(sp: SweepParams) -> int | None:
    """Number of grid points; None when the sampler is not the grid."""
    if sp.sampler != "grid":
        return None
    return math.prod(len(d.grid() or []) for d in sp.space.values())


def grid_points(sp: SweepParams, seed: int) -> list[dict[str, Any]]:
    """Every point of the grid, in a seeded random order."""
    keys = list(sp.space)
    points = [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(sp.space[k].grid() for k in keys))
    ]
    order = np.random.default_rng(seed).permutation(len(points))
    return [points[i] for i in order]


def point(params: dict[str, Any]) -> tuple:
    """A point (a trial's parameters) as a hashable key."""
    return tuple(sorted(params.items()))


class ExactGridSampler(optuna.samplers.BaseSampler):
    """Visits the points of ``sweep.space`` in a seeded random order, each once.

    A point is taken once a trial of it is complete, running, or failed with
    an error (``user_attrs["error"]``: the same values would fail the same
    way); a trial failed without one (its worker was killed, or it gave way)
    leaves its point to be run again. Worker ``w`` takes the ``w``-th point
    still free, so workers of one machine that ask at once draw different
    points.

    Args:
        sp: the sweep; its ``seed`` orders the grid (the same order in every
            worker and every resumption).
        worker: this worker's index on this machine.
    """

    def __init__(self, sp: SweepParams, worker: int = 0) -> None:
        self._grid = grid_points(sp, sp.seed)
        self._worker = worker
        self._todo: list[dict[str, Any]] | None = None  # from is_exhausted
        self._drawn: dict[int, dict[str, Any]] = {}  # trial id -> its point

    def free_points(self, study: optuna.Study) -> list[dict[str, Any]]:
        """The points no trial has taken, in grid order."""
        taken = {
            point(t.params)
            for t in study.get_trials(deepcopy=False)
            if t.state in LIVE or "error" in t.user_attrs
        }
        return [g for g in self._grid if point(g) not in taken]

    def is_exhausted(self, study: optuna.Study) -> bool:
        """True when every point is taken (the next ask draws from what is
        left now, without reading the trials again)."""
        self._todo = self.free_points(study)
        return not self._todo

    def gives_way(self, study: optuna.Study, trial: optuna.Trial) -> bool:
        """True when an earlier running or complete trial has ``trial``'s
        point: two workers took it at the same moment and the later gives way."""
        mine = point(trial.params)
        return any(
            point(t.params) == mine and t.number < trial.number
            for t in study.get_trials(deepcopy=False, states=LIVE)
        )

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        todo = self._todo if self._todo is not None else self.free_points(study)
        self._todo = None
        todo = todo or self._grid  # exhausted: a point that gives way
        self._drawn[trial._trial_id] = todo[self._worker % len(todo)]

    def infer_relative_search_space(self, study, trial) -> dict[str, Any]:
        return {}

    def sample_relative(self, study, trial, search_space) -> dict[str, Any]:
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution) -> Any:
        drawn = self._drawn.get(trial._trial_id)
        if drawn is None or param_name not in drawn:
            raise ValueError(f"{param_name} is not a key of the grid's space")
        return drawn[param_name]

    def after_trial(self, study, trial, state, values) -> None:
        self._drawn.pop(trial._trial_id, None)
