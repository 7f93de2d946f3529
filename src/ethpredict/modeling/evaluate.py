"""Classifier metrics and bet sizing."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm
from sklearn.calibration import calibration_curve
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def classifier_metrics(y: np.ndarray, proba: np.ndarray, n_classes: int) -> dict:
    """Log-loss, ROC-AUC (one-vs-rest macro; None when a class is absent),
    accuracy, macro F1 and the multi-class Brier score (mean over events of
    the summed squared error of the probability vector)."""
    if len(y) == 0:
        return {"n": 0}
    labels = list(range(n_classes))
    p = np.clip(proba, 1e-12, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    onehot = np.eye(n_classes)[y]
    out = {
        "n": len(y),
        "log_loss": _finite(log_loss(y, p, labels=labels)),
        "accuracy": float(accuracy_score(y, p.argmax(axis=1))),
        "f1_macro": float(
            f1_score(
                y, p.argmax(axis=1), average="macro", labels=labels, zero_division=0
            )
        ),
        "brier": float(np.mean(np.sum((p - onehot) ** 2, axis=1))),
        "roc_auc": None,
    }
    if len(np.unique(y)) == n_classes:
        auc = (
            roc_auc_score(y, p[:, 1])
            if n_classes == 2
            else roc_auc_score(y, p, multi_class="ovr", average="macro", labels=labels)
        )
        out["roc_auc"] = _finite(auc)
    return out


def calibration_points(is_class: np.ndarray, p: np.ndarray, bins: int = 10) -> dict:
    """Reliability curve points (mean predicted, observed frequency)."""
    if len(p) == 0 or is_class.min() == is_class.max():
        return {"predicted": [], "observed": []}
    obs, pred = calibration_curve(is_class, p, n_bins=bins, strategy="quantile")
    return {"predicted": pred.tolist(), "observed": obs.tolist()}


def roc_points(is_class: np.ndarray, p: np.ndarray, max_points: int = 200) -> dict:
    """ROC curve (false positive rate, true positive rate), thinned."""
    from sklearn.metrics import roc_curve

    if len(p) == 0 or is_class.min() == is_class.max():
        return {"fpr": [], "tpr": []}
    fpr, tpr, _ = roc_curve(is_class, p)
    keep = np.unique(
        np.linspace(0, len(fpr) - 1, min(max_points, len(fpr))).astype(int)
    )
    return {"fpr": fpr[keep].tolist(), "tpr": tpr[keep].tolist()}


def bet_size(prob: np.ndarray, n_classes: int) -> np.ndarray:
    """López de Prado's bet size (AFML 10.1) from the probability of the
    predicted outcome: ``z = (p − 1/n) / sqrt(p (1 − p))``, size
    ``2 Φ(z) − 1``.

    Args:
        prob: The probability of the predicted outcome (clipped to
            [1e-9, 1 − 1e-9]).
        n_classes: The number of classes ``n``.

    Returns:
        The size in [−1, 1], shaped as ``prob``: unsigned here (negative
        only below ``p = 1/n``); multiply by the side.
    """
    p = np.clip(np.asarray(prob, dtype=float), 1e-9, 1 - 1e-9)
    z = (p - 1.0 / n_classes) / np.sqrt(p * (1.0 - p))
    return 2.0 * norm.cdf(z) - 1.0
