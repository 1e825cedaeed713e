"""Small problems that no linear model solves, for the tabular network families.

``categorical_xor`` is laid out as the learners' input tensor (numeric values, then level
codes; code 0 is the reserved "unknown" level), with the matching ``FeatureInfo``, so a
network can be built from the layout and trained by hand before any data path produces
categorical columns.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from mlrpy.learners.features import FeatureInfo

#: levels 1-4 of the categorical column; the label flips for levels 1 and 3
N_LEVELS = 4
INFO = FeatureInfo(numeric=["x", "noise"], categorical=["colour"], cardinalities=[N_LEVELS + 1])


def categorical_xor(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``y = (x > 0) XOR (colour in {1, 3})``; ``noise`` is irrelevant."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    noise = rng.normal(size=n)
    colour = rng.integers(1, N_LEVELS + 1, n)
    y = (x > 0) ^ np.isin(colour, [1, 3])
    X = np.column_stack([x, noise, colour]).astype(np.float32)
    return torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))


def linear_accuracy(X: torch.Tensor, y: torch.Tensor) -> float:
    """Training accuracy of a logistic regression on the numeric values and one-hot levels."""
    codes = X[:, -1].long().numpy()
    one_hot = np.eye(N_LEVELS + 1)[codes]
    features = np.column_stack([X[:, :-1].numpy(), one_hot])
    return float(LogisticRegression(max_iter=1000).fit(features, y.numpy()).score(features, y.numpy()))


def train_by_hand(
    net: torch.nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    loss_fn: torch.nn.Module,
    steps: int = 300,
    lr: float = 0.02,
) -> torch.nn.Module:
    """Full-batch Adam; returns the network in evaluation mode."""
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(net(X), y).backward()
        optimizer.step()
    return net.eval()


def accuracy(net: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((net(X).argmax(dim=1) == y).float().mean())


def numeric_xor(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two numeric features; the class is whether they have the same sign."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    return X, (X[:, 0] * X[:, 1] > 0).astype(np.int64)
