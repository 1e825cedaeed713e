"""The shared LR-schedule base (warm start, restored state, optional history) and
``as_lr_scheduler``, which wraps any ``torch.optim.lr_scheduler`` class."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

import mlrpy
from mlrpy import ParameterError, lrn, t_clbk
from mlrpy.callbacks import as_lr_scheduler
from tests.callbacks.support import LR0, fit_lr, lr_probe, torch_lrs

S = torch.optim.lr_scheduler


def test_warm_start_continues_the_schedule(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, batch_size=50, random_state=0, warm_start=True,
                  callbacks=[t_clbk("lr_step", step_size=1, gamma=0.5), "history"], **{"opt.lr": LR0})
    learner.fit(X, y).fit(X, y)
    np.testing.assert_allclose(
        learner.model.callbacks["history"]["lr"], torch_lrs(S.StepLR, 4, step_size=1, gamma=0.5)
    )
    assert learner.model.callbacks["lr_step"]["last_epoch"] == 4


def test_load_state_dict_restores_the_scheduler_position(iris_xy):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=LR0)
    ref = S.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        opt.step()
        ref.step()
    cb = t_clbk("lr_step", step_size=1, gamma=0.5).generate()
    cb.load_state_dict(ref.state_dict())
    cb.ctx = mlrpy.ContextTorch(optimizer=torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=LR0))
    cb.on_begin()
    assert cb.scheduler.last_epoch == 3
    assert cb.state_dict() == ref.state_dict()


def test_no_history_no_problem(iris_xy):
    learner = fit_lr(iris_xy, [t_clbk("lr_step", step_size=1)], epochs=2)
    assert "lr_step" in learner.model.callbacks


def test_required_scheduler_parameter_missing(iris_xy):
    with pytest.raises(ParameterError, match=r"cb\.lr_step\.step_size"):
        fit_lr(iris_xy, ["lr_step"], epochs=1)


def test_dotted_parameters_on_learners():
    learner = lrn("classif.mlp", callbacks=[t_clbk("lr_step", step_size=3)])
    assert learner.get_params()["cb.lr_step.gamma"] == 0.1
    learner.set_params(**{"cb.lr_step.gamma": 0.5})
    assert learner.get_params()["cb.lr_step.gamma"] == 0.5
    with pytest.raises(ParameterError, match=r"cb\.lr_step\.gamma"):
        learner.set_params(**{"cb.lr_step.gamma": -1})


def test_as_lr_scheduler_infers_parameters_and_matches_torch(iris_xy):
    cb = as_lr_scheduler(S.ExponentialLR)
    assert cb.id == "lr_exponential"
    assert list(cb.param_set.model_fields) == ["gamma"]  # optimizer / last_epoch left out
    learner = fit_lr(iris_xy, [cb, "history"], epochs=3, **{"cb.lr_exponential.gamma": 0.8})
    np.testing.assert_allclose(learner.model.callbacks["history"]["lr"], torch_lrs(S.ExponentialLR, 3, gamma=0.8))


def test_as_lr_scheduler_per_batch_and_custom_id(iris_xy):
    cb = as_lr_scheduler(S.CyclicLR, step_on_epoch=False, id="cyclic")
    cb.set_values(base_lr=0.01, max_lr=0.1, step_size_up=2)
    probe, seen = lr_probe()
    fit_lr(iris_xy, [cb, probe], epochs=2)
    expected = torch_lrs(S.CyclicLR, 2, batches=3, per_batch=True, base_lr=0.01, max_lr=0.1, step_size_up=2)
    np.testing.assert_allclose(seen, expected)


def test_as_lr_scheduler_iterable_becomes_list(iris_xy):
    cb = as_lr_scheduler(S.MultiStepLR, id="multistep").set_values(milestones=(1, 3), gamma=0.5)
    assert cb.get_values()["milestones"] == [1, 3]
    learner = fit_lr(iris_xy, [cb, "history"], epochs=4)
    np.testing.assert_allclose(
        learner.model.callbacks["history"]["lr"], torch_lrs(S.MultiStepLR, 4, milestones=[1, 3], gamma=0.5)
    )


def test_as_lr_scheduler_plateau_steps_on_validation_scores(iris_xy):
    X, y = iris_xy
    cb = as_lr_scheduler(S.ReduceLROnPlateau, id="plateau").set_values(patience=0, factor=0.5, threshold=10.0)
    learner = lrn("classif.mlp", epochs=3, batch_size=50, random_state=0, callbacks=[cb, "history"],
                  **{"opt.lr": LR0})
    learner.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    # a 1000% improvement is never reached: the rate halves after every evaluation but the first
    np.testing.assert_allclose(learner.model.callbacks["history"]["lr"], [LR0, LR0 / 2, LR0 / 4])


def test_as_lr_scheduler_pickles_and_clones():
    cb = as_lr_scheduler(S.ExponentialLR).set_values(gamma=0.9)
    again = pickle.loads(pickle.dumps(cb))
    assert again.get_values() == {"gamma": 0.9} and again.generator is cb.generator
    assert cb.clone() == cb


def test_learner_with_generated_scheduler_pickles(iris_xy):
    learner = fit_lr(iris_xy, [as_lr_scheduler(S.ExponentialLR).set_values(gamma=0.9)], epochs=1)
    again = pickle.loads(pickle.dumps(learner))
    np.testing.assert_array_equal(again.predict(iris_xy[0]), learner.predict(iris_xy[0]))


def test_as_lr_scheduler_wrong_type_and_bad_class():
    cb = as_lr_scheduler(S.ExponentialLR)
    with pytest.raises(ParameterError, match=r"cb\.lr_exponential\.gamma"):
        cb.set_values(gamma="fast")
    with pytest.raises(ParameterError, match="optimizer"):
        as_lr_scheduler(torch.nn.Linear)
    with pytest.raises(ParameterError, match="step_on_epoch"):
        as_lr_scheduler(S.ExponentialLR, step_on_epoch="yes")
