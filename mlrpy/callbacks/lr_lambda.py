"""``lr_lambda``: set the learning rate to ``initial lr * lr_lambda(epoch)`` (``LambdaLR``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import TorchCallback
from mlrpy.callbacks.lr_scheduler import CallbackSetLRScheduler
from mlrpy.params import ParamModel

EXAMPLE = 't_clbk("lr_lambda", lr_lambda=lambda epoch: 1 / (1 + epoch))'


class LRLambdaParams(ParamModel):
    lr_lambda: Callable[[int], float] | list[Callable[[int], float]] = Field(
        description="epoch -> factor of the initial learning rate (or one per parameter group)"
    )


class CallbackSetLRLambda(CallbackSetLRScheduler):
    """Schedule by a function: ``torch.optim.lr_scheduler.LambdaLR``, stepped after every
    epoch.

    The learning rate of epoch ``e`` is the optimizer's initial rate times
    ``lr_lambda(e - 1)``.

    Args:
        lr_lambda: a function of the epoch count (0 for the first epoch) returning the
            factor, or a list with one function per parameter group. Use a module-level
            function (not a lambda) if the learner must be pickled.

    The learning rate used in each epoch goes into ``history`` as column ``lr``.
    State: the scheduler's ``state_dict()``.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> cb = t_clbk("lr_lambda", lr_lambda=lambda epoch: 1 / (1 + epoch))
        >>> learner = lrn("classif.mlp", epochs=3, random_state=0, callbacks=[cb, "history"],
        ...               **{"opt.lr": 0.1})
        >>> [round(lr, 4) for lr in learner.train(tsk("iris")).model.callbacks["history"]["lr"]]
        [0.1, 0.05, 0.0333]
    """

    scheduler_class = torch.optim.lr_scheduler.LambdaLR

    def __init__(self, lr_lambda: Callable[[int], float] | list[Callable[[int], float]]) -> None:
        super().__init__(lr_lambda=lr_lambda)


lr_lambda = TorchCallback(
    "lr_lambda",
    CallbackSetLRLambda,
    param_set=LRLambdaParams,
    label="Lambda Schedule",
    man=man_with_example(CallbackSetLRLambda, EXAMPLE),
)
