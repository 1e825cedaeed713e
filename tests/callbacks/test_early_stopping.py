"""Early stopping: the ``early_stopping`` callback and the learner's ``patience`` parameters."""

from __future__ import annotations

import math

import pytest
import torch

from mlrpy import CallbackSet, lrn, t_clbk, torch_callback, tsk
from mlrpy.callbacks import CallbackSetEarlyStopping, mlr_callbacks
from mlrpy.errors import CallbackStageError, ParameterError


@pytest.fixture(scope="module")
def iris():
    return tsk("iris")


def scripted(values, key="loss"):
    """A callback that replaces validation score ``key`` by the next of ``values``."""

    @torch_callback("scripted")
    class CallbackSetScripted(CallbackSet):
        def __init__(self):
            self.i = 0

        def on_valid_end(self):
            self.ctx.last_scores_valid[key] = values[self.i]
            self.i += 1

    return CallbackSetScripted


def learner(**kw):
    defaults = dict(epochs=30, random_state=0, neurons=(4,), batch_size=50, validate=0.3)
    return lrn("classif.mlp", **{**defaults, **kw})


def test_registered_with_weight_and_params():
    tc = t_clbk("early_stopping")
    assert "early_stopping" in mlr_callbacks
    assert tc.generator is CallbackSetEarlyStopping
    assert tc.effective_weight == 1000
    assert tc.get_values() == {
        "patience": 1, "min_delta": 0.0, "restore_best_weights": False, "monitor": None, "mode": "auto",
    }
    with pytest.raises(ParameterError, match="cb.early_stopping.patience"):
        t_clbk("early_stopping", patience=0)
    with pytest.raises(ParameterError, match="min_delta"):
        t_clbk("early_stopping", min_delta=-1.0)


def test_stops_on_scripted_loss_sequence(iris):
    # best 5 -> 4 (epoch 2) -> 4.5 -> 3 (epoch 4) -> 3.1 -> 3.2: two without improvement
    seq = [5.0, 4.0, 4.5, 3.0, 3.1, 3.2, 1.0, 0.5]
    lr = learner(patience=2, callbacks=[scripted(seq)]).train(iris)
    assert lr.model.epochs == 6
    assert lr.internal_tuned_values == {"epochs": 4}
    state = lr.model.callbacks["early_stopping"]
    assert state["best_epoch"] == 4
    assert state["best_score"] == 3.0
    assert state["stagnation"] == 2
    assert state["monitor"] == "loss" and state["minimize"] is True


def test_constant_loss_stops_after_patience_plus_one_evaluations(iris):
    # a learning rate too small to improve the loss by min_delta
    for patience in (1, 3):
        lr = learner(patience=patience, min_delta=0.01, **{"opt.lr": 1e-7}).train(iris)
        assert lr.model.epochs == patience + 1
        assert lr.internal_tuned_values == {"epochs": 1}


def test_counts_evaluations_not_epochs(iris):
    lr = learner(patience=2, eval_freq=3, min_delta=0.01, **{"opt.lr": 1e-7}).train(iris)
    assert lr.model.epochs == 9  # evaluations at epochs 3, 6, 9
    assert lr.internal_tuned_values == {"epochs": 3}


def test_min_delta(iris):
    seq = [1.0, 0.95, 0.9, 0.85, 0.8, 0.0]
    lr = learner(epochs=6, patience=2, callbacks=[scripted(seq)]).train(iris)
    assert lr.model.epochs == 6  # every step improves
    assert lr.internal_tuned_values == {"epochs": 6}
    lr = learner(patience=2, min_delta=0.1, callbacks=[scripted(seq)]).train(iris)
    assert lr.model.epochs == 3
    assert lr.internal_tuned_values == {"epochs": 1}


def test_maximised_measure_is_default_monitor(iris):
    seq = [0.5, 0.7, 0.6, 0.65, 0.9]
    lr = learner(
        patience=2, measures_valid=["classif.acc", "classif.ce"],
        callbacks=[scripted(seq, key="classif.acc")],
    ).train(iris)
    assert lr.model.epochs == 4
    state = lr.model.callbacks["early_stopping"]
    assert state["monitor"] == "classif.acc" and state["minimize"] is False
    assert state["best_epoch"] == 2 and state["best_score"] == 0.7


def test_explicit_callback_with_monitor(iris):
    seq = [3.0, 2.0, 2.5, 2.6, 1.0]
    es = t_clbk("early_stopping", patience=2, monitor="loss")
    lr = learner(measures_valid=["classif.acc"], callbacks=[scripted(seq), es]).train(iris)
    assert lr.model.epochs == 4
    assert lr.internal_tuned_values == {"epochs": 2}


def test_unknown_monitor(iris):
    es = t_clbk("early_stopping", monitor="classif.auc")
    with pytest.raises(CallbackStageError, match="monitor='classif.auc'.*'loss'") as info:
        learner(epochs=2, callbacks=[es]).train(iris)
    assert isinstance(info.value.original, ParameterError)


def test_nan_score_is_no_improvement(iris):
    seq = [1.0, math.nan, math.nan, 0.1]
    lr = learner(patience=2, callbacks=[scripted(seq)]).train(iris)
    assert lr.model.epochs == 3
    assert lr.internal_tuned_values == {"epochs": 1}


class _Snapshots(CallbackSet):
    def __init__(self):
        self.weights = {}

    def on_epoch_end(self):
        self.weights[self.ctx.epoch] = {
            k: v.detach().clone() for k, v in self.ctx.network.state_dict().items()
        }

    def state_dict(self):
        return self.weights

    def load_state_dict(self, state):
        self.weights = state


@pytest.mark.parametrize("restore", [True, False])
def test_restore_best_weights(iris, restore):
    snapshots = torch_callback("snapshots")(_Snapshots)
    seq = [5.0, 4.0, 4.5, 4.6, 1.0]
    lr = learner(
        patience=2, restore_best_weights=restore, callbacks=[scripted(seq), snapshots],
        **{"opt.lr": 0.05},
    ).train(iris)
    assert lr.model.epochs == 4
    weights = lr.model.callbacks["snapshots"]
    expected = weights[2] if restore else weights[4]
    other = weights[4] if restore else weights[2]
    final = lr.model.network.state_dict()
    assert all(torch.equal(final[k], expected[k]) for k in final)
    assert not all(torch.equal(final[k], other[k]) for k in final)
    assert "best_weights" not in lr.model.callbacks["early_stopping"]
    if restore:
        assert lr.internal_valid_scores["loss"] == 4.0
    else:
        assert lr.internal_valid_scores["loss"] == 4.6


def test_no_early_stopping_gives_no_internal_tuned_values(iris):
    assert learner(epochs=2).train(iris).internal_tuned_values is None


def test_patience_without_validation(iris):
    lr = learner(patience=2, validate=None)
    with pytest.raises(ParameterError, match=r"patience=2.*validate=None"):
        lr.train(iris)
    X, y = iris.data(cols=iris.feature_names), iris.truth()
    with pytest.raises(ParameterError, match="needs validation data"):
        lr.fit(X, y)
    # validation_data switches it on
    lr.fit(X, y, validation_data=(X[:30], y[:30]))
    assert lr.internal_tuned_values is not None


def test_explicit_callback_without_validation(iris):
    with pytest.raises(ParameterError, match="callback 'early_stopping'.*validation"):
        learner(validate=None, callbacks=["early_stopping"]).train(iris)


def test_patience_and_explicit_callback_is_duplicate(iris):
    with pytest.raises(ParameterError, match="already does early stopping"):
        learner(patience=2, callbacks=[t_clbk("early_stopping")]).train(iris)


def test_learner_param_validation(iris):
    with pytest.raises(ParameterError, match="patience"):
        learner(patience=-1).train(iris)
    with pytest.raises(ParameterError, match="min_delta"):
        learner(patience=1, min_delta=-0.5).train(iris)


@pytest.mark.parametrize("restore", [True, False])
def test_resuming_a_run_early_stopping_ended_trains_no_further_epoch(iris, tmp_path, restore):
    def make(epochs):
        seq = [5.0, 4.0, 4.5, 3.0, 3.1, 3.2, 1.0, 0.5]
        return learner(epochs=epochs, patience=2, restore_best_weights=restore, resume=True,
                       callbacks=[scripted(seq), t_clbk("checkpoint", path=str(tmp_path))])

    ended = make(epochs=30).train(iris)
    assert ended.model.epochs == 6
    trained: list[int] = []
    counter = torch_callback("counter", on_epoch_begin=lambda self: trained.append(self.ctx.epoch))
    resumed = make(epochs=30)
    resumed.callbacks = [*resumed.callbacks, counter]
    resumed.train(iris)
    assert trained == [] and resumed.model.epochs == 6
    assert resumed.model.callbacks["early_stopping"]["best_epoch"] == 4
    for name, tensor in ended.model.network.state_dict().items():
        assert torch.equal(resumed.model.network.state_dict()[name], tensor), name
