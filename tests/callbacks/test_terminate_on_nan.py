"""``terminate_on_nan``: training stops at the batch with a non-finite loss, without its
update."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from mlrpy import lrn, torch_callback
from tests.callbacks.support import learner


class NaNAfter(torch.nn.Module):
    """Outputs NaN on its ``bad``-th training forward pass."""

    def __init__(self, n_features: int, n_outputs: int, bad: int = 5):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_outputs)
        self.bad = bad
        self.calls = 0

    def forward(self, x):
        out = self.linear(x)
        if self.training:
            self.calls += 1
            if self.calls == self.bad:
                out = out * float("nan")
        return out


def test_terminates_at_the_batch_with_a_nan_loss(iris_xy):
    X, y = iris_xy
    snaps = []

    def on_batch_end(self):
        snaps.append(self.ctx.network.linear.weight.detach().clone())

    probe = torch_callback("snap", weight=5, on_batch_end=on_batch_end)
    lr = lrn("classif.module", module=NaNAfter, epochs=5, batch_size=50, random_state=0,
             callbacks=["terminate_on_nan", probe], **{"module.bad": 5})
    with pytest.warns(RuntimeWarning, match=r"nan at epoch 2, batch 2"):
        lr.fit(X, y)
    assert lr.model.epochs == 2  # the epoch in which the loss was NaN is the last
    assert len(snaps) == 5  # 3 batches of epoch 1, then batches 1 and 2 (NaN) of epoch 2
    state = lr.model.callbacks["terminate_on_nan"]
    assert (state["epoch"], state["batch"]) == (2, 2) and np.isnan(state["loss"])
    # no update from the NaN batch: the weights stay those after batch 4 and are finite
    assert torch.isfinite(lr.model.network.linear.weight).all()
    assert torch.equal(snaps[-1], snaps[3]) and torch.equal(snaps[4], snaps[3])
    assert not torch.equal(snaps[3], snaps[2])


def test_finite_losses_train_all_epochs(iris_xy):
    X, y = iris_xy
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lr = learner(["terminate_on_nan"], epochs=2).fit(X, y)
    assert lr.model.epochs == 2
    assert lr.model.callbacks["terminate_on_nan"] == {"epoch": None, "batch": None, "loss": None}
