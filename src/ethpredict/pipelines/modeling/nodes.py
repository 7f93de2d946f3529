"""Nodes of the modeling pipeline: walk-forward models, meta model, metrics.

The domain modules (:mod:`ethpredict.modeling.predictions`, ``.meta``,
``.metrics``) import torch and scikit-learn: they are imported in the nodes,
since every ``kedro`` command imports all pipelines and most never fit.
"""

from __future__ import annotations

import pandas as pd

from ethpredict.params import LabelsParams, ModelParams


def assemble_model_input(
    features_base: pd.DataFrame,
    features_advanced: pd.DataFrame,
    features_reference: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One feature matrix, one row per bar (columns of every set)."""
    sets = [features_base, features_advanced]
    if features_reference is not None:
        sets.append(features_reference)
    x = pd.concat(sets, axis=1)
    x.attrs.update(features_base.attrs)
    return x


def fit_models(
    model_input: pd.DataFrame,
    labels: pd.DataFrame,
    model: ModelParams,
    labels_p: LabelsParams,
) -> tuple[pd.DataFrame, list[dict], dict]:
    """Walk-forward fit of the primary network and every baseline: the
    out-of-sample predictions, the fold table and the last primary network
    (:func:`ethpredict.modeling.predictions.walk_forward_predictions`)."""
    from ethpredict.modeling.predictions import walk_forward_predictions

    return walk_forward_predictions(model_input, labels, model, labels_p)


def fit_meta_model(
    bars: pd.DataFrame,
    model_input: pd.DataFrame,
    labels: pd.DataFrame,
    model_predictions: pd.DataFrame,
    folds: list[dict],
    model: ModelParams,
    labels_p: LabelsParams,
) -> tuple[pd.DataFrame, object, pd.DataFrame]:
    """Side, meta-labels, walk-forward meta model and bet size of every tested
    bar (:func:`ethpredict.modeling.meta.meta_predictions`)."""
    from ethpredict.modeling.meta import meta_predictions

    return meta_predictions(
        bars, model_input, labels, model_predictions, folds, model, labels_p
    )


def evaluate_models(
    labels: pd.DataFrame,
    model_predictions: pd.DataFrame,
    predictions: pd.DataFrame,
    meta_events: pd.DataFrame,
    folds: list[dict],
    labels_p: LabelsParams,
    model: ModelParams,
) -> dict:
    """Per-fold and overall metrics of every model, ROC and calibration curves
    and the meta model's (:func:`ethpredict.modeling.metrics.model_metrics`)."""
    from ethpredict.modeling.metrics import model_metrics

    return model_metrics(
        labels, model_predictions, predictions, meta_events, folds, model, labels_p
    )
