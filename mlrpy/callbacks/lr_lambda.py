"""``lr_lambda``: set the learning rate to ``initial lr * lr_lambda(epoch)`` (``LambdaLR``)."""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.lr_scheduler import CallbackSetLRScheduler, Factors
from mlrpy.callbacks.registry import mlr_callbacks

EXAMPLE = 't_clbk("lr_lambda", lr_lambda=lambda epoch: 1 / (1 + epoch))'


class CallbackSetLRLambda(CallbackSetLRScheduler):
    """Schedule by a function: ``torch.optim.lr_scheduler.LambdaLR``, stepped after every
    epoch.

    The learning rate of epoch ``e`` is the optimizer's initial rate times
    ``lr_lambda(e - 1)``. Use a module-level function (not a lambda) if the learner must
    be pickled.

    The learning rate used in each epoch goes into ``history`` as column ``lr``.
    State: the scheduler's ``state_dict()``.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> cb = t_clbk("lr_lambda", lr_lambda=lambda epoch: 1 / (1 + epoch))
        >>> learner = lrn("classif.mlp", epochs=3, random_state=0, callbacks=[cb, "history"],
        ...               **{"opt.lr": 0.1})
        >>> learner.train(tsk("iris")).model.callbacks["history"]["lr"].round(4).tolist()
        [0.1, 0.05, 0.0333]
    """

    scheduler_class = torch.optim.lr_scheduler.LambdaLR

    def __init__(
        self,
        lr_lambda: Annotated[
            Factors,
            Field(description="epoch count (0 first) -> factor of the initial rate; or one per group"),
        ],
    ) -> None:
        super().__init__(lr_lambda=lr_lambda)


lr_lambda = TorchCallback(
    "lr_lambda",
    CallbackSetLRLambda,
    label="Lambda Schedule",
    man=man_with_example(CallbackSetLRLambda, EXAMPLE),
)
mlr_callbacks.add(lr_lambda)
