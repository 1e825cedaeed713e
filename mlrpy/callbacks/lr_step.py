"""``lr_step``: decay the learning rate by ``gamma`` every ``step_size`` epochs (``StepLR``)."""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.lr_scheduler import CallbackSetLRScheduler
from mlrpy.callbacks.registry import mlr_callbacks

EXAMPLE = 't_clbk("lr_step", step_size=10, gamma=0.5)'


class CallbackSetLRStep(CallbackSetLRScheduler):
    """Step decay: ``torch.optim.lr_scheduler.StepLR``, stepped after every epoch.

    The learning rate of epoch ``e`` is ``lr * gamma ** ((e - 1) // step_size)``.

    The learning rate used in each epoch goes into ``history`` as column ``lr``.
    State: the scheduler's ``state_dict()``.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> learner = lrn("classif.mlp", epochs=4, random_state=0, **{"opt.lr": 0.1},
        ...               callbacks=[t_clbk("lr_step", step_size=2, gamma=0.5), "history"])
        >>> learner.train(tsk("iris")).model.callbacks["history"]["lr"].tolist()
        [0.1, 0.1, 0.05, 0.05]
    """

    scheduler_class = torch.optim.lr_scheduler.StepLR

    def __init__(
        self,
        step_size: Annotated[int, Field(ge=1, description="epochs between two decays")],
        gamma: Annotated[float, Field(gt=0, description="multiplicative factor of each decay")] = 0.1,
    ) -> None:
        super().__init__(step_size=step_size, gamma=gamma)


lr_step = TorchCallback(
    "lr_step",
    CallbackSetLRStep,
    label="Step Decay",
    man=man_with_example(CallbackSetLRStep, EXAMPLE),
)
mlr_callbacks.add(lr_step)
