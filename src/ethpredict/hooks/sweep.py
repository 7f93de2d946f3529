"""A sweep (:mod:`ethpredict.sweep`), as a hook."""

from __future__ import annotations

import logging

from kedro.framework.hooks import hook_impl

from ethpredict.hooks.validation import ParameterValidationHook

log = logging.getLogger(__name__)


class SweepHook:
    """``sweep.n_trials`` set: before the pipeline runs, run (or resume) the
    Optuna study over ``sweep.space`` (see :mod:`ethpredict.sweep`), then let
    Kedro run the pipeline once more as an ordinary run of the best trial —
    its report, metrics and MLflow run are the winner's, and the study's
    trials hang beneath that run. Without ``sweep.n_trials`` it does nothing."""

    def __init__(self, validation: ParameterValidationHook) -> None:
        self._validation = validation
        self._project_path = None
        self._context = None

    @hook_impl
    def after_context_created(self, context) -> None:
        self._project_path = context.project_path
        self._context = context

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        params = self._validation.parameters
        if params is None or params.sweep.n_trials is None:
            return
        # lazy: Optuna and the report's plotting take a second to import,
        # and most runs do not sweep
        from ethpredict.sweep import (
            run_sweep,
            set_param_entries,
            storage_from_credentials,
        )

        if params.sweep.storage_credentials:
            credentials = self._context.config_loader["credentials"]
            params = storage_from_credentials(params, credentials)
        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
        name = names[0] if len(names) == 1 and names[0] else None
        best = run_sweep(params, pipeline, catalog, name, self._project_path)
        set_param_entries(catalog, best)  # the best trial's values, every entry
        log.info("The best trial's parameters are set; now its ordinary run")
        self._validation.parameters = best
