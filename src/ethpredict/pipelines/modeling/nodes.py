"""Nodes of the modeling pipeline: walk-forward models, meta model, metrics."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ethpredict import labeling
from ethpredict.io.bars import unobserved
from ethpredict.modeling.folds import Fold, walk_forward
from ethpredict.params import LabelsParams, ModelParams, coerce

log = logging.getLogger(__name__)

# ``ethpredict.modeling.walk`` and ``.evaluate`` (torch, scikit-learn, scipy) are imported in the
# nodes: every ``kedro`` command imports all pipelines, and most never fit.


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
    """Walk-forward fit of the primary network and every baseline.

    Returns:
        ``model_predictions`` — per tested bar, ``fold``,
        ``<model>_p_<class>`` (calibrated) for every model and
        ``<model>_raw_p_<class>`` before calibration (not for the prior); the
        fold table (bounds, training/purged/embargoed/calibration counts); the
        last fold's primary network (weights, scaler, config, calibrator).
    """
    from ethpredict.modeling.walk import MODELS, class_names, fit_walk_forward

    mp, lp = (
        coerce(ModelParams, model, "model"),
        coerce(LabelsParams, labels_p, "labels"),
    )
    times = None
    if mp.cv.stress_periods:
        idx = pd.DatetimeIndex(model_input.index)
        times = (idx.tz_convert("UTC").tz_localize(None) if idx.tz else idx).to_numpy()
    folds = walk_forward(len(model_input), mp.cv, times)
    x = model_input.to_numpy(np.float64)
    wf = fit_walk_forward(x, labels, folds, mp, lp, list(model_input.columns))
    tested = slice(folds[0].test_start, None)
    cols = {"fold": wf.fold_of_bar[tested]}
    for m in MODELS:
        for j, c in enumerate(class_names(lp)):
            cols[f"{m}_p_{c}"] = wf.proba[m][tested, j]
    for m in (m for m in MODELS if m != "prior"):  # the prior is not calibrated
        for j, c in enumerate(class_names(lp)):
            cols[f"{m}_raw_p_{c}"] = wf.raw[m][tested, j]
    out = pd.DataFrame(cols, index=model_input.index[tested])
    for p in mp.cv.stress_periods:
        at = model_input.index.searchsorted(pd.Timestamp(p.start))
        wf.folds[int(wf.fold_of_bar[at])].setdefault("stress", []).append(p.name)
    out.attrs.update(model_input.attrs)
    log.info("Out-of-sample predictions for %d bars in %d folds", len(out), len(folds))
    return out, wf.folds, wf.artefact


def fit_meta_model(
    bars: pd.DataFrame,
    model_input: pd.DataFrame,
    labels: pd.DataFrame,
    model_predictions: pd.DataFrame,
    folds: list[dict],
    model: ModelParams,
    labels_p: LabelsParams,
) -> tuple[pd.DataFrame, object, pd.DataFrame]:
    """Side from the chosen model, meta-labels, walk-forward meta model, bet size.

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
    from ethpredict.modeling.evaluate import bet_size
    from ethpredict.modeling.walk import class_names, fit_meta

    mp, lp = (
        coerce(ModelParams, model, "model"),
        coerce(LabelsParams, labels_p, "labels"),
    )
    names = class_names(lp)
    n_bars, first = len(bars), len(bars) - len(model_predictions)
    proba = np.full((n_bars, len(names)), np.nan)
    proba[first:] = model_predictions[[f"{mp.kind}_p_{c}" for c in names]].to_numpy()
    missing = unobserved(bars)  # gap-filled and stale bars: no prediction
    proba[missing] = np.nan
    side = np.where(proba[:, -1] >= proba[:, 0], 1, -1)
    later = (labels["t0_idx"] >= first).to_numpy()  # events with an out-of-sample side
    ev = labels[later]
    ev_side = side[ev["t0_idx"].to_numpy()]
    sided = labeling.triple_barrier(bars, ev, lp, side=ev_side)
    meta_y = np.full(len(labels), np.nan)
    meta_y[later] = labeling.meta_labels(sided, ev_side)
    t0 = labels["t0_idx"].to_numpy()
    t1 = np.full(len(labels), -1)
    t1[later] = sided["t1_idx"].to_numpy()
    fold_objs = [
        Fold(f["k"], f["test_start"], f["test_end"], f["train_start"]) for f in folds
    ]
    x = model_input.to_numpy(np.float64)
    meta_prob, has_meta, estimator, decisions = fit_meta(
        x, np.nan_to_num(proba), side, t0, t1, meta_y, fold_objs, mp
    )
    gate = np.full(n_bars, np.nan)
    for f, d in zip(fold_objs, decisions, strict=True):
        gate[f.test_start : f.test_end] = (
            np.nan if d["meta_auc_train"] is None else d["meta_auc_train"]
        )
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
    # without the meta model the bet is sized by the side's probability
    # against the other side's (a flat outcome is neither): at the prior's
    # odds, no bet
    up, down = proba[:, -1], proba[:, 0]
    p_side = np.where(side > 0, up, down) / (up + down)
    # a meta verdict below 1/2 (or a side less likely than the other) means
    # no bet, never a bet on the other side
    size = np.maximum(0.0, np.where(
        has_meta, bet_size(np.nan_to_num(meta_prob, nan=0.5), 2),
        bet_size(np.nan_to_num(p_side, nan=0.5), 2),
    ))  # fmt: skip
    side[missing], size[missing], meta_prob[missing] = 0, 0.0, np.nan
    tested = slice(first, None)
    out = pd.DataFrame(
        {"fold": model_predictions["fold"].to_numpy(),
         **{f"p_{c}": proba[tested, j] for j, c in enumerate(names)},
         "side": side[tested].astype(np.int8), "meta_prob": meta_prob[tested],
         "bet_size": side[tested] * size[tested],
         "bet_source": np.where(has_meta[tested], "meta", "primary"),
         "meta_auc_train": gate[tested]},
        index=model_predictions.index,
    )  # fmt: skip
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


def evaluate_models(
    labels: pd.DataFrame,
    model_predictions: pd.DataFrame,
    predictions: pd.DataFrame,
    meta_events: pd.DataFrame,
    folds: list[dict],
    labels_p: LabelsParams,
    model: ModelParams,
) -> dict:
    """Per-fold and overall metrics of every model on the test events (labels
    resolved), ROC and calibration curves of ``up``, and the meta model's."""
    from ethpredict.modeling.evaluate import (
        calibration_points,
        classifier_metrics,
        roc_points,
    )
    from ethpredict.modeling.walk import MODELS, class_index, class_names

    mp, lp = (
        coerce(ModelParams, model, "model"),
        coerce(LabelsParams, labels_p, "labels"),
    )
    names = class_names(lp)
    pos = model_predictions.index.get_indexer(labels.index)
    test = (pos >= 0) & labels["label"].notna().to_numpy()
    y = class_index(labels["label"].to_numpy(dtype=float)[test], len(names))
    fold = model_predictions["fold"].to_numpy()[pos[test]]
    out: dict = {"classes": names, "model_kind": mp.kind, "folds": folds, "models": {}}
    up = y == len(names) - 1
    for m in MODELS:
        p = model_predictions[[f"{m}_p_{c}" for c in names]].to_numpy()[pos[test]]
        entry = {"overall": classifier_metrics(y, p, len(names)),
                 "per_fold": [{"fold": int(k), **classifier_metrics(y[fold == k], p[fold == k],
                                                                     len(names))}
                              for k in np.unique(fold)],
                 "roc_up": roc_points(up, p[:, -1]),
                 "calibration_up": calibration_points(up, p[:, -1])}  # fmt: skip
        raw_cols = [f"{m}_raw_p_{c}" for c in names]
        if set(raw_cols) <= set(model_predictions.columns):
            r = model_predictions[raw_cols].to_numpy()[pos[test]]
            entry["uncalibrated"] = classifier_metrics(y, r, len(names))
            entry["calibration_up_uncalibrated"] = calibration_points(up, r[:, -1])
        out["models"][m] = entry
    o = out["models"]
    out["calibration"] = {
        "method": mp.calibration.method,
        "holdout_frac": mp.calibration.holdout_frac,
        "prior_log_loss": o["prior"]["overall"].get("log_loss"),
        "log_loss": {
            m: {
                "before": o[m].get("uncalibrated", {}).get("log_loss"),
                "after": o[m]["overall"].get("log_loss"),
            }
            for m in MODELS
            if m != "prior"
        },
    }
    me = meta_events.dropna(subset=["meta_label"])
    pm = predictions["meta_prob"].reindex(me.index).to_numpy()
    ok = ~np.isnan(pm)
    if ok.any():
        yb = me["meta_label"].to_numpy()[ok].astype(np.int64)
        out["meta"] = classifier_metrics(yb, np.column_stack([1 - pm[ok], pm[ok]]), 2)
    else:
        out["meta"] = {"n": 0}
    share = float((predictions["bet_source"] == "meta").mean())
    per_fold = []
    for k, g in predictions.groupby("fold", sort=True):
        auc = g["meta_auc_train"].iloc[0] if "meta_auc_train" in g else np.nan
        per_fold.append({"fold": int(k), "source": str(g["bet_source"].mode().iloc[0]),
                         "meta_auc_train": None if np.isnan(auc) else float(auc)})  # fmt: skip
    out["bet_size"] = {
        "mean_abs": float(predictions["bet_size"].abs().mean()),
        "share_meta": share,
        "source": "meta" if share == 1 else "primary" if share == 0 else "mixed",
        "auc_margin": mp.meta.auc_margin,
        "per_fold": per_fold,
    }
    log.info(
        "Out-of-sample log-loss (calibrated, before calibration; prior %s): %s",
        out["calibration"]["prior_log_loss"],
        {
            m: (v["after"], v["before"])
            for m, v in out["calibration"]["log_loss"].items()
        },
    )
    return out
