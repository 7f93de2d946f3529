"""Out-of-sample, leak-free, deterministic walk-forward models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ethpredict.datasets import SkopsDataset, TorchModelDataset
from ethpredict.modeling.evaluate import bet_size, classifier_metrics
from ethpredict.modeling.inference import PrimaryModel
from ethpredict.pipelines.modeling.nodes import (
    assemble_model_input,
    evaluate_models,
    fit_meta_model,
    fit_models,
)
from ethpredict.testing.modeling import LP, MP, make_bars, upstream


def modeling(up: dict, mp=MP, lp=LP) -> dict:
    x = assemble_model_input(up["features_base"], up["features_advanced"])
    preds, folds, artefact = fit_models(x, up["labels"], mp, lp)
    final, meta, meta_events = fit_meta_model(
        up["bars"], x, up["labels"], preds, folds, mp, lp
    )
    metrics = evaluate_models(up["labels"], preds, final, meta_events, folds, lp, mp)
    return {
        "x": x,
        "model_predictions": preds,
        "folds": folds,
        "artefact": artefact,
        "predictions": final,
        "meta": meta,
        "metrics": metrics,
    }


@pytest.fixture(scope="module")
def result(small) -> dict:
    return modeling(small)


def test_every_bar_after_the_first_window_has_one_prediction(small, result):
    p = result["predictions"]
    bars = small["bars"]
    assert p.index.equals(bars.index[MP.cv.train_bars :])
    cols = [c for c in result["model_predictions"] if "_p_" in c]
    assert result["model_predictions"][cols].notna().all().all()
    probs = p[["p_down", "p_flat", "p_up"]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert set(p["fold"]) == set(range(6))  # (5760 − 1440) / 720 test windows
    assert p["bet_size"].between(-1, 1).all()
    assert (np.sign(p["bet_size"]) * p["side"] >= 0).all()
    assert (p.loc[p["fold"] <= 1, "bet_source"] == "primary").all()
    # later folds: the meta model only where its training-fold AUC earned it
    margin = 0.5 + MP.meta.auc_margin
    earned = p["meta_auc_train"] > margin
    assert ((p["bet_source"] == "meta") == (earned & p["meta_prob"].notna())).all()
    assert p.loc[p["fold"] >= 2, "meta_auc_train"].notna().all()


def test_metrics_for_every_model_and_fold(result):
    m = result["metrics"]
    assert set(m["models"]) == {"primary", "logistic", "gbt", "ensemble", "prior"}
    for entry in m["models"].values():
        assert entry["overall"]["n"] > 100
        assert len(entry["per_fold"]) == 6
        assert 0 < entry["overall"]["log_loss"] < 5
    assert len(m["models"]["gbt"]["roc_up"]["fpr"]) > 2
    assert m["meta"]["n"] > 0
    bet = m["bet_size"]
    assert bet["source"] in ("meta", "primary", "mixed") and len(bet["per_fold"]) == 6
    cal = m["calibration"]
    assert cal["method"] == "bias_temperature" and cal["prior_log_loss"] > 0
    for name, v in cal["log_loss"].items():
        assert v["after"] == m["models"][name]["overall"]["log_loss"]
        assert v["before"] == m["models"][name]["uncalibrated"]["log_loss"]
    assert m["models"]["primary"]["calibration_up_uncalibrated"]["predicted"]


@pytest.mark.parametrize("k", [0, 2])
def test_perturbing_bars_after_test_fold_k_leaves_its_predictions(small, result, k):
    end = result["folds"][k]["test_end"]
    bars = small["bars"].copy()
    rng = np.random.default_rng(k)
    scale = np.exp(np.cumsum(rng.normal(0, 0.01, len(bars) - end)))
    for col in ("open", "high", "low", "close"):
        bars.iloc[end:, bars.columns.get_loc(col)] *= scale
    bars.iloc[end:, bars.columns.get_loc("volume")] *= rng.uniform(
        0.2, 5, len(bars) - end
    )
    again = modeling(upstream(bars))
    for name in ("model_predictions", "predictions"):
        a, b = result[name], again[name]
        upto = a["fold"] <= k
        pd.testing.assert_frame_equal(a[upto], b[upto], check_exact=True)
        assert not a[~upto].equals(b[~upto])


def test_same_seed_same_predictions_bitwise(small, result):
    again = modeling(small)
    pd.testing.assert_frame_equal(
        result["predictions"], again["predictions"], check_exact=True
    )
    pd.testing.assert_frame_equal(
        result["model_predictions"], again["model_predictions"], check_exact=True
    )


def test_other_seed_other_network(small, result):
    other = modeling(small, mp=MP.model_copy(update={"seed": 9}))
    # the network's own output (calibrated, it may be the prior on a random walk)
    assert not np.array_equal(
        other["model_predictions"]["primary_raw_p_up"],
        result["model_predictions"]["primary_raw_p_up"],
    )


def test_artefacts_round_trip_and_reproduce_the_last_fold(tmp_path, small, result):
    ds = TorchModelDataset(filepath=str(tmp_path / "m.pt"))
    ds.save(result["artefact"])
    model = PrimaryModel(ds.load())
    last = result["folds"][-1]
    x = result["x"]
    got = model.predict_proba(x).iloc[last["test_start"] : last["test_end"]]
    want = result["model_predictions"].loc[
        got.index, ["primary_p_down", "primary_p_flat", "primary_p_up"]
    ]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-6)
    sk = SkopsDataset(filepath=str(tmp_path / "meta.skops"))
    sk.save(result["meta"])
    assert type(sk.load()).__name__ == "Pipeline"
    with pytest.raises(ValueError, match="lack columns"):
        model.predict_proba(x.drop(columns=[x.columns[0]]))


@pytest.mark.parametrize("arch", ["conv", "gru"])
def test_temporal_models(small, arch):
    mp = MP.model_copy(
        update={
            "net": MP.net.model_copy(update={"arch": arch, "window": 8}),
            "kind": "primary",
        }
    )
    out = modeling(small, mp=mp)
    assert out["predictions"][["p_down", "p_up"]].notna().all().all()
    model = PrimaryModel(out["artefact"])
    assert model.config["arch"] == arch


def test_two_class_labels(small):
    lp = LP.model_copy(update={"vertical_label": "sign"})
    out = modeling(upstream(small["bars"], lp), lp=lp)
    assert "p_flat" not in out["predictions"]
    assert out["metrics"]["classes"] == ["down", "up"]


def test_bet_size_rule():
    np.testing.assert_allclose(bet_size(np.array([0.5]), 2), [0.0], atol=1e-12)
    assert bet_size(np.array([0.9]), 2)[0] > bet_size(np.array([0.6]), 2)[0] > 0
    assert bet_size(np.array([0.2]), 2)[0] < 0  # below 1/n: against the side
    from scipy.stats import norm

    p = 0.7
    assert bet_size(np.array([p]), 2)[0] == pytest.approx(
        2 * norm.cdf((p - 0.5) / np.sqrt(p * (1 - p))) - 1
    )


def test_classifier_metrics_against_hand_values():
    y = np.array([0, 1, 1, 0])
    p = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.5, 0.5]])
    m = classifier_metrics(y, p, 2)
    assert m["accuracy"] == 0.75  # argmax 0, 1, 0, 0 (ties pick class 0)
    assert m["brier"] == pytest.approx(np.mean([0.08, 0.18, 0.72, 0.5]))
    assert m["log_loss"] == pytest.approx(-np.mean(np.log([0.8, 0.7, 0.4, 0.5])))
    assert m["roc_auc"] == pytest.approx(0.75)  # 3 of 4 positive-negative pairs ordered


def test_small_training_set_falls_back_to_the_prior():
    bars = make_bars(days=2, seed=1)
    cv = MP.cv.model_copy(update={"train_bars": 60, "test_bars": 1000})
    out = modeling(upstream(bars), mp=MP.model_copy(update={"cv": cv}))
    assert out["folds"][0].get("fallback") == "prior"  # labels start after bar 50
    p = out["model_predictions"]
    first = p[p["fold"] == 0]
    assert (first["primary_p_up"] == first["prior_p_up"]).all()
    assert "fallback" not in out["folds"][1]  # later folds have data: every column
    # a feature still warming up in fold 1's training rows is no obstacle


def test_too_few_events_for_a_meta_model(tmp_path, small):
    mp = MP.model_copy(
        update={"meta": MP.meta.model_copy(update={"min_events": 100_000})}
    )
    out = modeling(small, mp=mp)
    assert (out["predictions"]["bet_source"] == "primary").all()
    assert out["predictions"]["meta_prob"].isna().all()
    assert out["meta"] == {"fitted": False, "min_events": 100_000}
    ds = SkopsDataset(filepath=str(tmp_path / "meta.skops"))
    ds.save(out["meta"])
    assert ds.load() == out["meta"]


def test_the_run_says_which_bet_size_it_used(small, result, caplog):
    caplog.set_level("INFO", logger="ethpredict.modeling.meta")
    fit_meta_model(
        small["bars"],
        result["x"],
        small["labels"],
        result["model_predictions"],
        result["folds"],
        MP,
        LP,
    )
    lines = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith("Bet size")
    ]
    assert len(lines) == 1
    used = result["metrics"]["bet_size"]["per_fold"]
    meta_folds = [f["fold"] for f in used if f["source"] == "meta"]
    assert (
        f"meta model in folds {meta_folds}" if meta_folds else "in every fold"
    ) in lines[0]
