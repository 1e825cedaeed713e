"""A fit that fails changes nothing; a KeyboardInterrupt keeps what was trained so far."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import mlrpy
from mlrpy import CallbackSet, DataError, lrn, torch_callback, tsk
from mlrpy.errors import CallbackStageError

# -- a learner with a model worth protecting -----------------------------------------------


@torch_callback("counter")
class Counter(CallbackSet):
    """Counts finished batches in a dict it hands out and takes back by reference, as many
    user callbacks do; a failed continuation must not change the previous model's copy."""

    def __init__(self) -> None:
        self.state = {"batches": 0}

    def on_batch_end(self) -> None:
        self.state["batches"] += 1

    def state_dict(self) -> dict[str, int]:
        return self.state

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.state = state


def failing_at(stage: str, exc: BaseException | None = None, epoch: int = 1) -> Any:
    """A callback raising ``exc`` (a ``RuntimeError`` by default) at ``stage`` from ``epoch``
    on (``on_begin`` fires before the first epoch, so always)."""

    def fail(self: Any) -> None:
        if stage == "on_begin" or self.ctx.epoch >= epoch:
            raise exc if exc is not None else RuntimeError(f"boom in {stage}")

    return torch_callback("boom", **{stage: fail})


def first_data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(40, 3)).astype(np.float32), columns=["a", "b", "c"])
    return X, np.where(X["a"] > 0, "yes", "no")


def second_data(n_features: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Other width, no column names, other classes: a failed fit must not leak any of it."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, n_features)).astype(np.float32)
    return X, np.array([1, 2, 3] * 10)


def fitted_learner(**params: Any) -> Any:
    X, y = first_data()
    learner = lrn("classif.mlp", epochs=2, batch_size=8, random_state=0,
                  callbacks=["history", Counter], **params)
    return learner.fit(X, y)


def snapshot(learner: Any) -> dict[str, Any]:
    model = learner.model_
    return {
        "model": model,
        "weights": {k: v.clone() for k, v in model.network.state_dict().items()},
        "epochs": model.epochs,
        "callbacks": copy.deepcopy(model.callbacks),
        "optimizer": copy.deepcopy(model.optimizer),
        "interrupted": model.interrupted,
        "classes_": learner.classes_.copy(),
        "n_features_in_": learner.n_features_in_,
        "feature_names_in_": learner.feature_names_in_.copy(),
        "params": learner.get_params(deep=False),
    }


def assert_same_tensors(a: Any, b: Any) -> None:
    """Nested dicts/lists of tensors and plain values, compared exactly."""
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same_tensors(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_tensors(x, y)
    elif isinstance(a, np.ndarray):  # a column of a history-like state
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        assert a == b


def assert_unchanged(learner: Any, before: dict[str, Any]) -> None:
    model = learner.model_
    assert model is before["model"]
    assert_same_tensors(model.network.state_dict(), before["weights"])
    assert model.epochs == before["epochs"]
    assert model.interrupted == before["interrupted"]
    assert_same_tensors(model.callbacks, before["callbacks"])
    assert_same_tensors(model.optimizer, before["optimizer"])
    np.testing.assert_array_equal(learner.classes_, before["classes_"])
    assert learner.n_features_in_ == before["n_features_in_"]
    np.testing.assert_array_equal(learner.feature_names_in_, before["feature_names_in_"])
    check_is_fitted(learner)
    # and it still predicts on the first data's columns
    X, _ = first_data()
    assert set(learner.predict(X)) <= {"no", "yes"}


def assert_unfitted(learner: Any, attributes_before: set[str]) -> None:
    assert set(vars(learner)) == attributes_before
    with pytest.raises(NotFittedError):
        check_is_fitted(learner)
    with pytest.raises(NotFittedError):
        learner.model
    for name in ("model_", "n_features_in_", "feature_names_in_", "classes_"):
        assert not hasattr(learner, name)


# -- a callback error at every stage -------------------------------------------------------


@pytest.mark.parametrize("stage", mlrpy.STAGES)
def test_callback_error_at_any_stage_keeps_the_previous_model(stage):
    learner = fitted_learner()
    before = snapshot(learner)
    learner.set_params(callbacks=["history", Counter, failing_at(stage)])
    X, y = second_data()
    with pytest.raises(CallbackStageError, match=f"'boom' failed in stage '{stage}'"):
        learner.fit(X, y, validation_data=(X[:9], y[:9]))
    assert_unchanged(learner, before)


@pytest.mark.parametrize("stage", mlrpy.STAGES)
def test_callback_error_at_any_stage_keeps_the_previous_model_under_warm_start(stage):
    learner = fitted_learner(warm_start=True)
    before = snapshot(learner)
    # fails in the second epoch of the continuation, after some batches changed state
    learner.set_params(callbacks=["history", Counter, failing_at(stage, epoch=before["epochs"] + 2)])
    X, y = first_data()
    with pytest.raises(CallbackStageError, match=stage):
        learner.fit(X, y, validation_data=(X[:9], y[:9]))
    assert_unchanged(learner, before)
    # the continuation that then succeeds starts from the unchanged model
    learner.set_params(callbacks=["history", Counter])
    learner.fit(X, y)
    assert learner.model.epochs == before["epochs"] + 2
    assert learner.model.callbacks["history"]["epoch"].tolist() == [1, 2, 3, 4]
    assert learner.model.callbacks["counter"]["batches"] == 2 * before["callbacks"]["counter"]["batches"]


@pytest.mark.parametrize("stage", mlrpy.STAGES)
def test_callback_error_at_any_stage_leaves_an_unfitted_learner_unfitted(stage):
    learner = lrn("classif.mlp", epochs=2, batch_size=8, random_state=0, callbacks=[failing_at(stage)])
    attributes = set(vars(learner))
    params = learner.get_params(deep=False)
    X, y = second_data()
    with pytest.raises(CallbackStageError):
        learner.fit(X, y, validation_data=(X[:9], y[:9]))
    assert_unfitted(learner, attributes)
    assert learner.get_params(deep=False) == params


def test_failing_train_task_keeps_the_previous_model():
    learner = fitted_learner()
    before = snapshot(learner)
    learner.set_params(callbacks=[failing_at("on_epoch_end")])
    with pytest.raises(CallbackStageError):
        learner.train(tsk("iris"))
    assert_unchanged(learner, before)


# -- bad data found late -------------------------------------------------------------------


def test_unseen_validation_label_keeps_the_previous_model():
    learner = fitted_learner()
    before = snapshot(learner)
    X, y = second_data()
    with pytest.raises(DataError, match="not in the training data"):
        learner.fit(X, y, validation_data=(X[:4], np.array([1, 2, 3, 4])))
    assert_unchanged(learner, before)


def test_unseen_validation_label_leaves_an_unfitted_learner_unfitted():
    learner = lrn("classif.mlp", epochs=1)
    attributes = set(vars(learner))
    X, y = second_data()
    with pytest.raises(DataError, match=r"\[4\]"):
        learner.fit(X, y, validation_data=(X[:4], np.array([1, 2, 3, 4])))
    assert_unfitted(learner, attributes)


def test_validation_data_of_another_width_keeps_the_previous_model():
    learner = fitted_learner()
    before = snapshot(learner)
    X, y = second_data()
    with pytest.raises(DataError, match="features"):
        learner.fit(X, y, validation_data=(X[:4, :2], y[:4]))
    assert_unchanged(learner, before)


def test_warm_start_on_other_columns_keeps_the_previous_model():
    learner = fitted_learner(warm_start=True)
    before = snapshot(learner)
    X, _ = second_data(n_features=3)
    with pytest.raises(DataError):
        learner.fit(pd.DataFrame(X, columns=["a", "b", "zz"]), np.where(X[:, 0] > 0, "yes", "no"))
    assert_unchanged(learner, before)


# -- out of memory in the network's forward ------------------------------------------------


def oom_module(switch: dict[str, int]) -> type[torch.nn.Module]:
    """A module that raises CUDA's out-of-memory error from the ``switch["after"]``-th training
    forward on (the switch lives outside the instance, so a warm-start copy sees it too)."""

    class Net(torch.nn.Module):
        def __init__(self, n_features: int, n_outputs: int) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(n_features, n_outputs)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if self.training and switch["after"] >= 0:
                switch["calls"] += 1
                if switch["calls"] > switch["after"]:
                    raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")
            return self.linear(x)

    return Net


@pytest.mark.parametrize("warm_start", [False, True])
@pytest.mark.parametrize("after", [0, 3, 6])
def test_out_of_memory_in_forward_keeps_the_previous_model(warm_start, after):
    switch = {"after": -1, "calls": 0}
    X, y = first_data()
    learner = lrn("classif.module", module=oom_module(switch), epochs=2, batch_size=8, random_state=0,
                  callbacks=["history", Counter], warm_start=warm_start).fit(X, y)
    before = snapshot(learner)
    switch.update(after=after, calls=0)  # fails in epoch 1 or 2 of the next fit
    if not warm_start:
        X, y = second_data(n_features=4)
    with pytest.raises(RuntimeError, match="out of memory"):
        learner.fit(X, y)
    assert switch["calls"] == after + 1
    switch["after"] = -1
    assert learner.model_ is before["model"]
    assert_same_tensors(learner.model.network.state_dict(), before["weights"])
    assert_same_tensors(learner.model.callbacks, before["callbacks"])
    assert_same_tensors(learner.model.optimizer, before["optimizer"])
    assert learner.n_features_in_ == 3
    assert learner.feature_names_in_.tolist() == ["a", "b", "c"]
    assert learner.classes_.tolist() == ["no", "yes"]


def test_out_of_memory_leaves_an_unfitted_learner_unfitted():
    switch = {"after": 2, "calls": 0}
    learner = lrn("classif.module", module=oom_module(switch), epochs=2, batch_size=8)
    attributes = set(vars(learner))
    with pytest.raises(RuntimeError, match="out of memory"):
        learner.fit(*second_data())
    assert_unfitted(learner, attributes)


# -- KeyboardInterrupt ---------------------------------------------------------------------


def weights_at_batch_end() -> tuple[Any, dict[str, Any]]:
    """A callback copying the weights after every optimizer step (the last copy is what an
    interrupted model must hold)."""
    seen: dict[str, Any] = {}

    def on_batch_end(self: Any) -> None:
        seen["weights"] = {k: v.clone() for k, v in self.ctx.network.state_dict().items()}

    return torch_callback("weights_seen", on_batch_end=on_batch_end), seen


@pytest.mark.parametrize(
    ("stage", "completed"),
    [("on_epoch_begin", 2), ("on_batch_begin", 2), ("on_after_backward", 2), ("on_batch_end", 2),
     ("on_valid_end", 2), ("on_end", 5), ("on_begin", 0)],
)
def test_keyboard_interrupt_keeps_the_model_trained_so_far(stage, completed):
    X, y = first_data()
    spy, seen = weights_at_batch_end()
    learner = lrn("classif.mlp", epochs=5, batch_size=8, random_state=0,
                  callbacks=["history", Counter, spy, failing_at(stage, KeyboardInterrupt(), epoch=3)])
    with pytest.raises(KeyboardInterrupt):
        learner.fit(X, y, validation_data=(X[:9], y[:9]))
    model = learner.model
    assert model.interrupted is True
    assert model.epochs == completed
    if completed:
        assert model.callbacks["history"]["epoch"].tolist() == list(range(1, completed + 1))
        assert_same_tensors(model.network.state_dict(), seen["weights"])
    else:
        assert "history" not in model.callbacks or pd.DataFrame(model.callbacks["history"]).empty
    # every optimizer step that happened is counted (partial epochs included)
    batches_per_epoch = -(-len(X) // 8)
    steps = {"on_epoch_begin": 2 * batches_per_epoch, "on_batch_begin": 2 * batches_per_epoch,
             "on_after_backward": 2 * batches_per_epoch, "on_batch_end": 2 * batches_per_epoch + 1,
             "on_valid_end": 3 * batches_per_epoch, "on_end": 5 * batches_per_epoch, "on_begin": 0}
    assert model.callbacks["counter"]["batches"] == steps[stage]
    check_is_fitted(learner)
    assert learner.n_features_in_ == 3 and learner.classes_.tolist() == ["no", "yes"]
    learner.predict(X)


def test_keyboard_interrupt_under_warm_start_continues_the_epoch_count():
    X, y = first_data()
    learner = fitted_learner(warm_start=True)
    learner.set_params(epochs=4, callbacks=["history", Counter,
                                            failing_at("on_epoch_begin", KeyboardInterrupt(), epoch=5)])
    with pytest.raises(KeyboardInterrupt):
        learner.fit(X, y)
    assert learner.model.interrupted is True
    assert learner.model.epochs == 4
    assert learner.model.callbacks["history"]["epoch"].tolist() == [1, 2, 3, 4]


def test_keyboard_interrupt_before_training_starts_changes_nothing(monkeypatch):
    learner = fitted_learner()
    before = snapshot(learner)

    def interrupted(device: str) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("mlrpy.learners.fit.resolve_device", interrupted)
    with pytest.raises(KeyboardInterrupt):
        learner.fit(*second_data())
    assert_unchanged(learner, before)

    fresh = lrn("classif.mlp", epochs=1)
    attributes = set(vars(fresh))
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(*second_data())
    assert_unfitted(fresh, attributes)
