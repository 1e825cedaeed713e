"""Divergence is not silent: ``on_nonfinite`` and ``DivergenceError``."""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_diabetes

from mlrpy import DivergenceError, lrn, torch_callback, tsk
from mlrpy.callbacks.context import ContextTorch
from mlrpy.learners import loop
from mlrpy.learners.loop import DivergenceGuard

N_ROWS, BATCH_SIZE = 40, 10
BATCHES = N_ROWS // BATCH_SIZE


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_ROWS, 3)).astype(np.float32)
    return X, X @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=N_ROWS)


def exploding_module(switch: dict[str, Any]) -> type[torch.nn.Module]:
    """A linear model whose training forward returns inf from the ``switch["at"]``-th training
    forward on (``None``: never); the switch lives outside the instance, so copies share it."""

    class Net(torch.nn.Module):
        def __init__(self, n_features: int, n_outputs: int) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(n_features, n_outputs)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.linear(x)
            if self.training and switch["at"] is not None:
                switch["calls"] += 1
                if switch["calls"] >= switch["at"]:
                    out = out * float("inf")
            return out

    return Net


def explodes_at(epoch: int, batch: int) -> dict[str, Any]:
    return {"at": (epoch - 1) * BATCHES + batch, "calls": 0}


def weight_log() -> tuple[Any, list[dict[str, torch.Tensor]]]:
    """A callback copying the weights at the start of every training batch, i.e. before that
    batch's optimizer step."""
    log: list[dict[str, torch.Tensor]] = []

    def on_batch_begin(self: Any) -> None:
        log.append({k: v.clone() for k, v in self.ctx.network.state_dict().items()})

    return torch_callback("weight_log", on_batch_begin=on_batch_begin), log


def weights(learner: Any) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in learner.model.network.state_dict().items()}


def all_finite(state: dict[str, torch.Tensor]) -> bool:
    return all(bool(torch.isfinite(v).all()) for v in state.values())


def assert_equal_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def regr_module(switch: dict[str, Any], **params: Any) -> Any:
    # the CPU checks every batch; an accelerator per epoch (tested below on its own)
    params = {"epochs": 4, "batch_size": BATCH_SIZE, "random_state": 0, "shuffle": False,
              "optimizer": "sgd", "device": "cpu", **params}
    return lrn("regr.module", module=exploding_module(switch), **params)


# -- "raise" (the default) -----------------------------------------------------------------


@pytest.mark.parametrize(("epoch", "batch"), [(1, 1), (2, 1), (2, 3), (3, BATCHES)])
def test_a_loss_going_to_inf_raises_naming_epoch_and_batch(epoch, batch):
    learner = regr_module(explodes_at(epoch, batch))
    with pytest.raises(DivergenceError, match=rf"at epoch {epoch}, batch {batch}\b"):
        learner.fit(*data())
    assert not hasattr(learner, "model_")


def test_divergence_error_is_a_floating_point_error_with_advice():
    with pytest.raises(FloatingPointError, match="learning rate.*on_nonfinite='warn'"):
        regr_module(explodes_at(2, 1)).fit(*data())


def test_a_huge_learning_rate_raises():
    X, y = load_diabetes(return_X_y=True)
    learner = lrn("regr.mlp", epochs=5, random_state=0, optimizer="sgd", device="cpu",
                  **{"opt.lr": 100.0})
    with pytest.raises(DivergenceError, match=r"at epoch \d+, batch \d+"):
        learner.fit(X, y)
    assert not hasattr(learner, "model_")


def test_divergence_keeps_the_previous_model():
    switch = {"at": None, "calls": 0}
    learner = regr_module(switch, callbacks=["history"]).fit(*data())
    model, before = learner.model, weights(learner)
    history = pd.DataFrame(learner.model.callbacks["history"])
    switch.update(explodes_at(2, 2))
    with pytest.raises(DivergenceError, match="epoch 2, batch 2"):
        learner.fit(*data(seed=1))
    assert learner.model is model
    assert_equal_weights(weights(learner), before)
    assert learner.model.epochs == 4
    assert pd.DataFrame(learner.model.callbacks["history"]).equals(history)


def test_divergence_under_warm_start_keeps_the_previous_model():
    switch = {"at": None, "calls": 0}
    learner = regr_module(switch, warm_start=True).fit(*data())
    model, before = learner.model, weights(learner)
    switch.update(explodes_at(1, 2))  # in the continuation's first epoch: epoch 5 overall
    with pytest.raises(DivergenceError, match="epoch 5, batch 2"):
        learner.fit(*data())
    assert learner.model is model and learner.model.epochs == 4
    assert_equal_weights(weights(learner), before)


def test_non_finite_weights_after_the_last_step_raise():
    """No later loss would show it: the end-of-epoch weight check does."""

    def poison(self: Any) -> None:
        if self.ctx.epoch == 2 and self.ctx.step == BATCHES:
            with torch.no_grad():
                next(self.ctx.network.parameters()).fill_(float("nan"))

    learner = regr_module({"at": None, "calls": 0}, epochs=2,
                          callbacks=[torch_callback("poison", on_batch_end=poison)])
    with pytest.raises(DivergenceError, match=f"weights became NaN or infinite at epoch 2, batch {BATCHES}"):
        learner.fit(*data())


# -- "warn" --------------------------------------------------------------------------------


@pytest.mark.parametrize(("epoch", "batch"), [(1, 2), (2, 1), (3, 4)])
def test_warn_stops_and_keeps_the_weights_from_before_the_offending_batch(epoch, batch):
    spy, log = weight_log()
    learner = regr_module(explodes_at(epoch, batch), on_nonfinite="warn", callbacks=[spy, "history"])
    with pytest.warns(RuntimeWarning, match=rf"epoch {epoch}, batch {batch}\b.*last finite weights"):
        learner.fit(*data())
    kept = weights(learner)
    assert all_finite(kept)
    assert len(log) == (epoch - 1) * BATCHES + batch  # no batch started after the bad one
    assert_equal_weights(kept, log[-1])
    assert learner.model.callbacks["history"]["epoch"].max() == epoch  # no further epoch
    assert np.isfinite(learner.predict(data()[0])).all()


def test_warn_after_a_huge_learning_rate_keeps_the_last_finite_weights():
    X, y = load_diabetes(return_X_y=True)
    spy, log = weight_log()
    learner = lrn("regr.mlp", epochs=5, random_state=0, optimizer="sgd", callbacks=[spy], device="cpu",
                  on_nonfinite="warn", **{"opt.lr": 100.0})
    with pytest.warns(RuntimeWarning, match="training diverged"):
        learner.fit(X, y)
    kept = weights(learner)
    assert all_finite(kept)
    last_finite = next(state for state in reversed(log) if all_finite(state))
    assert_equal_weights(kept, last_finite)


def test_warn_undoes_a_step_that_made_the_weights_non_finite():
    """A step leaving NaN weights shows in the next loss; the weights from before that step
    are restored."""

    def poison(self: Any) -> None:
        if self.ctx.epoch == 2 and self.ctx.step in (2, BATCHES):
            with torch.no_grad():
                next(self.ctx.network.parameters()).add_(float("nan"))

    spy, log = weight_log()
    learner = regr_module({"at": None, "calls": 0}, on_nonfinite="warn",
                          callbacks=[spy, torch_callback("poison", on_batch_end=poison)])
    with pytest.warns(RuntimeWarning, match="epoch 2, batch 3"):
        learner.fit(*data())
    assert len(log) == BATCHES + 3
    assert_equal_weights(weights(learner), log[BATCHES + 1])  # from before batch 2's step


def test_warn_undoes_a_last_step_that_made_the_weights_non_finite():
    def poison(self: Any) -> None:
        if self.ctx.epoch == 2 and self.ctx.step == BATCHES:
            with torch.no_grad():
                next(self.ctx.network.parameters()).fill_(float("inf"))

    spy, log = weight_log()
    learner = regr_module({"at": None, "calls": 0}, on_nonfinite="warn",
                          callbacks=[spy, torch_callback("poison", on_batch_end=poison)])
    with pytest.warns(RuntimeWarning, match=f"weights became NaN or infinite at epoch 2, batch {BATCHES}"):
        learner.fit(*data())
    assert len(log) == 2 * BATCHES  # stopped after epoch 2
    assert_equal_weights(weights(learner), log[-1])


def test_warn_with_training_measures_when_the_first_batch_diverges():
    learner = regr_module(explodes_at(2, 1), on_nonfinite="warn", measures_train="regr.mse",
                          callbacks=["history"])
    with pytest.warns(RuntimeWarning, match="epoch 2, batch 1"):
        learner.fit(*data())
    history = learner.model.callbacks["history"]
    assert history["epoch"].tolist() == [1, 2]
    assert np.isfinite(history["train.regr.mse"][0])


# -- "ignore" and prediction ---------------------------------------------------------------


def test_ignore_trains_on_silently_and_prediction_then_refuses():
    learner = regr_module(explodes_at(2, 1), on_nonfinite="ignore", callbacks=["history"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learner.fit(*data())
    assert learner.model.epochs == 4
    assert not all_finite(weights(learner))
    with pytest.raises(DivergenceError, match="NaN or infinite weights"):
        learner.predict(data()[0])


@pytest.mark.parametrize("how", ["predict", "predict_proba", "predict_task"])
def test_predicting_from_non_finite_weights_raises(how):
    task = tsk("iris")
    learner = lrn("classif.mlp", epochs=1, random_state=0, device="cpu").train(task)
    with torch.no_grad():
        learner.model.network[0].weight[0, 0] = float("inf")
    X = task.data(cols=task.feature_names)
    call = {"predict": lambda: learner.predict(X), "predict_proba": lambda: learner.predict_proba(X),
            "predict_task": lambda: learner.predict(task)}[how]
    with pytest.raises(DivergenceError, match="classif.mlp"):
        call()


# -- terminate_on_nan takes precedence -----------------------------------------------------


@pytest.mark.parametrize("policy", ["raise", "warn"])
def test_terminate_on_nan_keeps_its_documented_behaviour(policy):
    spy, log = weight_log()
    learner = regr_module(explodes_at(2, 2), on_nonfinite=policy,
                          callbacks=[spy, "terminate_on_nan", "history"])
    with pytest.warns(RuntimeWarning) as caught:
        learner.fit(*data())
    messages = [str(w.message) for w in caught]
    assert any("Callback 'terminate_on_nan'" in m and "epoch 2, batch 2" in m for m in messages)
    assert not any("training diverged" in m for m in messages)  # the guard stayed quiet
    assert learner.model.callbacks["terminate_on_nan"]["epoch"] == 2
    assert learner.model.callbacks["terminate_on_nan"]["batch"] == 2
    assert learner.model.epochs == 2  # stopped in epoch 2 ...
    assert len(log) == BATCHES + 2  # ... right after its NaN batch 2
    assert_equal_weights(weights(learner), log[BATCHES + 1])  # updates dropped from batch 2 on


# -- the accelerator branch, exercised on the CPU ------------------------------------------


def guard_context(policy: str) -> tuple[DivergenceGuard, ContextTorch]:
    torch.manual_seed(0)
    ctx = ContextTorch(network=torch.nn.Linear(3, 1), epoch=1)
    return DivergenceGuard(policy, ctx, per_batch=False), ctx


def step(ctx: ContextTorch, value: float = 0.5) -> None:
    with torch.no_grad():
        for p in ctx.network.parameters():  # type: ignore[union-attr]
            p.add_(value)


def test_accelerator_guard_defers_to_the_end_of_the_epoch():
    guard, _ = guard_context("raise")
    guard.epoch_begin()
    assert guard.diverged(torch.tensor(1.0)) is False
    assert guard.diverged(torch.tensor(float("nan"))) is False  # no per-batch sync
    assert guard.diverged(torch.tensor(2.0)) is False
    with pytest.raises(DivergenceError, match=r"in epoch 1\b"):
        guard.epoch_end()


def test_accelerator_guard_passes_finite_epochs():
    guard, ctx = guard_context("raise")
    for epoch in (1, 2):
        ctx.epoch = epoch
        guard.epoch_begin()
        for _ in range(3):
            assert guard.diverged(torch.tensor([1.0, 2.0])) is False
            step(ctx)
        guard.epoch_end()
    assert not ctx.terminate


def test_accelerator_guard_warn_rolls_back_to_the_start_of_the_epoch():
    guard, ctx = guard_context("warn")
    step(ctx)
    at_epoch_start = {k: v.clone() for k, v in ctx.network.state_dict().items()}  # type: ignore[union-attr]
    guard.epoch_begin()
    for loss in (1.0, float("inf"), 3.0):
        assert guard.diverged(torch.tensor(loss)) is False
        step(ctx, value=float("nan") if loss == 3.0 else 0.5)
    with pytest.warns(RuntimeWarning, match="epoch 1.*last finite weights"):
        guard.epoch_end()
    assert ctx.terminate
    assert_equal_weights(ctx.network.state_dict(), at_epoch_start)  # type: ignore[union-attr]


def test_accelerator_guard_catches_non_finite_weights_with_a_finite_loss():
    guard, ctx = guard_context("raise")
    guard.epoch_begin()
    guard.diverged(torch.tensor(1.0))
    step(ctx, value=float("inf"))
    with pytest.raises(DivergenceError, match=r"weights became NaN or infinite at epoch 1:"):
        guard.epoch_end()


def test_accelerator_guard_ignores_losses_once_terminate_is_set():
    guard, ctx = guard_context("raise")
    guard.epoch_begin()
    ctx.terminate = True
    guard.diverged(torch.tensor(float("nan")))
    guard.epoch_end()  # the callback that set terminate handles it


def test_accelerator_guard_ignore_policy_does_nothing():
    guard, ctx = guard_context("ignore")
    guard.epoch_begin()
    guard.diverged(torch.tensor(float("nan")))
    step(ctx, value=float("nan"))
    guard.epoch_end()
    assert not ctx.terminate


@pytest.fixture
def accelerator_guard(monkeypatch):
    """Every training run uses the accelerator branch of the guard."""
    monkeypatch.setattr(loop, "DivergenceGuard", functools.partial(DivergenceGuard, per_batch=False))


def test_accelerator_branch_in_a_run_raises_naming_the_epoch(accelerator_guard):
    with pytest.raises(DivergenceError, match=r"in epoch 2\b"):
        regr_module(explodes_at(2, 3)).fit(*data())


def test_accelerator_branch_in_a_run_warns_and_keeps_the_epoch_start_weights(accelerator_guard):
    spy, log = weight_log()
    learner = regr_module(explodes_at(3, 2), on_nonfinite="warn", callbacks=[spy, "history"])
    with pytest.warns(RuntimeWarning, match="epoch 3"):
        learner.fit(*data())
    assert len(log) == 3 * BATCHES  # the epoch ran to its end
    kept = weights(learner)
    assert all_finite(kept)
    assert_equal_weights(kept, log[2 * BATCHES])  # the start of epoch 3
    assert learner.model.callbacks["history"]["epoch"].tolist() == [1, 2, 3]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("policy", ["raise", "warn"])
def test_on_cuda_the_guard_acts_once_per_epoch(policy):
    spy, log = weight_log()
    learner = regr_module(explodes_at(2, 2), device="cuda", on_nonfinite=policy, callbacks=[spy])
    if policy == "raise":
        with pytest.raises(DivergenceError, match=r"in epoch 2\b"):
            learner.fit(*data())
        return
    with pytest.warns(RuntimeWarning, match="epoch 2"):
        learner.fit(*data())
    kept = {k: v.cpu() for k, v in weights(learner).items()}
    assert_equal_weights(kept, {k: v.cpu() for k, v in log[BATCHES].items()})  # the start of epoch 2


@pytest.mark.parametrize(
    ("fill", "where", "finite"),
    [
        (3e38, "weight", True),  # finite, though the sum of the weights overflows
        (-3e38, "weight", True),
        (float("nan"), "weight", False),
        (float("-inf"), "bias", False),
        (float("nan"), "running_mean", False),  # a buffer counts as a weight
    ],
)
def test_end_of_epoch_weight_check_is_exact(fill, where, finite):
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    with torch.no_grad():
        tensor = network[1].running_mean if where == "running_mean" else getattr(network[0], where)
        if finite:
            tensor.fill_(fill)
        else:
            tensor.view(-1)[-1] = fill  # one entry, the last
    guard = DivergenceGuard("raise", ContextTorch(network=network, epoch=1), per_batch=True)
    if finite:
        guard.epoch_end()
    else:
        with pytest.raises(DivergenceError, match="weights became NaN or infinite at epoch 1"):
            guard.epoch_end()
