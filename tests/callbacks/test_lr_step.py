"""``lr_step``: the rate in every epoch is ``StepLR``'s."""

from __future__ import annotations

import pytest
import torch

from mlrpy import ParameterError, t_clbk
from tests.callbacks.support import check_epoch_schedule_matches_torch

S = torch.optim.lr_scheduler


def test_epoch_schedule_matches_torch(iris_xy):
    check_epoch_schedule_matches_torch(iris_xy, "lr_step", {"step_size": 2, "gamma": 0.5}, S.StepLR)


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"step_size": 0}, "step_size"),
        ({"step_size": 2, "gamma": 0}, "gamma"),
        ({"step_size": "two"}, "step_size"),
        ({"step_size": 1.5}, "step_size"),
        ({"step_size": 2, "gamma": "half"}, "gamma"),
    ],
)
def test_bad_values_name_the_key(values, name):
    with pytest.raises(ParameterError, match=rf"cb\.lr_step\.{name}"):
        t_clbk("lr_step", **values)
