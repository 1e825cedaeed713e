"""``ema``: validation and the final model use the exponential moving average of the weights."""

from __future__ import annotations

import pytest
import torch

from mlrpy import ParameterError, t_clbk, torch_callback
from tests.callbacks.support import learner


def test_final_weights_are_the_ema(iris_xy):
    X, y = iris_xy
    decay = 0.8
    manual: dict[str, torch.Tensor] = {}
    checks: list[bool] = []

    def on_batch_end(self):  # runs after ema (weight 0): the weights after this step
        for n, p in self.ctx.network.named_parameters():
            manual[n] = p.detach().clone() if n not in manual else decay * manual[n] + (1 - decay) * p.detach()

    def on_valid_end(self):  # validation sees the averaged weights
        checks.append(all(torch.allclose(p, manual[n], atol=1e-6)
                          for n, p in self.ctx.network.named_parameters()))

    probe = torch_callback("manual_ema", weight=5, on_batch_end=on_batch_end, on_valid_end=on_valid_end)
    lr = learner([t_clbk("ema", decay=decay), probe], epochs=3)
    lr.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    assert checks == [True, True, True]
    for n, p in lr.model.network.named_parameters():
        torch.testing.assert_close(p.detach(), manual[n], atol=1e-6, rtol=1e-5)
    state = lr.model.callbacks["ema"]
    assert state["updates"] == 6 and state["decay"] == decay
    torch.testing.assert_close(state["averages"]["0.weight"], manual["0.weight"], atol=1e-6, rtol=1e-5)


def test_training_weights_are_back_after_validation(iris_xy):
    X, y = iris_xy
    trained: list[torch.Tensor] = []
    after: list[torch.Tensor] = []

    def on_batch_end(self):
        trained.append(self.ctx.network[0].weight.detach().clone())

    def on_epoch_end(self):
        after.append(self.ctx.network[0].weight.detach().clone())

    probe = torch_callback("w", weight=5, on_batch_end=on_batch_end, on_epoch_end=on_epoch_end)
    lr = learner([t_clbk("ema", decay=0.9), probe], epochs=2)
    lr.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    assert torch.equal(after[0], trained[1]) and torch.equal(after[1], trained[3])
    assert not torch.equal(lr.model.network[0].weight, trained[3])  # but the final model is the EMA


@pytest.mark.parametrize("decay", [0, 1, 1.5, -0.1])
def test_ema_decay_bounds(decay):
    with pytest.raises(ParameterError, match=r"cb\.ema\.decay"):
        t_clbk("ema", decay=decay)
