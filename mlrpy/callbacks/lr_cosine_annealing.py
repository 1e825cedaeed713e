"""``lr_cosine_annealing``: cosine annealing from the initial rate to ``eta_min`` over
``T_max`` epochs (``CosineAnnealingLR``)."""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.lr_scheduler import CallbackSetLRScheduler
from mlrpy.callbacks.registry import mlr_callbacks

EXAMPLE = 't_clbk("lr_cosine_annealing", T_max=50, eta_min=1e-5)'


class CallbackSetLRCosineAnnealing(CallbackSetLRScheduler):
    """Cosine annealing: ``torch.optim.lr_scheduler.CosineAnnealingLR``, stepped after
    every epoch.

    The rate falls from the optimizer's initial rate to ``eta_min`` along a half cosine
    over ``T_max`` epochs; after that it rises again (torch's behaviour).

    The learning rate used in each epoch goes into ``history`` as column ``lr``.
    State: the scheduler's ``state_dict()``.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> cb = t_clbk("lr_cosine_annealing", T_max=2)
        >>> learner = lrn("classif.mlp", epochs=3, random_state=0, callbacks=[cb, "history"],
        ...               **{"opt.lr": 0.1})
        >>> learner.train(tsk("iris")).model.callbacks["history"]["lr"].round(4).tolist()
        [0.1, 0.05, 0.0]
    """

    scheduler_class = torch.optim.lr_scheduler.CosineAnnealingLR

    def __init__(
        self,
        T_max: Annotated[int, Field(ge=1, description="epochs from the initial rate down to eta_min")],
        eta_min: Annotated[float, Field(ge=0, description="the minimum learning rate")] = 0.0,
    ) -> None:
        super().__init__(T_max=T_max, eta_min=eta_min)


lr_cosine_annealing = TorchCallback(
    "lr_cosine_annealing",
    CallbackSetLRCosineAnnealing,
    label="Cosine Annealing",
    man=man_with_example(CallbackSetLRCosineAnnealing, EXAMPLE),
)
mlr_callbacks.add(lr_cosine_annealing)
