"""modeling: features + labels → walk-forward out-of-sample predictions."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import assemble_model_input, evaluate_models, fit_meta_model, fit_models


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                assemble_model_input,
                ["features_base", "features_advanced", "features_reference"],
                "model_input",
                name="assemble_model_input",
            ),
            node(
                fit_models,
                ["model_input", "labels", "params:model", "params:labels"],
                ["model_predictions", "folds", "primary_model"],
                name="fit_models",
            ),
            node(
                fit_meta_model,
                [
                    "bars",
                    "model_input",
                    "labels",
                    "model_predictions",
                    "folds",
                    "params:model",
                    "params:labels",
                ],
                ["predictions", "meta_model", "meta_events"],
                name="fit_meta_model",
            ),
            node(
                evaluate_models,
                [
                    "labels",
                    "model_predictions",
                    "predictions",
                    "meta_events",
                    "folds",
                    "params:labels",
                    "params:model",
                ],
                "model_metrics",
                name="evaluate_models",
            ),
        ]
    )
