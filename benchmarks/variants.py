"""The variants being compared: hand-written loops, mlrpy and skorch, on the same task.

Every variant seeds torch's global RNG with ``cfg.seed``, builds the same network class and
consumes the RNG in the same order (network init, then one ``randperm`` per epoch), so
mlrpy trains bit-identical weights to the hand-written loop that uses the same Adam kernel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

import mlrpy
from benchmarks.task import LR, MLP, N_CLASSES, N_FEATURES, PREDICT_CHUNK, Config, Data


def _raw_setup(
    data: Data, cfg: Config, fused: bool | None = None
) -> tuple[torch.Tensor, torch.Tensor, nn.Module, Any, nn.Module]:
    """Seed, data tensors, network, Adam and loss of the hand-written loops."""
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    x = torch.from_numpy(data.X).to(device)
    y = torch.from_numpy(data.y).to(device)
    net = MLP(N_FEATURES, N_CLASSES).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=LR, fused=fused)
    return x, y, net, optimizer, nn.CrossEntropyLoss()


def fit_raw(data: Data, batch_size: int, cfg: Config) -> nn.Module:
    """(a) The textbook loop over in-memory tensors; returns the trained network."""
    x, y, net, optimizer, loss_fn = _raw_setup(data, cfg)
    n = len(x)
    net.train()
    for _ in range(cfg.epochs):
        perm = torch.randperm(n, device=x.device)
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
    return net


def fit_raw_fused(data: Data, batch_size: int, cfg: Config) -> nn.Module:
    """(a') The fastest hand-written loop: ``index_select`` gathers and torch's fused Adam.

    It performs mlrpy's default computation exactly, so mlrpy / this loop is the
    framework's own overhead.
    """
    x, y, net, optimizer, loss_fn = _raw_setup(data, cfg, fused=True)
    n = len(x)
    net.train()
    for _ in range(cfg.epochs):
        perm = torch.randperm(n, device=x.device)
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(x.index_select(0, idx)), y.index_select(0, idx))
            loss.backward()
            optimizer.step()
    return net


def make_mlrpy(
    batch_size: int, cfg: Config, callbacks: Sequence[Any] | None = None, fused: bool | None = None
) -> Any:
    """The mlrpy learner of variant (b); ``fused=False`` selects torch's default Adam."""
    return mlrpy.lrn(
        "classif.module",
        module=MLP,
        epochs=cfg.epochs,
        batch_size=batch_size,
        random_state=cfg.seed,
        num_threads=1,
        device=cfg.device,
        callbacks=list(callbacks) if callbacks else None,
        **{"opt.lr": LR, "opt.fused": fused},
    )


def fit_mlrpy(
    data: Data,
    batch_size: int,
    cfg: Config,
    callbacks: Sequence[Any] | None = None,
    fused: bool | None = None,
) -> nn.Module:
    """(b) ``lrn("classif.module", ...).fit(X, y)``; returns the trained network."""
    learner = make_mlrpy(batch_size, cfg, callbacks, fused)
    learner.fit(data.X, data.y)
    return learner.model.network


def skorch_available() -> bool:
    try:
        import skorch  # noqa: F401
    except ImportError:
        return False
    return True


def fit_skorch(data: Data, batch_size: int, cfg: Config) -> nn.Module:
    """(c) skorch ``NeuralNetClassifier`` with the same network, optimizer and schedule."""
    from skorch import NeuralNetClassifier

    torch.manual_seed(cfg.seed)
    net = NeuralNetClassifier(
        MLP,
        module__n_features=N_FEATURES,
        module__n_outputs=N_CLASSES,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=LR,
        max_epochs=cfg.epochs,
        batch_size=batch_size,
        train_split=None,
        iterator_train__shuffle=True,
        device=cfg.device,
        verbose=0,
    )
    net.fit(data.X, data.y)
    return net.module_


FITS = {"raw": fit_raw, "raw_fused": fit_raw_fused, "mlrpy": fit_mlrpy, "skorch": fit_skorch}


def _noop(self: Any) -> None:
    """A stage that does nothing."""


def noop_callbacks(k: int) -> list[Any]:
    """``k`` callbacks, each implementing every training stage as a no-op."""
    stages: dict[str, Any] = dict.fromkeys(mlrpy.STAGES, _noop)
    return [mlrpy.torch_callback(f"noop_{i}", **stages) for i in range(k)]


def predict_raw(net: nn.Module, X: np.ndarray, device: str) -> np.ndarray:
    """(e) Class probabilities from a plain ``no_grad`` loop in chunks of 1024 rows."""
    x = torch.from_numpy(X).to(device)
    net.eval()
    with torch.no_grad():
        out = torch.cat([net(x[i : i + PREDICT_CHUNK]) for i in range(0, len(x), PREDICT_CHUNK)])
        return torch.softmax(out, dim=1).cpu().numpy()
