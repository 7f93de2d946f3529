"""Walk-forward fitting of every model on the very same folds.

Per fold: training events are purged and embargoed (:mod:`.folds`); the
scaler, class weights and time decay are computed from that fold's training
events only; every model predicts every bar of the fold's test window. The
primary network, logistic regression, gradient-boosted trees, their
equal-weight ensemble and the class prior are all out-of-sample.

Calibration (:mod:`.calibration`): the last ``model.calibration.holdout_frac``
of a fold's training events is held out (purged and embargoed against its
start); the models are fitted on the rest, each model's calibrator on its
predictions for the hold-out, and the calibrator maps the test window's
probabilities. Class weights act in training only; calibration comes after.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ethpredict.labeling import time_decay
from ethpredict.modeling.calibration import Calibrator, beats_prior
from ethpredict.modeling.folds import Fold, purge, split_fold
from ethpredict.modeling.nets import fit_net, predict_net
from ethpredict.params import CalibrationParams, LabelsParams, ModelParams

log = logging.getLogger(__name__)
MODELS = ("primary", "logistic", "gbt", "ensemble", "prior")
#: Quantile bins of the gradient-boosted trees. scikit-learn bins sample-
#: weighted data with one full sort per bin edge and feature; 63 bins instead
#: of 255 took a 10,000-event fit from 2.5 s to 1.0 s here, and coarser bins
#: regularise noisy features.
GBT_BINS = 63


def class_names(lp: LabelsParams) -> list[str]:
    """Probability columns, in class-index order."""
    return ["down", "flat", "up"] if lp.vertical_label == "zero" else ["down", "up"]


def class_index(label: np.ndarray, n_classes: int) -> np.ndarray:
    """Labels −1/0/+1 → class indices.

    Args:
        label: Labels −1 (down), 0 (flat), +1 (up) or NaN.
        n_classes: 2 (down, up) or 3 (down, flat, up).

    Returns:
        int64 class indices in :func:`class_names` order (0 down, the last
        up; with 2 classes a 0 label maps to 0), −1 where the label is NaN.
    """
    out = np.full(label.shape, -1, np.int64)
    ok = ~np.isnan(label)
    shift = 1 if n_classes == 3 else 0
    out[ok] = np.where(label[ok] > 0, n_classes - 1, np.where(label[ok] < 0, 0, shift))
    return out


@dataclass
class Scaler:
    """Standardisation fitted on training rows; NaN → 0 (the training mean)."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Scaler:
        mean = np.nanmean(x, axis=0)
        std = np.nanstd(x, axis=0)
        mean = np.where(np.isfinite(mean), mean, 0.0)
        return cls(mean, np.where((std > 0) & np.isfinite(std), std, 1.0))

    def transform(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) / self.scale
        return np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def _one_openmp_thread():
    """scikit-learn 1.9 bins sample-weighted data for gradient boosting in one
    joblib task per feature, and joblib's result polling sleeps ~10 ms per
    task: 1.2 s of a 1.4 s fit on this machine. With one OpenMP thread the
    binning runs inline; measured faster at 400 and 10,000 rows, with
    identical predictions."""
    return threadpool_limits(limits=1, user_api="openmp")


def _full_proba(model, x: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((len(x), n_classes))
    out[:, model.classes_] = model.predict_proba(x)
    return out


def _fold_info(
    fold: Fold,
    t0: np.ndarray,
    t1: np.ndarray,
    proper: np.ndarray,
    val: np.ndarray,
    cal: np.ndarray,
) -> dict:
    """The fold table's row: bounds and what purging and embargo dropped."""
    cand = (t0 >= fold.train_start) & (t0 < fold.test_start)
    purged = int((cand & ((t1 < 0) | (t1 >= fold.test_start))).sum())
    used = len(proper) + len(val) + len(cal)
    return {
        **fold.as_dict(),
        "candidates": int(cand.sum()),
        "purged": purged,
        "embargoed": int(cand.sum()) - purged - used,
        "train": len(proper),
        "validation": len(val),
        "calibration": len(cal),
        "test_bars": fold.test_end - fold.test_start,
    }


def _fit_gbt(
    x: np.ndarray,
    fit_rows: np.ndarray,
    y: np.ndarray,
    sw: np.ndarray,
    at: np.ndarray,
    mp: ModelParams,
    seed: int,
    cw: dict,
) -> np.ndarray:
    """Gradient-boosted trees fitted on bar rows ``fit_rows``; probabilities
    at bar rows ``at`` (every class, in class-index order)."""
    gbt = HistGradientBoostingClassifier(
        max_iter=mp.gbt_iter,
        learning_rate=0.05,
        max_leaf_nodes=15,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
        class_weight=cw,
        max_bins=GBT_BINS,
    )
    # trees take NaN as is, but a column with no value at all in the
    # training rows (a feature still warming up) has nothing to bin
    empty = np.isnan(x[fit_rows]).all(axis=0)
    xg = x
    if empty.any():  # copy (n_bars × features) only when a column needs it
        xg = x.copy()
        xg[:, empty] = 0.0
    with _one_openmp_thread():
        gbt.fit(xg[fit_rows], y, sample_weight=sw)
    return _full_proba(gbt, xg[at], len(cw))


def _calibrate(
    p: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    prior: np.ndarray,
    cp: CalibrationParams,
) -> tuple[Calibrator, bool]:
    """A model's calibrator fitted on its hold-out predictions ``p``, and
    whether the calibrated model earned its place over the prior there (always
    with ``method: none`` or ``prior_fallback: false``)."""
    cal = Calibrator(cp.method).fit(p, y, w, prior, cp.prior_weight)
    if cp.method == "none" or not cp.prior_fallback:
        return cal, True
    return cal, beats_prior(cal.transform(p), y, w, prior, max(cal.n_params, 1))[0]


@dataclass
class WalkForward:
    """Out-of-sample probabilities of every model for every tested bar."""

    proba: dict[str, np.ndarray]  # model -> (n_bars, n_classes), NaN before testing
    raw: dict[str, np.ndarray]  # the same before calibration
    fold_of_bar: np.ndarray  # fold index per bar, −1 before the first test window
    folds: list[dict] = field(default_factory=list)
    artefact: dict = field(default_factory=dict)  # last fold's primary network


def fit_walk_forward(
    x: np.ndarray,
    labels: pd.DataFrame,
    folds: list[Fold],
    mp: ModelParams,
    lp: LabelsParams,
    feature_names: list[str],
) -> WalkForward:
    """Fit all models fold by fold; see the module docstring."""
    torch.set_num_threads(mp.threads)
    n_bars, n_classes = x.shape[0], len(class_names(lp))
    t0 = labels["t0_idx"].to_numpy()
    t1 = labels["t1_idx"].to_numpy()
    y_ev = class_index(labels["label"].to_numpy(dtype=float), n_classes)
    y_bar = np.zeros(n_bars, np.int64)
    y_bar[t0] = np.maximum(y_ev, 0)
    uniq = labels["uniqueness"].to_numpy()
    proba = {m: np.full((n_bars, n_classes), np.nan) for m in MODELS}
    raw = {m: np.full((n_bars, n_classes), np.nan) for m in MODELS}
    fold_of_bar = np.full(n_bars, -1, np.int64)
    info, artefact = [], {}
    cp = mp.calibration
    for fold in folds:
        rows = np.arange(fold.test_start, fold.test_end)
        fold_of_bar[rows] = fold.k
        proper, val, cal = split_fold(
            t0, t1, fold, mp.cv, cp.holdout_frac if cp.method != "none" else 0.0
        )
        train = np.sort(np.concatenate([proper, val]))
        used = np.sort(np.concatenate([train, cal]))
        info.append(_fold_info(fold, t0, t1, proper, val, cal))
        w_bar = np.zeros(n_bars)
        w_bar[t0[used]] = uniq[used] * time_decay(uniq[used], lp.time_decay)
        # the prior: every training event's weighted class frequency
        counts = np.bincount(y_ev[used], weights=w_bar[t0[used]], minlength=n_classes)
        prior = (
            counts / counts.sum()
            if counts.sum() > 0
            else np.full(n_classes, 1 / n_classes)
        )
        proba["prior"][rows] = raw["prior"][rows] = prior
        fit_counts = np.bincount(
            y_ev[train], weights=w_bar[t0[train]], minlength=n_classes
        )
        if len(proper) < 10 or len(val) == 0 or (fit_counts > 0).sum() < 2:
            log.warning(
                "fold %d: %d training events; every model predicts the prior",
                fold.k,
                len(train),
            )
            for m in ("primary", "logistic", "gbt", "ensemble"):
                proba[m][rows] = raw[m][rows] = prior
            info[-1]["fallback"] = "prior"
            continue
        counts = fit_counts
        cw = (
            np.where(
                counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1e-12)), 1.0
            )
            if mp.class_balance
            else np.ones(n_classes)
        )
        scaler = Scaler.fit(x[t0[train]])
        xs = scaler.transform(x)
        seed = mp.seed + fold.k
        trained = fit_net(
            xs,
            y_bar,
            w_bar,
            t0[proper],
            t0[val],
            n_classes,
            mp.net,
            seed,
            cw,
            desc=f"fold {fold.k + 1}/{len(folds)} {mp.net.arch}",
            progress=mp.progress,
        )
        info[-1].update(epochs=trained.epochs, best_val_loss=trained.best_val_loss)
        # every model predicts the test window and the calibration hold-out
        at = np.concatenate([rows, t0[cal]])
        out = {"primary": predict_net(trained.net, xs, at, trained.cfg)}
        cw_dict = {c: float(cw[c]) for c in range(n_classes)}
        sw = w_bar[t0[train]]
        logit = LogisticRegression(max_iter=1000, class_weight=cw_dict)
        logit.fit(xs[t0[train]], y_ev[train], sample_weight=sw)
        out["logistic"] = _full_proba(logit, xs[at], n_classes)
        out["gbt"] = _fit_gbt(x, t0[train], y_ev[train], sw, at, mp, seed, cw_dict)
        out["ensemble"] = (out["primary"] + out["logistic"] + out["gbt"]) / 3.0
        calibrators = {}
        for m, p in out.items():  # fitted on the hold-out, applied to the test window
            calibrators[m], earned = _calibrate(
                p[len(rows) :], y_ev[cal], w_bar[t0[cal]], prior, cp
            )
            raw[m][rows] = p[: len(rows)]
            proba[m][rows] = (
                calibrators[m].transform(p[: len(rows)]) if earned else prior
            )
            info[-1].setdefault("prior_fallback", {})[m] = not earned
        info[-1]["calibrated"] = calibrators["primary"].fitted_
        if calibrators["primary"].fitted_ and cp.method == "bias_temperature":
            info[-1]["inverse_temperature"] = calibrators["primary"].a_
        artefact = {
            "state_dict": trained.net.state_dict(),
            "config": {
                **trained.cfg,
                "classes": class_names(lp),
                "features": list(feature_names),
                "fold": fold.k,
                "trained_through": int(fold.test_start),
                "seed": seed,
            },
            "scaler_mean": torch.from_numpy(scaler.mean.astype(np.float64)),
            "scaler_scale": torch.from_numpy(scaler.scale.astype(np.float64)),
            "calibration": {
                **calibrators["primary"].to_dict(),
                # the network did not earn its place over the prior in this fold
                "prior_fallback": info[-1]["prior_fallback"]["primary"],
                "prior": prior.tolist(),
            },
        }
    return WalkForward(proba, raw, fold_of_bar, info, artefact)


def fit_meta(
    x: np.ndarray,
    proba: np.ndarray,
    side: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    meta_y: np.ndarray,
    folds: list[Fold],
    mp: ModelParams,
) -> tuple[np.ndarray, np.ndarray, object | None, list[dict]]:
    """Walk-forward meta model: P(trading the primary's side pays) per bar.

    Fold k trains on meta-labels of events from earlier test windows (whose
    sides were out-of-sample), purged and embargoed against fold k. Its
    verdict is *used* in fold k only when the meta model's out-of-sample AUC
    over the training folds — its predictions for those same purged events,
    each made by the meta model of the fold that tested it, at least
    ``model.meta.min_events`` of them — exceeds ``0.5 + model.meta.auc_margin``.

    Returns:
        The probability per bar (NaN where no meta model could be trained),
        a mask of the bars whose bet size it sets (trained and earned its
        place), the last fitted estimator, and per fold ``{"fold",
        "meta_auc_train", "n_auc", "source"}``.
    """
    from sklearn.metrics import roc_auc_score

    n_bars = x.shape[0]
    feats = np.column_stack([proba, side, x])
    prob = np.full(n_bars, np.nan)
    use = np.zeros(n_bars, bool)
    last, decisions = None, []
    first = folds[0].test_start if folds else n_bars
    for fold in folds:
        rows = np.arange(fold.test_start, fold.test_end)
        ok = purge(t0, t1, first, fold.test_start, mp.cv.embargo_bars)
        ok = ok[~np.isnan(meta_y[ok])]
        y = meta_y[ok].astype(np.int64)
        # how the earlier folds' meta models did on these events, out of sample
        seen = ~np.isnan(prob[t0[ok]])
        auc = None
        if len(np.unique(y[seen])) == 2:
            auc = float(roc_auc_score(y[seen], prob[t0[ok]][seen]))
        earned = (
            auc is not None
            and seen.sum() >= mp.meta.min_events
            and auc > 0.5 + mp.meta.auc_margin
        )
        decisions.append(
            {
                "fold": fold.k,
                "meta_auc_train": auc,
                "n_auc": int(seen.sum()),
                "source": "primary",
            }
        )
        if len(ok) < mp.meta.min_events or len(np.unique(y)) < 2:
            continue
        if mp.meta.kind == "gbt":
            est = HistGradientBoostingClassifier(
                max_iter=100,
                learning_rate=0.05,
                max_leaf_nodes=15,
                early_stopping=False,
                random_state=mp.seed + fold.k,
                max_bins=GBT_BINS,
            )
            with _one_openmp_thread():
                est.fit(feats[t0[ok]], y)
            prob[rows] = est.predict_proba(feats[rows])[:, 1]
        else:
            est = make_pipeline(
                StandardScaler(),
                SimpleImputer(strategy="constant", fill_value=0.0),
                LogisticRegression(max_iter=1000),
            )
            est.fit(feats[t0[ok]], y)
            prob[rows] = est.predict_proba(feats[rows])[:, 1]
        last = est
        if earned:
            use[rows] = True
            decisions[-1]["source"] = "meta"
    return prob, use & ~np.isnan(prob), last, decisions
