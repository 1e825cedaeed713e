"""Learning-rate schedule callbacks: the rate in every epoch (or batch) is what torch's own
scheduler gives for the same settings, and it lands in ``history`` as column ``lr``."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

import mlrpy
from mlrpy import CallbackStageError, ParameterError, lrn, t_clbk, torch_callback
from mlrpy.callbacks import as_lr_scheduler

S = torch.optim.lr_scheduler
LR0 = 0.1


def torch_lrs(scheduler_class, epochs: int, batches: int = 1, per_batch: bool = False, **args) -> list[float]:
    """The learning rate at the start of every epoch (or batch) from torch's scheduler alone."""
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.Adam([p], lr=LR0)
    sched = scheduler_class(opt, **args)
    out = []
    for _ in range(epochs):
        for b in range(batches):
            if per_batch or b == 0:
                out.append(opt.param_groups[0]["lr"])
            opt.step()
            if per_batch:
                sched.step()
        if not per_batch:
            sched.step()
    return out


def lr_probe():
    """A callback recording the learning rate the optimizer has at the start of each batch."""
    seen: list[float] = []

    def on_batch_begin(self):
        seen.append(mlrpy.callbacks.lr_scheduler.unwrap_optimizer(self.ctx.optimizer).param_groups[0]["lr"])

    return torch_callback("lr_probe", on_batch_begin=on_batch_begin), seen


def fit(iris_xy, callbacks, epochs=4, batch_size=50, **kw):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=epochs, batch_size=batch_size, callbacks=callbacks,
                  random_state=0, device="cpu", **{"opt.lr": LR0}, **kw)
    return learner.fit(X, y)


@pytest.mark.parametrize(
    ("key", "args", "torch_class"),
    [
        ("lr_step", {"step_size": 2, "gamma": 0.5}, S.StepLR),
        ("lr_multiplicative", {"lr_lambda": lambda e: 0.7}, S.MultiplicativeLR),
        ("lr_lambda", {"lr_lambda": lambda e: 1.0 / (1 + e) ** 2}, S.LambdaLR),
        ("lr_cosine_annealing", {"T_max": 3, "eta_min": 0.01}, S.CosineAnnealingLR),
    ],
)
def test_epoch_schedules_match_torch(iris_xy, key, args, torch_class):
    probe, seen = lr_probe()
    learner = fit(iris_xy, [t_clbk(key, **args), "history", probe], epochs=5)
    expected = torch_lrs(torch_class, 5, **args)
    history = learner.model.callbacks["history"]
    np.testing.assert_allclose(history["lr"].to_numpy(), expected, rtol=1e-12)
    # the optimizer really used those rates: 3 batches per epoch, same rate within an epoch
    np.testing.assert_allclose(seen, np.repeat(expected, 3), rtol=1e-12)
    # the saved state is the scheduler's: 5 steps taken
    assert learner.model.callbacks[key]["last_epoch"] == 5


def test_one_cycle_steps_per_batch_over_inferred_total(iris_xy):
    probe, seen = lr_probe()
    learner = fit(iris_xy, [t_clbk("lr_one_cycle", max_lr=0.5), "history", probe], epochs=4)
    state = learner.model.callbacks["lr_one_cycle"]
    assert state["total_steps"] == 4 * 3  # epochs x batches per epoch
    expected = torch_lrs(S.OneCycleLR, 4, batches=3, per_batch=True, max_lr=0.5, total_steps=12)
    np.testing.assert_allclose(seen, expected, rtol=1e-12)
    np.testing.assert_allclose(learner.model.callbacks["history"]["lr"], expected[::3], rtol=1e-12)
    assert seen[0] == pytest.approx(0.5 / 25) and max(seen) > 0.45 and seen[-1] < 0.01


def test_one_cycle_explicit_total_steps(iris_xy):
    learner = fit(iris_xy, [t_clbk("lr_one_cycle", max_lr=0.5, total_steps=20)], epochs=2)
    assert learner.model.callbacks["lr_one_cycle"]["total_steps"] == 20


def test_reduce_on_plateau_follows_the_first_measure_and_its_direction(iris_xy):
    X, y = iris_xy
    cb = t_clbk("lr_reduce_on_plateau", patience=0, factor=0.5, threshold=0.2)
    learner = lrn("classif.mlp", epochs=5, batch_size=50, callbacks=[cb, "history"], random_state=0,
                  measures_valid=["classif.ce", "classif.acc"], **{"opt.lr": LR0})
    learner.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    state = learner.model.callbacks["lr_reduce_on_plateau"]
    assert state["mode"] == "min"  # classif.ce is minimized
    history = learner.model.callbacks["history"]
    # replay torch's scheduler on the same validation scores
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=LR0)
    sched = S.ReduceLROnPlateau(opt, mode="min", patience=0, factor=0.5, threshold=0.2)
    expected = []
    for score in history["valid.classif.ce"]:
        expected.append(opt.param_groups[0]["lr"])
        sched.step(score)
    np.testing.assert_allclose(history["lr"], expected)
    assert min(expected) < LR0  # the test exercises at least one reduction


def test_reduce_on_plateau_mode_max_for_accuracy_and_loss_without_measures(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, batch_size=50, random_state=0, measures_valid=["classif.acc"],
                  callbacks=["lr_reduce_on_plateau"])
    learner.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    assert learner.model.callbacks["lr_reduce_on_plateau"]["mode"] == "max"
    assert learner.model.callbacks["lr_reduce_on_plateau"]["best"] == learner.internal_valid_scores["classif.acc"]
    learner = lrn("classif.mlp", epochs=2, batch_size=50, random_state=0, callbacks=["lr_reduce_on_plateau"])
    learner.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    state = learner.model.callbacks["lr_reduce_on_plateau"]
    assert state["mode"] == "min"
    assert state["best"] <= learner.internal_valid_scores["loss"] + 1e-12


def test_reduce_on_plateau_explicit_mode_wins(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=1, batch_size=50, random_state=0, measures_valid=["classif.acc"],
                  callbacks=[t_clbk("lr_reduce_on_plateau", mode="min")])
    learner.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    assert learner.model.callbacks["lr_reduce_on_plateau"]["mode"] == "min"


def test_reduce_on_plateau_needs_validation_data(iris_xy):
    with pytest.raises(CallbackStageError, match="validation data") as info:
        fit(iris_xy, ["lr_reduce_on_plateau"], epochs=1)
    assert isinstance(info.value.__cause__, ParameterError)


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
    learner = fit(iris_xy, [t_clbk("lr_step", step_size=1)], epochs=2)
    assert "lr_step" in learner.model.callbacks


# -- as_lr_scheduler ----------------------------------------------------------------------------
def test_as_lr_scheduler_infers_parameters_and_matches_torch(iris_xy):
    cb = as_lr_scheduler(S.ExponentialLR)
    assert cb.id == "lr_exponential"
    assert list(cb.param_set.model_fields) == ["gamma"]  # optimizer / last_epoch left out
    learner = fit(iris_xy, [cb, "history"], epochs=3, **{"cb.lr_exponential.gamma": 0.8})
    np.testing.assert_allclose(learner.model.callbacks["history"]["lr"], torch_lrs(S.ExponentialLR, 3, gamma=0.8))


def test_as_lr_scheduler_per_batch_and_custom_id(iris_xy):
    cb = as_lr_scheduler(S.CyclicLR, step_on_epoch=False, id="cyclic")
    cb.set_values(base_lr=0.01, max_lr=0.1, step_size_up=2)
    probe, seen = lr_probe()
    fit(iris_xy, [cb, probe], epochs=2)
    expected = torch_lrs(S.CyclicLR, 2, batches=3, per_batch=True, base_lr=0.01, max_lr=0.1, step_size_up=2)
    np.testing.assert_allclose(seen, expected)


def test_as_lr_scheduler_iterable_becomes_list(iris_xy):
    cb = as_lr_scheduler(S.MultiStepLR, id="multistep").set_values(milestones=(1, 3), gamma=0.5)
    assert cb.get_values()["milestones"] == [1, 3]
    learner = fit(iris_xy, [cb, "history"], epochs=4)
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
    learner = fit(iris_xy, [as_lr_scheduler(S.ExponentialLR).set_values(gamma=0.9)], epochs=1)
    again = pickle.loads(pickle.dumps(learner))
    np.testing.assert_array_equal(again.predict(iris_xy[0]), learner.predict(iris_xy[0]))


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "values", "name"),
    [
        ("lr_step", {"step_size": 0}, "step_size"),
        ("lr_step", {"step_size": 2, "gamma": 0}, "gamma"),
        ("lr_cosine_annealing", {"T_max": 0}, "T_max"),
        ("lr_one_cycle", {"max_lr": -0.1}, "max_lr"),
        ("lr_one_cycle", {"max_lr": 0.1, "pct_start": 1.0}, "pct_start"),
        ("lr_reduce_on_plateau", {"factor": 1.0}, "factor"),
        ("lr_reduce_on_plateau", {"patience": -1}, "patience"),
        ("lr_reduce_on_plateau", {"mode": "up"}, "mode"),
    ],
)
def test_bounds_are_enforced(key, values, name):
    with pytest.raises(ParameterError, match=rf"cb\.{key}\.{name}"):
        t_clbk(key, **values)


@pytest.mark.parametrize(
    ("key", "values", "name"),
    [
        ("lr_step", {"step_size": "two"}, "step_size"),
        ("lr_step", {"step_size": 1.5}, "step_size"),
        ("lr_step", {"step_size": 2, "gamma": "half"}, "gamma"),
        ("lr_lambda", {"lr_lambda": 0.5}, "lr_lambda"),
        ("lr_multiplicative", {"lr_lambda": "0.9"}, "lr_lambda"),
    ],
)
def test_wrong_types_are_rejected(key, values, name):
    with pytest.raises(ParameterError, match=rf"cb\.{key}\.{name}"):
        t_clbk(key, **values)


def test_as_lr_scheduler_wrong_type_and_bad_class():
    cb = as_lr_scheduler(S.ExponentialLR)
    with pytest.raises(ParameterError, match=r"cb\.lr_exponential\.gamma"):
        cb.set_values(gamma="fast")
    with pytest.raises(ParameterError, match="optimizer"):
        as_lr_scheduler(torch.nn.Linear)
    with pytest.raises(ParameterError, match="step_on_epoch"):
        as_lr_scheduler(S.ExponentialLR, step_on_epoch="yes")


def test_required_scheduler_parameter_missing(iris_xy):
    with pytest.raises(ParameterError, match=r"cb\.lr_step\.step_size"):
        fit(iris_xy, ["lr_step"], epochs=1)


def test_dotted_parameters_on_learners():
    learner = lrn("classif.mlp", callbacks=[t_clbk("lr_step", step_size=3)])
    assert learner.get_params()["cb.lr_step.gamma"] == 0.1
    learner.set_params(**{"cb.lr_step.gamma": 0.5})
    assert learner.get_params()["cb.lr_step.gamma"] == 0.5
    with pytest.raises(ParameterError, match=r"cb\.lr_step\.gamma"):
        learner.set_params(**{"cb.lr_step.gamma": -1})
