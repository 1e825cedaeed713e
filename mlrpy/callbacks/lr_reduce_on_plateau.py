"""``lr_reduce_on_plateau``: reduce the learning rate when the validation score stops
improving (``ReduceLROnPlateau``)."""

from __future__ import annotations

from typing import Annotated, Literal

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import TorchCallback
from mlrpy.callbacks.lr_scheduler import CallbackSetLRScheduler
from mlrpy.params import ParamModel

EXAMPLE = 't_clbk("lr_reduce_on_plateau", factor=0.5, patience=3)'

_NonNegative = Annotated[float, Field(ge=0)]


class LRReduceOnPlateauParams(ParamModel):
    mode: Literal["min", "max"] | None = Field(
        None, description="None: from the measure's direction ('min' for the loss)"
    )
    factor: float = Field(0.1, gt=0, lt=1, description="new lr = lr * factor")
    patience: int = Field(10, ge=0, description="evaluations without improvement before reducing")
    threshold: float = Field(1e-4, ge=0, description="smallest change that counts as improvement")
    threshold_mode: Literal["rel", "abs"] = "rel"
    cooldown: int = Field(0, ge=0, description="evaluations to wait after a reduction")
    min_lr: _NonNegative | list[_NonNegative] = 0.0
    eps: float = Field(1e-8, ge=0, description="smaller lr changes are ignored")


class CallbackSetLRReduceOnPlateau(CallbackSetLRScheduler):
    """Reduce on plateau: ``torch.optim.lr_scheduler.ReduceLROnPlateau``, stepped at the end
    of every epoch with validation.

    It watches the first validation measure (``measures_valid[0]``) or, without measures,
    the validation loss, so the learner needs validation data (``validate=`` or
    ``fit(..., validation_data=...)``). Epochs without validation (``eval_freq``) do not
    count.

    Args:
        mode: ``"min"`` or ``"max"``; ``None`` (default) takes the direction of the measure
            (``"min"`` for the loss).
        factor: ``new lr = lr * factor``, in (0, 1).
        patience: evaluations without improvement before the rate is reduced (>= 0).
        threshold: the smallest change that counts as an improvement (>= 0).
        threshold_mode: ``"rel"`` or ``"abs"``.
        cooldown: evaluations to wait after a reduction (>= 0).
        min_lr: lower bound of the rate (or one per parameter group), >= 0.
        eps: reductions smaller than this are ignored.

    The learning rate used in each epoch goes into ``history`` as column ``lr``.
    State: the scheduler's ``state_dict()``.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> cb = t_clbk("lr_reduce_on_plateau", patience=0, factor=0.5, threshold=0.5)
        >>> learner = lrn("classif.mlp", epochs=3, validate=0.3, random_state=0,
        ...               measures_valid=["classif.acc"], callbacks=[cb, "history"],
        ...               **{"opt.lr": 0.1})
        >>> learner.train(tsk("iris")).model.callbacks["history"]["lr"].tolist()  # no 50% gain
        [0.1, 0.1, 0.05]
    """

    scheduler_class = torch.optim.lr_scheduler.ReduceLROnPlateau

    def __init__(
        self,
        mode: Literal["min", "max"] | None = None,
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(
            mode=mode,
            factor=factor,
            patience=patience,
            threshold=threshold,
            threshold_mode=threshold_mode,
            cooldown=cooldown,
            min_lr=min_lr,
            eps=eps,
        )


lr_reduce_on_plateau = TorchCallback(
    "lr_reduce_on_plateau",
    CallbackSetLRReduceOnPlateau,
    param_set=LRReduceOnPlateauParams,
    label="Reduce on Plateau",
    man=man_with_example(CallbackSetLRReduceOnPlateau, EXAMPLE),
)
