"""Load a saved primary model and predict with it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethpredict.modeling.calibration import Calibrator
from ethpredict.modeling.nets import build_net, predict_net
from ethpredict.modeling.walk import Scaler


class PrimaryModel:
    """The artefact saved in ``06_models/primary_model.pt`` (see
    :class:`~ethpredict.datasets.TorchModelDataset`), ready for inference."""

    def __init__(self, artefact: dict) -> None:
        self.config = artefact["config"]
        self.net = build_net(self.config)
        self.net.load_state_dict(artefact["state_dict"])
        self.net.eval()
        self.scaler = Scaler(
            artefact["scaler_mean"].numpy(), artefact["scaler_scale"].numpy()
        )
        # the fold's calibrator (absent in artefacts saved before calibration)
        cal = artefact.get("calibration", {"method": "none", "fitted": False})
        self.calibrator = Calibrator.from_dict(cal)
        #: the class prior, when the network did not beat it on its hold-out
        self.prior = np.asarray(cal["prior"]) if cal.get("prior_fallback") else None

    def predict_proba(self, features: pd.DataFrame) -> pd.DataFrame:
        """Calibrated class probabilities for every row of ``features`` (the
        columns the model was trained on, in any order; rows in time order,
        since the temporal models read the preceding bars) — the fold's class
        prior when the network did not beat it on its calibration hold-out."""
        missing = [c for c in self.config["features"] if c not in features]
        if missing:
            raise ValueError(
                f"features lack columns the model was trained on: {missing}"
            )
        x = self.scaler.transform(
            features[self.config["features"]].to_numpy(np.float64)
        )
        p = self.calibrator.transform(
            predict_net(self.net, x, np.arange(len(x)), self.config)
        )
        if self.prior is not None:
            p = np.tile(self.prior, (len(p), 1))
        return pd.DataFrame(
            p, index=features.index, columns=[f"p_{c}" for c in self.config["classes"]]
        )
