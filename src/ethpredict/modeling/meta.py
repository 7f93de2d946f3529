"""The bet: side from the chosen model, meta-labels, the walk-forward meta
model and the bet size of every tested bar.

Imports torch and scikit-learn (through :mod:`.walk`): import it where a fit
happens, not at the top of a pipeline's nodes.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ethpredict import labeling
from ethpredict.modeling.evaluate import bet_size
from ethpredict.modeling.folds import Fold
from ethpredict.modeling.walk import class_names, fit_meta
from ethpredict.params import LabelsParams, ModelParams
from ethpredict.volatility import unobserved

log = logging.getLogger(__name__)


def _meta_labels(bars, labels, side, first, lp):
    """Events with an out-of-sample side, re-labelled with that side."""
    later = (labels["t0_idx"] >= first).to_numpy()
    ev = labels[later]
    ev_side = side[ev["t0_idx"].to_numpy()]
    sided = labeling.triple_barrier(bars, ev, lp, side=ev_side)
    meta_y = np.full(len(labels), np.nan)
    meta_y[later] = labeling.meta_labels(sided, ev_side)
    t1 = np.full(len(labels), -1)
    t1[later] = sided["t1_idx"].to_numpy()
    return later, ev_side, sided, meta_y, t1


def _log_gate(decisions: list[dict], mp: ModelParams) -> None:
    by_meta = [d["fold"] for d in decisions if d["source"] == "meta"]
    aucs = {d["fold"]: d["meta_auc_train"] for d in decisions}
    log.info(
        "Bet size: %s (meta model's out-of-sample AUC over the training folds, "
        "needed > %.3f: %s)",
        f"meta model in folds {by_meta}, primary elsewhere"
        if by_meta
        else "primary model's probabilities in every fold",
        0.5 + mp.meta.auc_margin,
        {k: None if v is None else round(v, 3) for k, v in aucs.items()},
    )


def _sizes(proba, side, meta_prob, has_meta):
    """Bet sizes in [0, 1]: the meta model's where it sets them, else the
    side's probability against the other side's (a flat outcome is
    neither: at the prior's odds, no bet). A verdict below 1/2 means no
    bet, never a bet on the other side."""
    up, down = proba[:, -1], proba[:, 0]
    p_side = np.where(side > 0, up, down) / (up + down)
    return np.maximum(
        0.0,
        np.where(
            has_meta,
            bet_size(np.nan_to_num(meta_prob, nan=0.5), 2),
            bet_size(np.nan_to_num(p_side, nan=0.5), 2),
        ),
    )


def meta_predictions(
    bars: pd.DataFrame,
    model_input: pd.DataFrame,
    labels: pd.DataFrame,
    model_predictions: pd.DataFrame,
    folds: list[dict],
    mp: ModelParams,
    lp: LabelsParams,
) -> tuple[pd.DataFrame, object, pd.DataFrame]:
    """Side from the chosen model, meta-labels, walk-forward meta model, bet size.

    Args:
        bars: The bars (their unobserved-bar flags).
        model_input: One feature row per bar.
        labels: The triple-barrier labels of the events.
        model_predictions: :func:`ethpredict.modeling.predictions.walk_forward_predictions`'
            frame, on the last bars of ``bars``.
        folds: The fold table (dicts with ``k``, ``test_start``, ``test_end``,
            ``train_start``: bar positions).
        mp: The ``model`` parameters (``kind``, ``meta``).
        lp: The ``labels`` parameters (the classes, the barriers).

    Returns:
        ``predictions`` — per tested bar: ``fold``, ``p_<class>`` of
        ``model.kind``, ``side`` (+1 when p_up ≥ p_down, else −1),
        ``meta_prob``, ``bet_size`` in [−1, 1] (the side times the size; 0 when
        the meta model says the side does not pay) — on a gap-filled or stale
        bar the probabilities and ``meta_prob`` are NaN, ``side`` and
        ``bet_size`` 0, so no quote is driven by it — ``bet_source`` (``meta``, or
        ``primary`` where no meta model was trained yet — the first test window
        — or where it has not earned its place: its out-of-sample AUC over the
        training folds, ``meta_auc_train``, is not above
        ``0.5 + model.meta.auc_margin``; then the size comes from the chosen
        model's probability of its side);
        the last meta estimator (``{"fitted": False, …}`` when none could be
        trained); and the meta-labelled events.
    """
    names = class_names(lp)
    n_bars, first = len(bars), len(bars) - len(model_predictions)
    proba = np.full((n_bars, len(names)), np.nan)
    proba[first:] = model_predictions[[f"{mp.kind}_p_{c}" for c in names]].to_numpy()
    missing = unobserved(bars)  # gap-filled and stale bars: no prediction
    proba[missing] = np.nan
    side = np.where(proba[:, -1] >= proba[:, 0], 1, -1)
    later, ev_side, sided, meta_y, t1 = _meta_labels(bars, labels, side, first, lp)
    fold_objs = [
        Fold(f["k"], f["test_start"], f["test_end"], f["train_start"]) for f in folds
    ]
    x = model_input.to_numpy(np.float64)
    t0 = labels["t0_idx"].to_numpy()
    meta_prob, has_meta, estimator, decisions = fit_meta(
        x, np.nan_to_num(proba), side, t0, t1, meta_y, fold_objs, mp
    )
    gate = np.full(n_bars, np.nan)
    for f, d in zip(fold_objs, decisions, strict=True):
        gate[f.test_start : f.test_end] = (
            np.nan if d["meta_auc_train"] is None else d["meta_auc_train"]
        )
    _log_gate(decisions, mp)
    size = _sizes(proba, side, meta_prob, has_meta)
    side[missing], size[missing], meta_prob[missing] = 0, 0.0, np.nan
    tested = slice(first, None)
    out = pd.DataFrame(
        {
            "fold": model_predictions["fold"].to_numpy(),
            **{f"p_{c}": proba[tested, j] for j, c in enumerate(names)},
            "side": side[tested].astype(np.int8),
            "meta_prob": meta_prob[tested],
            "bet_size": side[tested] * size[tested],
            "bet_source": np.where(has_meta[tested], "meta", "primary"),
            "meta_auc_train": gate[tested],
        },
        index=model_predictions.index,
    )
    out.attrs.update({**model_predictions.attrs, "model_kind": mp.kind})
    meta_events = sided[["t0_idx", "t1_idx", "ret"]].assign(
        side=ev_side, meta_label=meta_y[later]
    )
    if estimator is None:
        log.warning(
            "No meta model: fewer than %d meta-labelled events before every fold; "
            "bet sizes come from the primary model's probabilities",
            mp.meta.min_events,
        )
        estimator = {"fitted": False, "min_events": mp.meta.min_events}
    return out, estimator, meta_events
