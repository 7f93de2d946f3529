"""Out-of-sample predictions of every model for every tested bar.

Imports torch and scikit-learn (through :mod:`.walk`): import it where a fit
happens, not at the top of a pipeline's nodes.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ethpredict.modeling.folds import walk_forward
from ethpredict.modeling.walk import MODELS, class_names, fit_walk_forward
from ethpredict.params import LabelsParams, ModelParams

log = logging.getLogger(__name__)


def walk_forward_predictions(
    model_input: pd.DataFrame,
    labels: pd.DataFrame,
    mp: ModelParams,
    lp: LabelsParams,
) -> tuple[pd.DataFrame, list[dict], dict]:
    """Walk-forward fit of the primary network and every baseline.

    Args:
        model_input: one feature row per bar.
        labels: the triple-barrier labels of the events.
        mp: the ``model`` namespace (folds, networks, calibration).
        lp: the ``labels`` namespace (its classes).

    Returns:
        ``model_predictions`` — per tested bar, ``fold``,
        ``<model>_p_<class>`` (calibrated) for every model and
        ``<model>_raw_p_<class>`` before calibration (not for the prior); the
        fold table (bounds, training/purged/embargoed/calibration counts, the
        stress periods a test window holds); the last fold's primary network
        (weights, scaler, config, calibrator).
    """
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
