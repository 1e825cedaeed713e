"""``lr_multiplicative``: multiply the learning rate by ``lr_lambda(epoch)`` every epoch
(``MultiplicativeLR``)."""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.lr_scheduler import CallbackSetLRScheduler, Factors
from mlrpy.callbacks.registry import mlr_callbacks

EXAMPLE = 't_clbk("lr_multiplicative", lr_lambda=lambda epoch: 0.95)'


class CallbackSetLRMultiplicative(CallbackSetLRScheduler):
    """Multiplicative decay: ``torch.optim.lr_scheduler.MultiplicativeLR``, stepped after
    every epoch.

    After epoch ``e`` the learning rate is multiplied by ``lr_lambda(e)``. Use a
    module-level function (not a lambda) if the learner must be pickled.

    The learning rate used in each epoch goes into ``history`` as column ``lr``.
    State: the scheduler's ``state_dict()``.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> cb = t_clbk("lr_multiplicative", lr_lambda=lambda epoch: 0.5)
        >>> learner = lrn("classif.mlp", epochs=3, random_state=0, callbacks=[cb, "history"],
        ...               **{"opt.lr": 0.1})
        >>> learner.train(tsk("iris")).model.callbacks["history"]["lr"].tolist()
        [0.1, 0.05, 0.025]
    """

    scheduler_class = torch.optim.lr_scheduler.MultiplicativeLR

    def __init__(
        self,
        lr_lambda: Annotated[
            Factors, Field(description="epoch count -> factor applied after that epoch; or one per group")
        ],
    ) -> None:
        super().__init__(lr_lambda=lr_lambda)


lr_multiplicative = TorchCallback(
    "lr_multiplicative",
    CallbackSetLRMultiplicative,
    label="Multiplicative Decay",
    man=man_with_example(CallbackSetLRMultiplicative, EXAMPLE),
)
mlr_callbacks.add(lr_multiplicative)
