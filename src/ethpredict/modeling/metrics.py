"""The modeling pipeline's metrics: every model per fold and overall on the
test events, their calibration, the meta model's and the bet sizes'.

Imports torch and scikit-learn (through :mod:`.walk`): import it where the
metrics are computed, not at the top of a pipeline's nodes.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ethpredict.modeling.evaluate import (
    calibration_points,
    classifier_metrics,
    roc_points,
)
from ethpredict.modeling.walk import MODELS, class_index, class_names
from ethpredict.params import LabelsParams, ModelParams

log = logging.getLogger(__name__)


def _model_entry(m, model_predictions, names, y, fold, pos_test) -> dict:
    """One model's metrics overall and per fold, ROC and calibration of ``up``."""
    up = y == len(names) - 1
    p = model_predictions[[f"{m}_p_{c}" for c in names]].to_numpy()[pos_test]
    entry = {
        "overall": classifier_metrics(y, p, len(names)),
        "per_fold": [
            {
                "fold": int(k),
                **classifier_metrics(y[fold == k], p[fold == k], len(names)),
            }
            for k in np.unique(fold)
        ],
        "roc_up": roc_points(up, p[:, -1]),
        "calibration_up": calibration_points(up, p[:, -1]),
    }
    raw_cols = [f"{m}_raw_p_{c}" for c in names]
    if set(raw_cols) <= set(model_predictions.columns):
        r = model_predictions[raw_cols].to_numpy()[pos_test]
        entry["uncalibrated"] = classifier_metrics(y, r, len(names))
        entry["calibration_up_uncalibrated"] = calibration_points(up, r[:, -1])
    return entry


def _calibration(models: dict, mp: ModelParams) -> dict:
    return {
        "method": mp.calibration.method,
        "holdout_frac": mp.calibration.holdout_frac,
        "prior_log_loss": models["prior"]["overall"].get("log_loss"),
        "log_loss": {
            m: {
                "before": models[m].get("uncalibrated", {}).get("log_loss"),
                "after": models[m]["overall"].get("log_loss"),
            }
            for m in MODELS
            if m != "prior"
        },
    }


def _meta(predictions: pd.DataFrame, meta_events: pd.DataFrame) -> dict:
    me = meta_events.dropna(subset=["meta_label"])
    pm = predictions["meta_prob"].reindex(me.index).to_numpy()
    ok = ~np.isnan(pm)
    if not ok.any():
        return {"n": 0}
    yb = me["meta_label"].to_numpy()[ok].astype(np.int64)
    return classifier_metrics(yb, np.column_stack([1 - pm[ok], pm[ok]]), 2)


def _bet_size(predictions: pd.DataFrame, mp: ModelParams) -> dict:
    share = float((predictions["bet_source"] == "meta").mean())
    per_fold = []
    for k, g in predictions.groupby("fold", sort=True):
        auc = g["meta_auc_train"].iloc[0] if "meta_auc_train" in g else np.nan
        per_fold.append(
            {
                "fold": int(k),
                "source": str(g["bet_source"].mode().iloc[0]),
                "meta_auc_train": None if np.isnan(auc) else float(auc),
            }
        )
    return {
        "mean_abs": float(predictions["bet_size"].abs().mean()),
        "share_meta": share,
        "source": "meta" if share == 1 else "primary" if share == 0 else "mixed",
        "auc_margin": mp.meta.auc_margin,
        "per_fold": per_fold,
    }


def model_metrics(
    labels: pd.DataFrame,
    model_predictions: pd.DataFrame,
    predictions: pd.DataFrame,
    meta_events: pd.DataFrame,
    folds: list[dict],
    mp: ModelParams,
    lp: LabelsParams,
) -> dict:
    """Per-fold and overall metrics of every model on the test events (labels
    resolved), ROC and calibration curves of ``up``, and the meta model's."""
    names = class_names(lp)
    pos = model_predictions.index.get_indexer(labels.index)
    test = (pos >= 0) & labels["label"].notna().to_numpy()
    y = class_index(labels["label"].to_numpy(dtype=float)[test], len(names))
    fold = model_predictions["fold"].to_numpy()[pos[test]]
    out: dict = {"classes": names, "model_kind": mp.kind, "folds": folds, "models": {}}
    for m in MODELS:
        out["models"][m] = _model_entry(m, model_predictions, names, y, fold, pos[test])
    out["calibration"] = _calibration(out["models"], mp)
    out["meta"] = _meta(predictions, meta_events)
    out["bet_size"] = _bet_size(predictions, mp)
    log.info(
        "Out-of-sample log-loss (calibrated, before calibration; prior %s): %s",
        out["calibration"]["prior_log_loss"],
        {
            m: (v["after"], v["before"])
            for m, v in out["calibration"]["log_loss"].items()
        },
    )
    return out
