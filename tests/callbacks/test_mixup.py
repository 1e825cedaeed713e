"""``mixup``: mixed training inputs and losses; validation, evaluation and prediction untouched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mlrpy import CallbackStageError, ParameterError, lrn, t_clbk, torch_callback, tsk
from mlrpy.testing import simulate


def mixup_probes():
    """Record every training batch's inputs before mixup, and check after it that the inputs
    and the loss are the mixtures of the drawn ``lam`` and ``perm``."""
    checked: list[float] = []
    before: dict[str, torch.Tensor] = {}

    def keep_inputs(self):
        before["x"] = self.ctx.batch.x.clone()

    def check_mixture(self):
        ctx = self.ctx
        (mixer,) = [cb for cb in ctx.callbacks if cb.id == "mixup"]
        lam, perm, x, y = mixer.lam, mixer.perm, before["x"], ctx.batch.y
        assert 0 < lam < 1 and sorted(perm.tolist()) == list(range(len(x)))
        torch.testing.assert_close(ctx.batch.x, lam * x + (1 - lam) * x[perm])
        expected = lam * ctx.loss_fn(ctx.y_hat, y) + (1 - lam) * ctx.loss_fn(ctx.y_hat, y[perm])
        torch.testing.assert_close(ctx.loss, expected)
        checked.append(lam)

    first = torch_callback("before_mixup", weight=-10, on_batch_begin=keep_inputs)
    last = torch_callback("after_mixup", weight=10, on_after_loss=check_mixture)
    return [first, last], checked


@pytest.mark.parametrize("key", ["classif.mlp", "regr.mlp"])
def test_inputs_and_loss_are_the_mixtures(key):
    task = tsk("iris" if key == "classif.mlp" else "diabetes")
    probes, checked = mixup_probes()
    lrn(key, epochs=2, batch_size=64, random_state=0, callbacks=[t_clbk("mixup", alpha=1.0), *probes]).train(task)
    batches = -(-task.nrow // 64)
    assert len(checked) == 2 * batches and len(set(checked)) == len(checked)  # a fresh lambda per batch


def test_validation_and_evaluation_see_clean_inputs(iris_xy):
    X, y = iris_xy
    seen_valid = []

    def on_batch_valid_begin(self):
        seen_valid.append(self.ctx.batch.x.clone())

    probe = torch_callback("valid_probe", on_batch_valid_begin=on_batch_valid_begin)
    learner = lrn("classif.mlp", epochs=2, batch_size=50, random_state=0,
                  callbacks=[t_clbk("mixup", alpha=1.0), probe])
    learner.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    torch.testing.assert_close(torch.cat(seen_valid[-1:]), torch.as_tensor(X[100:]))
    # the last validation used the final weights on unmixed rows, as evaluate() does
    assert learner.model.internal_valid_scores["loss"] == pytest.approx(learner.evaluate(X[100:], y[100:])["loss"])


def test_runs_are_reproducible_and_differ_from_training_without_mixup(iris_xy):
    X, y = iris_xy

    def fit(callbacks):
        learner = lrn("classif.mlp", epochs=2, batch_size=50, random_state=3, callbacks=callbacks).fit(X, y)
        return learner.model.network.state_dict()

    a, b, plain = fit(["mixup"]), fit(["mixup"]), fit([])
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], plain[k]) for k in a)


def test_simulated_run_draws_one_lambda_per_batch():
    cb = simulate(t_clbk("mixup", alpha=0.5), epochs=2, batches=3)
    assert 0 < cb.lam < 1 and sorted(cb.perm.tolist()) == [0, 1, 2, 3]


def test_refuses_what_cannot_be_mixed(iris_xy):
    X, y = iris_xy
    with pytest.raises(ParameterError, match=r"cb\.mixup\.alpha"):
        t_clbk("mixup", alpha=0)
    learner = lrn("classif.mlp", epochs=1, callbacks=["mixup"])
    with pytest.raises(CallbackStageError, match="on_batch_begin") as info:
        learner.fit(X, y, sample_weight=np.linspace(1, 2, len(y)))
    assert "does not support sample weights" in str(info.value.__cause__)


def test_refuses_a_network_that_embeds_categorical_codes(iris_xy):
    X, y = iris_xy
    table = pd.DataFrame({"x": X[:, 0], "level": pd.Categorical(np.where(X[:, 1] > 0, "high", "low"))})
    with pytest.raises(CallbackStageError, match="on_begin") as info:
        lrn("classif.mlp", epochs=1, callbacks=["mixup"]).fit(table, y)
    assert "nn.Embedding" in str(info.value.__cause__)
