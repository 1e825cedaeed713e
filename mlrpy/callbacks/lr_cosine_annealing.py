"""``lr_cosine_annealing``: cosine annealing from the initial rate to ``eta_min`` over
``T_max`` epochs (``CosineAnnealingLR``)."""

from __future__ import annotations

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import TorchCallback
from mlrpy.callbacks.lr_scheduler import CallbackSetLRScheduler
from mlrpy.params import ParamModel

EXAMPLE = 't_clbk("lr_cosine_annealing", T_max=50, eta_min=1e-5)'


class LRCosineAnnealingParams(ParamModel):
    T_max: int = Field(ge=1, description="epochs of one half cosine period")
    eta_min: float = Field(0.0, ge=0, description="minimum learning rate")


class CallbackSetLRCosineAnnealing(CallbackSetLRScheduler):
    """Cosine annealing: ``torch.optim.lr_scheduler.CosineAnnealingLR``, stepped after
    every epoch.

    Args:
        T_max: number of epochs from the initial learning rate down to ``eta_min`` (>= 1);
            after that the rate rises again (torch's behaviour).
        eta_min: the minimum learning rate (>= 0).

    The learning rate used in each epoch goes into ``history`` as column ``lr``.
    State: the scheduler's ``state_dict()``.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> cb = t_clbk("lr_cosine_annealing", T_max=2)
        >>> learner = lrn("classif.mlp", epochs=3, random_state=0, callbacks=[cb, "history"],
        ...               **{"opt.lr": 0.1})
        >>> [round(lr, 4) for lr in learner.train(tsk("iris")).model.callbacks["history"]["lr"]]
        [0.1, 0.05, 0.0]
    """

    scheduler_class = torch.optim.lr_scheduler.CosineAnnealingLR

    def __init__(self, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(T_max=T_max, eta_min=eta_min)


lr_cosine_annealing = TorchCallback(
    "lr_cosine_annealing",
    CallbackSetLRCosineAnnealing,
    param_set=LRCosineAnnealingParams,
    label="Cosine Annealing",
    man=man_with_example(CallbackSetLRCosineAnnealing, EXAMPLE),
)
