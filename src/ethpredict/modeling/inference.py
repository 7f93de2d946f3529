"""Load a saved primary model and predict with it."""

from __future__ import annotations

import numpy as np
import pandas as pd

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

    def predict_proba(self, features: pd.DataFrame) -> pd.DataFrame:
        """Class probabilities for every row of ``features`` (the columns the
        model was trained on, in any order; rows in time order, since the
        temporal models read the preceding bars)."""
        missing = [c for c in self.config["features"] if c not in features]
        if missing:
            raise ValueError(
                f"features lack columns the model was trained on: {missing}"
            )
        x = self.scaler.transform(
            features[self.config["features"]].to_numpy(np.float64)
        )
        p = predict_net(self.net, x, np.arange(len(x)), self.config)
        return pd.DataFrame(p, index=features.index,
                            columns=[f"p_{c}" for c in self.config["classes"]])  # fmt: skip
