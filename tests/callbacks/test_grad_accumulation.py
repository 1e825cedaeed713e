"""``grad_accumulation``: k batches of b rows train the same weights as batches of k*b rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlrpy import ParameterError, lrn, t_clbk, torch_callback
from mlrpy.testing import simulate


def _fit(X, y, batch_size, callbacks=(), epochs=3, sample_weight=None, optimizer="adam", lr=0.02):
    # no dropout: the network must not depend on how the rows are batched
    learner = lrn("classif.mlp", epochs=epochs, batch_size=batch_size, shuffle=False, p=0.0, random_state=1,
                  device="cpu", callbacks=list(callbacks), optimizer=optimizer, **{"opt.lr": lr})
    return learner.fit(X, y, sample_weight=sample_weight)


def _assert_same_weights(a, b, rtol=1e-5, atol=1e-6):
    for (name, x), y in zip(a.model.network.state_dict().items(), b.model.network.state_dict().values()):
        torch.testing.assert_close(x, y, rtol=rtol, atol=atol, msg=name)


def _steps_taken(learner):
    return int(learner.model.optimizer["state"][0]["step"])


@pytest.mark.parametrize("rows", [150, 145])  # 145: the epoch's last batch holds 5 rows
def test_k_batches_of_b_rows_equal_batches_of_k_times_b_rows(iris_xy, rows):
    X, y = iris_xy[0][:rows], iris_xy[1][:rows]
    accumulated = _fit(X, y, 10, [t_clbk("grad_accumulation", steps=4)])
    _assert_same_weights(accumulated, _fit(X, y, 40))
    assert _steps_taken(accumulated) == 3 * 4  # 15 batches an epoch: groups of 4, 4, 4 and 3


def test_sample_weights_count_as_in_one_large_batch(iris_xy):
    X, y = iris_xy
    weight = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    accumulated = _fit(X, y, 10, [t_clbk("grad_accumulation", steps=3)], sample_weight=weight)
    _assert_same_weights(accumulated, _fit(X, y, 30, sample_weight=weight))


def test_clipping_acts_on_the_accumulated_gradient(iris_xy):
    X, y = iris_xy
    clip = t_clbk("gradient_clip", max_norm=0.05)
    accumulated = _fit(X, y, 10, [clip, t_clbk("grad_accumulation", steps=5)])
    _assert_same_weights(accumulated, _fit(X, y, 50, [clip]))


def test_later_callbacks_see_gradients_only_when_a_group_is_complete(iris_xy):
    X, y = iris_xy
    seen, losses = [], []

    def on_after_backward(self):
        seen.append(any(p.grad is not None for p in self.ctx.network.parameters()))

    def on_batch_end(self):
        losses.append(float(self.ctx.last_loss))

    probe = torch_callback("probe", on_after_backward=on_after_backward, on_batch_end=on_batch_end)
    _fit(X, y, 50, [t_clbk("grad_accumulation", steps=2), probe, "history"], epochs=2)
    assert seen == [False, True, True] * 2  # 3 batches an epoch: groups of 2 and 1
    assert all(0.3 < loss < 3 for loss in losses)  # each batch's own loss, not a share of it


def test_mixed_precision_without_a_scaler_composes(iris_xy):
    X, y = iris_xy
    callbacks = ["mixed_precision", t_clbk("grad_accumulation", steps=3)]
    accumulated = _fit(X, y, 10, callbacks, epochs=2, optimizer="sgd", lr=0.1)
    # bfloat16 rounds differently in batches of 10 and 30 rows; SGD keeps that difference small
    # (Adam would magnify it), while the weights themselves move by about 0.1
    one_batch = _fit(X, y, 30, ["mixed_precision"], epochs=2, optimizer="sgd", lr=0.1)
    _assert_same_weights(accumulated, one_batch, rtol=0, atol=3e-3)


def test_a_group_with_overflowing_gradients_is_dropped_like_the_scalers_step(iris_xy):
    X, y = iris_xy
    # the first scales overflow float16: the scaler halves the scale after each such batch
    scaler = t_clbk("mixed_precision", dtype="float16", grad_scaler=True, init_scale=2.0**40)
    accumulated = _fit(X, y, 10, [scaler, t_clbk("grad_accumulation", steps=3)], epochs=2)
    weights = accumulated.model.network.state_dict().values()
    assert all(bool(torch.isfinite(w).all()) for w in weights)
    assert 0 < _steps_taken(accumulated) < 2 * 5
    assert accumulated.model.callbacks["mixed_precision"]["scale"] < 2.0**40


def test_simulated_run_matches_one_batch_per_group():
    cb = simulate(t_clbk("grad_accumulation", steps=2), epochs=2, batches=3)
    assert isinstance(cb.ctx.optimizer, torch.optim.SGD)  # the wrapper is gone after the run
    # what simulate trains, with the batches of each group joined
    torch.manual_seed(0)
    network = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(network.parameters(), lr=0.01)
    x = [torch.linspace(-1, 1, 8).reshape(4, 2) + 4 * i for i in range(3)]
    for _ in range(2):
        for group in (x[:2], x[2:]):
            rows = torch.cat(group)
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(network(rows), rows.sum(1, keepdim=True)).backward()
            optimizer.step()
    for mine, theirs in zip(cb.ctx.network.parameters(), network.parameters()):
        torch.testing.assert_close(mine, theirs)


def test_steps_must_be_positive():
    with pytest.raises(ParameterError, match=r"cb\.grad_accumulation\.steps"):
        t_clbk("grad_accumulation", steps=0)
