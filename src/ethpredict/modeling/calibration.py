"""Post-hoc calibration of multi-class probabilities.

A calibrator is fitted on a model's predictions for a hold-out of the
training window (never the test window) and maps any probability vector to
a calibrated one that sums to 1:

* ``bias_temperature`` (the default): ``softmax(a · log p + b)`` with one
  temperature ``1/a`` and one bias per class, fitted by weighted maximum
  likelihood (Alexandari et al. 2020, "bias-corrected temperature scaling").
  The biases undo the prior shift that class weights cause; the temperature
  undoes over-confidence; K parameters in all. A hold-out of a few dozen
  events estimates class frequencies badly (a rare class may be absent, and
  a calibrator would then all but rule it out), so the fit is anchored to the
  training window's class prior: pseudo-events at the hold-out's mean
  log-probability, labelled by the prior, with ``prior_weight`` times the
  hold-out's total weight (a Dirichlet prior on the calibrated class
  frequencies). With no signal (``a → 0``) the output is then the training
  window's prior, not the hold-out's frequencies.
* ``platt``: per class a logistic regression of the class indicator on
  ``logit p_k``, then renormalised.
* ``isotonic``: per class an isotonic regression on ``p_k``, then
  renormalised (needs hundreds of events per class).
* ``none``: the identity.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax

METHODS = ("bias_temperature", "platt", "isotonic", "none")
#: A hold-out with fewer resolved events (or one class only) is not fitted on.
MIN_EVENTS = 20
_EPS = 1e-6


def _log(p: np.ndarray) -> np.ndarray:
    return np.log(np.clip(p, _EPS, 1.0))


def _renormalise(q: np.ndarray) -> np.ndarray:
    q = np.clip(q, _EPS, None)
    return q / q.sum(axis=1, keepdims=True)


class Calibrator:
    """Maps probability vectors ``(n, K)`` to calibrated ones (rows sum to 1).

    Args:
        method: One of :data:`METHODS`.
    """

    def __init__(self, method: str = "bias_temperature") -> None:
        if method not in METHODS:
            raise ValueError(f"calibration method {method!r}: one of {METHODS}")
        self.method = method

    def fit(
        self,
        p: np.ndarray,
        y: np.ndarray,
        w: np.ndarray | None = None,
        prior: np.ndarray | None = None,
        prior_weight: float = 0.0,
    ):
        """Fit on hold-out probabilities ``p`` and class indices ``y``
        (weights ``w``). Too few events or a single class: the identity
        (``fitted_`` False).

        Args:
            prior: Class frequencies of the training window
                (``bias_temperature`` only) that the fit is anchored to, with
                ``prior_weight`` × the hold-out's total weight.
        """
        n, k = p.shape
        w = np.ones(n) if w is None else np.asarray(w, float)
        self.n_classes_ = k
        self.fitted_ = bool(
            self.method != "none" and n >= MIN_EVENTS and len(np.unique(y)) >= 2
        )
        if not self.fitted_:
            return self
        if self.method == "bias_temperature":
            z = _log(p)
            if prior is not None and prior_weight > 0:
                # pseudo-events: one per class at the mean input, weight ∝ prior
                z = np.vstack([z, np.tile(np.average(z, axis=0, weights=w), (k, 1))])
                w = np.r_[w, prior_weight * w.sum() * np.asarray(prior, float)]
                y = np.r_[y, np.arange(k)]
            self.a_, self.b_ = _fit_bias_temperature(z, y, w)
        elif self.method == "platt":
            from sklearn.linear_model import LogisticRegression

            self.coef_, self.intercept_ = np.zeros(k), np.zeros(k)
            z = _log(p) - np.log(np.clip(1 - p, _EPS, 1.0))
            for c in range(k):
                hit = (y == c).astype(int)
                if hit.min() == hit.max():  # class absent (or alone): its frequency
                    self.intercept_[c] = np.log(
                        max(hit.mean(), _EPS) / max(1 - hit.mean(), _EPS)
                    )
                    continue
                lr = LogisticRegression(C=1e4).fit(z[:, [c]], hit, sample_weight=w)
                self.coef_[c], self.intercept_[c] = lr.coef_[0, 0], lr.intercept_[0]
        else:
            from sklearn.isotonic import IsotonicRegression

            self.x_, self.y_ = [], []
            for c in range(k):
                iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
                iso.fit(p[:, c], (y == c).astype(float), sample_weight=w)
                self.x_.append(iso.X_thresholds_.tolist())
                self.y_.append(iso.y_thresholds_.tolist())
        return self

    @property
    def n_params(self) -> int:
        """Free parameters fitted (0 for the identity)."""
        if not getattr(self, "fitted_", False):
            return 0
        k = self.n_classes_
        return {"bias_temperature": k, "platt": 2 * k}.get(
            self.method, sum(len(x) for x in getattr(self, "x_", []))
        )

    def transform(self, p: np.ndarray) -> np.ndarray:
        """Calibrated probabilities; NaN rows stay NaN."""
        if not getattr(self, "fitted_", False):
            return p.copy()
        if self.method == "bias_temperature":
            return softmax(self.a_ * _log(p) + self.b_, axis=1)
        if self.method == "platt":
            z = _log(p) - np.log(np.clip(1 - p, _EPS, 1.0))
            q = 1.0 / (1.0 + np.exp(-(z * self.coef_ + self.intercept_)))
        else:
            q = np.column_stack(
                [
                    np.interp(p[:, c], self.x_[c], self.y_[c])
                    for c in range(self.n_classes_)
                ]
            )
        out = _renormalise(q)
        out[np.isnan(p).any(axis=1)] = np.nan
        return out

    def to_dict(self) -> dict:
        """Plain numbers and lists (saved beside the network's weights)."""
        d = {"method": self.method, "fitted": getattr(self, "fitted_", False)}
        if d["fitted"]:
            d["n_classes"] = self.n_classes_
            names = {
                "bias_temperature": ("a_", "b_"),
                "platt": ("coef_", "intercept_"),
                "isotonic": ("x_", "y_"),
            }[self.method]
            for name in names:
                v = getattr(self, name)
                d[name.rstrip("_")] = v.tolist() if isinstance(v, np.ndarray) else v
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Calibrator:
        """The calibrator :meth:`to_dict` described."""
        cal = cls(d["method"])
        cal.fitted_ = bool(d["fitted"])
        if cal.fitted_:
            cal.n_classes_ = int(d["n_classes"])
            for key, v in d.items():
                if key in ("a", "b", "coef", "intercept", "x", "y"):
                    arr = (
                        np.asarray(v, float) if key in ("b", "coef", "intercept") else v
                    )
                    setattr(cal, f"{key}_", arr)
        return cal


def beats_prior(
    q: np.ndarray, y: np.ndarray, w: np.ndarray, prior: np.ndarray, n_params: int
) -> tuple[bool, float]:
    """Whether calibrated hold-out probabilities ``q`` beat the constant
    ``prior`` on the hold-out by more than the Bayesian information
    criterion's price of the calibrator's ``n_params`` parameters
    (``½ · n_params · ln n`` nats; weights normalised to the ``n`` events).

    Returns:
        The verdict and the gain in nats per event (before the price).
    """
    n = len(y)
    if n < MIN_EVENTS:
        return False, 0.0
    wn = w * n / w.sum()
    gain = float(np.sum(wn * (_log(q[np.arange(n), y]) - _log(prior[y]))))
    return gain > 0.5 * n_params * np.log(n), gain / n


def _fit_bias_temperature(
    z: np.ndarray, y: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """``argmin_{a ≥ 0, b}`` of the weighted log-loss of ``softmax(a z + b)``
    (convex; ``b`` centred, since softmax ignores a common shift)."""
    n, k = z.shape
    onehot = np.eye(k)[y]
    wn = w / w.sum()

    def loss(theta):
        a, b = theta[0], theta[1:]
        s = a * z + b
        ls = log_softmax(s, axis=1)
        g = (np.exp(ls) - onehot) * wn[:, None]  # d loss / d s
        return -(wn * ls[np.arange(n), y]).sum(), np.r_[(g * z).sum(), g.sum(axis=0)]

    res = minimize(
        loss,
        np.r_[1.0, np.zeros(k)],
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 20.0)] + [(-20.0, 20.0)] * k,
    )
    b = res.x[1:] - res.x[1:].mean()
    return float(res.x[0]), b
