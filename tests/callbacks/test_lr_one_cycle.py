"""``lr_one_cycle``: the rate in every batch is ``OneCycleLR``'s."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlrpy import ParameterError, t_clbk
from tests.callbacks.support import fit_lr, lr_probe, torch_lrs

S = torch.optim.lr_scheduler


def test_one_cycle_steps_per_batch_over_inferred_total(iris_xy):
    probe, seen = lr_probe()
    learner = fit_lr(iris_xy, [t_clbk("lr_one_cycle", max_lr=0.5), "history", probe], epochs=4)
    state = learner.model.callbacks["lr_one_cycle"]
    assert state["total_steps"] == 4 * 3  # epochs x batches per epoch
    expected = torch_lrs(S.OneCycleLR, 4, batches=3, per_batch=True, max_lr=0.5, total_steps=12)
    np.testing.assert_allclose(seen, expected, rtol=1e-12)
    np.testing.assert_allclose(learner.model.callbacks["history"]["lr"], expected[::3], rtol=1e-12)
    assert seen[0] == pytest.approx(0.5 / 25) and max(seen) > 0.45 and seen[-1] < 0.01


def test_one_cycle_explicit_total_steps(iris_xy):
    learner = fit_lr(iris_xy, [t_clbk("lr_one_cycle", max_lr=0.5, total_steps=20)], epochs=2)
    assert learner.model.callbacks["lr_one_cycle"]["total_steps"] == 20


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"max_lr": -0.1}, "max_lr"),
        ({"max_lr": 0.1, "pct_start": 1.0}, "pct_start"),
    ],
)
def test_bad_values_name_the_key(values, name):
    with pytest.raises(ParameterError, match=rf"cb\.lr_one_cycle\.{name}"):
        t_clbk("lr_one_cycle", **values)
