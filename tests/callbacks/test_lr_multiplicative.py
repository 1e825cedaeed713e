"""``lr_multiplicative``: the rate in every epoch is ``MultiplicativeLR``'s."""

from __future__ import annotations

import pytest
import torch

from mlrpy import ParameterError, t_clbk
from tests.callbacks.support import check_epoch_schedule_matches_torch

S = torch.optim.lr_scheduler


def test_epoch_schedule_matches_torch(iris_xy):
    check_epoch_schedule_matches_torch(iris_xy, "lr_multiplicative", {"lr_lambda": lambda e: 0.7},
                                       S.MultiplicativeLR)


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"lr_lambda": "0.9"}, "lr_lambda"),
    ],
)
def test_bad_values_name_the_key(values, name):
    with pytest.raises(ParameterError, match=rf"cb\.lr_multiplicative\.{name}"):
        t_clbk("lr_multiplicative", **values)
