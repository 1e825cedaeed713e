"""``lr_reduce_on_plateau``: the rate follows ``ReduceLROnPlateau`` on the watched validation
score, in that score's direction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlrpy import CallbackStageError, ParameterError, lrn, t_clbk
from tests.callbacks.support import LR0, fit_lr

S = torch.optim.lr_scheduler


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
        fit_lr(iris_xy, ["lr_reduce_on_plateau"], epochs=1)
    assert isinstance(info.value.__cause__, ParameterError)


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"factor": 1.0}, "factor"),
        ({"patience": -1}, "patience"),
        ({"mode": "up"}, "mode"),
    ],
)
def test_bad_values_name_the_key(values, name):
    with pytest.raises(ParameterError, match=rf"cb\.lr_reduce_on_plateau\.{name}"):
        t_clbk("lr_reduce_on_plateau", **values)
