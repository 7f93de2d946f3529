"""Calibration: causal (fitted on a training hold-out, never the test window),
multi-class probabilities that sum to 1, and better log-loss where the
model is mis-calibrated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import softmax
from sklearn.metrics import log_loss

from ethpredict.modeling.calibration import METHODS, Calibrator
from ethpredict.modeling.folds import Fold, split_fold
from ethpredict.params import CalibrationParams, CVParams
from ethpredict.pipelines.modeling.nodes import assemble_model_input, fit_models
from ethpredict.testing.modeling import LP, MP


def miscalibrated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three classes drawn from true probabilities; the model reports them
    over-confident (logits × 3) and shifted towards class 2 (as class weights
    would shift a rare class)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 0.6, (n, 3)) + np.array([0.0, 0.8, 0.0])
    truth = softmax(logits, axis=1)
    y = np.array([rng.choice(3, p=p) for p in truth])
    reported = softmax(3 * logits + np.array([0.0, 0.0, 1.0]), axis=1)
    return reported, y


@pytest.mark.parametrize("method", METHODS)
def test_probabilities_sum_to_one_and_nan_rows_stay_nan(method):
    p, y = miscalibrated(500, 0)
    cal = Calibrator(method).fit(p, y)
    q = cal.transform(np.vstack([p, np.full((1, 3), np.nan)]))
    np.testing.assert_allclose(q[:-1].sum(axis=1), 1.0, rtol=1e-12)
    assert (q[:-1] > 0).all() and np.isnan(q[-1]).all()


@pytest.mark.parametrize("method", ["bias_temperature", "platt", "isotonic"])
def test_calibration_lowers_log_loss_of_a_miscalibrated_model(method):
    p_fit, y_fit = miscalibrated(3000, 1)
    p_new, y_new = miscalibrated(3000, 2)  # fresh draws: out of sample
    cal = Calibrator(method).fit(p_fit, y_fit)
    before, after = log_loss(y_new, p_new), log_loss(y_new, cal.transform(p_new))
    assert after < before - 0.1, (before, after)
    prior = np.bincount(y_fit, minlength=3) / len(y_fit)
    assert after < log_loss(y_new, np.tile(prior, (len(y_new), 1)))  # informative


def test_bias_temperature_undoes_the_known_distortion():
    p, y = miscalibrated(20_000, 3)
    cal = Calibrator().fit(p, y)
    assert cal.a_ == pytest.approx(1 / 3, rel=0.1)  # the logits were tripled
    # the bias cancels the +1 on class 2 (and the 0.8 * 1/3 ... is in log p)
    assert cal.b_[2] - cal.b_[0] == pytest.approx(-1 / 3, abs=0.1)


def test_too_few_events_or_one_class_is_the_identity():
    p, y = miscalibrated(15, 4)
    assert not Calibrator().fit(p, y).fitted_
    p, y = miscalibrated(100, 4)
    cal = Calibrator().fit(p, np.zeros(100, np.int64))
    assert not cal.fitted_ and np.array_equal(cal.transform(p), p)


@pytest.mark.parametrize("method", METHODS)
def test_round_trip_through_plain_types(method):
    p, y = miscalibrated(400, 5)
    cal = Calibrator(method).fit(p, y)
    again = Calibrator.from_dict(cal.to_dict())
    np.testing.assert_allclose(again.transform(p), cal.transform(p), rtol=1e-12)


def test_calibration_hold_out_is_purged_and_embargoed():
    t0 = np.arange(0, 1000, 3)
    t1 = t0 + 12
    cv = CVParams(train_bars=900, test_bars=100, embargo_bars=20, val_frac=0.2)
    fold = Fold(0, 900, 1000, 0)
    proper, val, cal = split_fold(t0, t1, fold, cv, 0.25)
    assert len(cal) > 50 and len(val) > 30
    assert t1[cal].max() < 900 - 20  # before the test window's embargo
    assert t1[val].max() < t0[cal].min() - 20  # validation before the hold-out's
    assert t1[proper].max() < t0[val].min() - 20
    assert not set(cal) & (set(val) | set(proper))
    p2, v2, c2 = split_fold(t0, t1, fold, cv, 0.0)  # no calibration: no hold-out
    assert len(c2) == 0 and len(p2) + len(v2) > len(proper) + len(val)


MP_FAST = MP.model_copy(
    update={"net": MP.net.model_copy(update={"max_epochs": 2}), "gbt_iter": 10}
)


@pytest.fixture(scope="module")
def fitted(small):
    x = assemble_model_input(small["features_base"], small["features_advanced"])
    preds, folds, artefact = fit_models(x, small["labels"], MP_FAST, LP)
    return x, preds, folds, artefact


def test_every_fold_is_calibrated_on_its_own_training_hold_out(fitted):
    _, preds, folds, artefact = fitted
    assert all(f["calibration"] > 0 and f["calibrated"] for f in folds)
    for m in ("primary", "logistic", "gbt", "ensemble"):
        cal = preds[[f"{m}_p_{c}" for c in ("down", "flat", "up")]].to_numpy()
        raw = preds[[f"{m}_raw_p_{c}" for c in ("down", "flat", "up")]].to_numpy()
        np.testing.assert_allclose(cal.sum(axis=1), 1.0, rtol=1e-9)
        np.testing.assert_allclose(raw.sum(axis=1), 1.0, rtol=1e-5)
        assert not np.allclose(cal, raw)  # calibration changed something
    assert artefact["calibration"]["fitted"]


@pytest.mark.parametrize("k", [1, 3])
def test_calibration_never_sees_the_test_window(small, fitted, k):
    """Scramble the labels of every event that starts in fold k's test window
    or later: fold k's calibrated (and raw) predictions stay bit-identical,
    later folds' change."""
    x, preds, folds, _ = fitted
    labels = small["labels"].copy()
    later = labels["t0_idx"].to_numpy() >= folds[k]["test_start"]
    rng = np.random.default_rng(k)
    labels.loc[later, "label"] = rng.choice([-1.0, 0.0, 1.0], later.sum())
    again, _, _ = fit_models(x, labels, MP_FAST, LP)
    upto = preds["fold"] <= k
    pd.testing.assert_frame_equal(preds[upto], again[upto], check_exact=True)
    assert not preds[~upto].equals(again[~upto])


def test_method_none_reports_the_raw_probabilities(small):
    """(Also: a stress period before train_bars moves the first test window.)"""
    x = assemble_model_input(small["features_base"], small["features_advanced"])
    stress = {"name": "s", "start": "2024-01-01 20:00", "end": "2024-01-01 21:00"}
    cv = CVParams(
        **{**MP_FAST.cv.model_dump(), "test_bars": 2280, "stress_periods": [stress]}
    )
    mp = MP_FAST.model_copy(
        update={"cv": cv, "calibration": CalibrationParams(method="none")}
    )
    preds, folds, _ = fit_models(x, small["labels"], mp, LP)
    assert all(f["calibration"] == 0 and not f["calibrated"] for f in folds)
    assert folds[0]["test_start"] == 1200 and folds[0]["stress"] == ["s"]
    assert preds.index[0] == pd.Timestamp("2024-01-01 20:00", tz="UTC")
    cols = [f"primary_p_{c}" for c in ("down", "flat", "up")]
    raw = [c.replace("_p_", "_raw_p_") for c in cols]
    np.testing.assert_array_equal(preds[cols].to_numpy(), preds[raw].to_numpy())


def meta_case(n_bars: int = 6000, informative: bool = True, seed: int = 0):
    """Events every 3 bars; the meta-label is (noisily) x₀ > 0 when
    ``informative``, else a coin."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_bars, 3))
    t0 = np.arange(0, n_bars - 5, 3)
    t1 = t0 + 2
    score = x[t0, 0] + rng.normal(0, 1.0, len(t0))
    meta_y = (score > 0 if informative else rng.random(len(t0)) < 0.5).astype(float)
    proba = np.full((n_bars, 2), 0.5)
    side = np.ones(n_bars, np.int64)
    folds = [Fold(k, a, a + 1000, 0) for k, a in enumerate(range(1000, n_bars, 1000))]
    return x, proba, side, t0, t1, meta_y, folds


@pytest.mark.parametrize(
    ("informative", "margin", "used"),
    [
        (True, 0.02, True),  # AUC ≈ 0.75 beats 0.52: the meta model sizes the bets
        (True, 0.45, False),  # … but not 0.95
        (False, 0.1, False),  # a coin never earns its place
    ],
)
def test_meta_model_is_used_only_when_its_training_auc_beats_the_margin(
    informative, margin, used
):
    from ethpredict.modeling.walk import fit_meta

    *case, folds = meta_case(informative=informative)
    mp = MP.model_copy(
        update={"meta": MP.meta.model_copy(update={"auc_margin": margin})}
    )
    prob, use, _, decisions = fit_meta(*case, folds, mp)
    assert [d["fold"] for d in decisions] == list(range(len(folds)))
    # fold 0 has no meta model, fold 1 no out-of-sample history: primary
    assert [d["source"] for d in decisions[:2]] == ["primary", "primary"]
    assert decisions[0]["meta_auc_train"] is None
    for d, f in zip(decisions, folds, strict=True):
        rows = slice(f.test_start, f.test_end)
        auc = d["meta_auc_train"]
        enough = d["n_auc"] >= mp.meta.min_events
        assert (d["source"] == "meta") == (
            auc is not None and enough and auc > 0.5 + margin
        )
        assert use[rows].all() == (d["source"] == "meta")
        assert not use[rows].any() or d["source"] == "meta"
    assert any(d["source"] == "meta" for d in decisions) == used
    assert np.isfinite(prob[folds[1].test_start :]).all()  # its verdicts are still made


def test_a_model_without_signal_falls_back_to_the_prior():
    from ethpredict.modeling.walk import _calibrate

    rng = np.random.default_rng(6)
    y = rng.choice(3, 300, p=[0.45, 0.1, 0.45])
    prior = np.array([0.45, 0.1, 0.45])
    noise = rng.dirichlet(np.ones(3), 300)  # says nothing about y
    cp = CalibrationParams()
    assert not _calibrate(noise, y, np.ones(300), prior, cp)[1]
    assert _calibrate(
        noise, y, np.ones(300), prior, cp.model_copy(update={"prior_fallback": False})
    )[1]
    p, y = miscalibrated(300, 7)  # informative, if mis-calibrated
    prior = np.bincount(y, minlength=3) / 300
    assert _calibrate(p, y, np.ones(300), prior, cp)[1]


def test_meta_model_needs_min_events_out_of_sample_verdicts_to_be_judged():
    from ethpredict.modeling.walk import fit_meta

    *case, folds = meta_case()
    # ~333 events per test window: fold 1 is too short to train on, fold 2
    # trains; fold 3 sees fold 2's ~333 verdicts (< 400), fold 4 ~666
    mp = MP.model_copy(update={"meta": MP.meta.model_copy(update={"min_events": 400})})
    _, use, _, decisions = fit_meta(*case, folds, mp)
    assert decisions[3]["n_auc"] < 400 and decisions[3]["meta_auc_train"] > 0.6
    assert decisions[3]["source"] == "primary" and decisions[4]["source"] == "meta"
    assert not use[folds[3].test_start : folds[3].test_end].any()
