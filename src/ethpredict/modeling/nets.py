"""PyTorch primary models: an MLP over the feature vector and small temporal
models (1-D convolution or GRU) over a window of bars.

Training is deterministic for a seed (seeded initialisation and batch order,
fixed thread count), sample-weighted, optionally class-balanced, and stops
early on a validation slice, restoring the best epoch's weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ethpredict.params import NetParams


class MLP(nn.Module):
    """Feature vector → class logits."""

    def __init__(
        self, n_features: int, n_classes: int, hidden: list[int], dropout: float
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class Temporal(nn.Module):
    """Window of bars ``(batch, window, features)`` → class logits, by two
    dilated causal 1-D convolutions or a GRU; the head sees the last step."""

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        arch: str,
        hidden: list[int],
        dropout: float,
    ):
        super().__init__()
        width = hidden[0]
        self.arch = arch
        if arch == "gru":
            self.rnn = nn.GRU(n_features, width, batch_first=True)
        else:
            self.conv = nn.Sequential(
                nn.Conv1d(n_features, width, 3, padding=2),
                nn.ReLU(),
                nn.Conv1d(width, width, 3, padding=4, dilation=2),
                nn.ReLU(),
            )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.arch == "gru":
            out, _ = self.rnn(x)
            last = out[:, -1]
        else:
            # left-padded convolutions: position -1 sees only the window's past
            last = self.conv(x.transpose(1, 2))[:, :, x.shape[1] - 1]
        return self.head(last)


def build_net(cfg: dict) -> nn.Module:
    """The network described by ``cfg`` (stored with saved weights)."""
    if cfg["arch"] == "mlp":
        return MLP(cfg["n_features"], cfg["n_classes"], cfg["hidden"], cfg["dropout"])
    return Temporal(
        cfg["n_features"], cfg["n_classes"], cfg["arch"], cfg["hidden"], cfg["dropout"]
    )


def windows(x: np.ndarray, rows: np.ndarray, window: int) -> np.ndarray:
    """The bars up to and including each row, as windows.

    Args:
        x: Scaled features, one row per bar (time on axis 0).
        rows: Bar positions of the windows' last bars.
        window: Bars per window.

    Returns:
        A contiguous ``(len(rows), window, features)`` array, oldest bar
        first; bars before the start of the data are zeros (the scaled
        mean).
    """
    padded = np.concatenate([np.zeros((window - 1, x.shape[1]), x.dtype), x])
    view = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)
    return np.ascontiguousarray(view[rows].transpose(0, 2, 1))


@dataclass
class Trained:
    """A fitted network and how it was fitted."""

    net: nn.Module
    cfg: dict
    epochs: int
    best_val_loss: float


def _inputs(x: np.ndarray, rows: np.ndarray, p: NetParams) -> torch.Tensor:
    arr = x[rows] if p.arch == "mlp" else windows(x, rows, p.window)
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))


def fit_net(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    train: np.ndarray,
    val: np.ndarray,
    n_classes: int,
    p: NetParams,
    seed: int,
    class_weight: np.ndarray,
    desc: str = "",
    progress: bool = True,
) -> Trained:
    """Fit on rows ``train`` of the scaled matrix ``x``; stop on ``val``.

    Args:
        x: Scaled features, one row per bar (float32), NaN already imputed.
        y: Class index per bar row (only ``train``/``val`` rows are read).
        w: Sample weight per bar row.
        train: Bar rows to fit on.
        val: Bar rows of the early-stopping loss (empty: loss 0).
        n_classes: Number of classes.
        p: The network's parameters.
        seed: Seeds torch's global generator and the batch order.
        class_weight: Loss weight per class (ones for no balancing).
        desc: The progress bar's label.
        progress: Show a progress bar.

    Returns:
        The network with the weights of its best validation loss, its
        config, the epochs run and that loss.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    cfg = {
        "arch": p.arch,
        "n_features": int(x.shape[1]),
        "n_classes": n_classes,
        "hidden": list(p.hidden),
        "dropout": p.dropout,
        "window": p.window,
    }
    net = build_net(cfg)
    opt = torch.optim.Adam(net.parameters(), lr=p.lr, weight_decay=p.weight_decay)
    cw = torch.tensor(class_weight, dtype=torch.float32)
    xt, yt = _inputs(x, train, p), torch.from_numpy(y[train].astype(np.int64))
    wt = torch.from_numpy(w[train].astype(np.float32))
    xv, yv = _inputs(x, val, p), torch.from_numpy(y[val].astype(np.int64))
    wv = torch.from_numpy(w[val].astype(np.float32))
    loss_fn = nn.CrossEntropyLoss(weight=cw, reduction="none")

    def weighted(logits, target, weight):
        per = loss_fn(logits, target) * weight
        return per.sum() / (weight * cw[target]).sum().clamp_min(1e-12)

    best, best_state, bad, epoch = np.inf, None, 0, 0
    bar = tqdm(
        total=p.max_epochs, desc=desc, leave=False, disable=None if progress else True
    )
    for epoch in range(1, p.max_epochs + 1):  # noqa: B007 - epoch is reported
        net.train()
        order = torch.randperm(len(train), generator=gen)
        for i in range(0, len(order), p.batch_size):
            b = order[i : i + p.batch_size]
            opt.zero_grad()
            weighted(net(xt[b]), yt[b], wt[b]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            v = float(weighted(net(xv), yv, wv)) if len(val) else 0.0
        bar.update(1)
        bar.set_postfix(val_loss=f"{v:.4f}")
        if v < best - 1e-6:
            best, bad = v, 0
            best_state = {k: t.clone() for k, t in net.state_dict().items()}
        else:
            bad += 1
            if bad >= p.patience:
                break
    bar.close()
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return Trained(net, cfg, epoch, float(best))


def predict_net(
    net: nn.Module, x: np.ndarray, rows: np.ndarray, cfg: dict
) -> np.ndarray:
    """Class probabilities for bar rows ``rows`` of the scaled matrix ``x``.

    Args:
        net: The fitted network.
        x: Scaled features, one row per bar.
        rows: Bar positions to predict.
        cfg: The network's config (:class:`Trained`'s ``cfg``).

    Returns:
        ``(len(rows), n_classes)`` probabilities (each row sums to 1).
    """
    p = NetParams(arch=cfg["arch"], window=cfg["window"], hidden=cfg["hidden"])
    out = []
    with torch.no_grad():
        for i in range(0, len(rows), 8192):
            out.append(
                torch.softmax(net(_inputs(x, rows[i : i + 8192], p)), dim=1).numpy()
            )
    return np.concatenate(out) if out else np.empty((0, cfg["n_classes"]))
