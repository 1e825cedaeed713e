"""``lr_cosine_annealing``: the rate in every epoch is ``CosineAnnealingLR``'s."""

from __future__ import annotations

import pytest
import torch

from mlrpy import ParameterError, t_clbk
from tests.callbacks.support import check_epoch_schedule_matches_torch

S = torch.optim.lr_scheduler


def test_epoch_schedule_matches_torch(iris_xy):
    check_epoch_schedule_matches_torch(iris_xy, "lr_cosine_annealing", {"T_max": 3, "eta_min": 0.01},
                                       S.CosineAnnealingLR)


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"T_max": 0}, "T_max"),
    ],
)
def test_bad_values_name_the_key(values, name):
    with pytest.raises(ParameterError, match=rf"cb\.lr_cosine_annealing\.{name}"):
        t_clbk("lr_cosine_annealing", **values)
