"""``lr_monitor``: the learning rate of every parameter group, per epoch or per batch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mlrpy import ParameterError, t_clbk
from tests.callbacks.support import learner


def test_lr_monitor_per_epoch_and_history(iris_xy):
    X, y = iris_xy
    lr = learner([t_clbk("lr_step", step_size=1, gamma=0.5), "lr_monitor", "history"], epochs=3,
                 **{"opt.lr": 0.08}).fit(X, y)
    frame = lr.model.callbacks["lr_monitor"]
    assert list(frame) == ["epoch", "lr"]
    np.testing.assert_allclose(frame["lr"], [0.08, 0.04, 0.02])
    np.testing.assert_allclose(lr.model.callbacks["history"]["lr"], [0.08, 0.04, 0.02])


def test_lr_monitor_per_batch_follows_a_batch_schedule(iris_xy):
    X, y = iris_xy
    lr = learner([t_clbk("lr_one_cycle", max_lr=0.2), t_clbk("lr_monitor", per_batch=True)],
                 epochs=2).fit(X, y)
    frame = lr.model.callbacks["lr_monitor"]
    assert frame["global_step"].tolist() == list(range(1, 7)) and frame["step"].tolist() == [1, 2, 3] * 2
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=0.001)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=6)
    expected = []
    for _ in range(6):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(frame["lr"], expected)


def test_lr_monitor_param_groups():
    cb = t_clbk("lr_monitor").generate()
    net = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD([{"params": [net.weight], "lr": 0.1}, {"params": [net.bias], "lr": 0.01}])
    from mlrpy import ContextTorch

    cb.ctx = ContextTorch(optimizer=opt, epoch=1)
    cb.on_epoch_begin()
    assert pd.DataFrame(cb.state_dict()).to_dict("records") == [{"epoch": 1, "lr.0": 0.1, "lr.1": 0.01}]
    with pytest.raises(ParameterError, match=r"cb\.lr_monitor\.per_batch"):
        t_clbk("lr_monitor", per_batch="often")
