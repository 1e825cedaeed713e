"""``lr_reduce_on_plateau``: reduce the learning rate when the validation score stops
improving (``ReduceLROnPlateau``)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.lr_scheduler import CallbackSetLRScheduler
from mlrpy.callbacks.monitor import CallbackSetMonitor, Mode, Monitor
from mlrpy.callbacks.registry import mlr_callbacks

__all__ = ["CallbackSetLRReduceOnPlateau", "lr_reduce_on_plateau"]

EXAMPLE = 't_clbk("lr_reduce_on_plateau", factor=0.5, patience=3)'

_NonNegative = Annotated[float, Field(ge=0)]


class CallbackSetLRReduceOnPlateau(CallbackSetMonitor, CallbackSetLRScheduler):
    """Reduce on plateau: ``torch.optim.lr_scheduler.ReduceLROnPlateau``, stepped at the end
    of every epoch with validation.

    It watches ``monitor`` (by default the first validation measure or, without measures,
    the validation loss), so the learner needs validation data (``validate=`` or
    ``fit(..., validation_data=...)``). Epochs without validation (``eval_freq``) do not
    count. The other parameters keep torch's names and meaning.

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

    reads: ClassVar[tuple[str, ...]] = ("epoch", "optimizer", "last_scores_valid")
    writes: ClassVar[tuple[str, ...]] = ("optimizer",)

    scheduler_class = torch.optim.lr_scheduler.ReduceLROnPlateau

    def __init__(
        self,
        monitor: Monitor = None,
        mode: Mode = "auto",
        factor: Annotated[float, Field(gt=0, lt=1, description="new lr = lr * factor")] = 0.1,
        patience: Annotated[
            int, Field(ge=0, description="evaluations without improvement before the rate is reduced")
        ] = 10,
        threshold: Annotated[
            float, Field(ge=0, description="the smallest change that counts as an improvement")
        ] = 1e-4,
        threshold_mode: Annotated[
            Literal["rel", "abs"], Field(description="threshold relative to the best score or absolute")
        ] = "rel",
        cooldown: Annotated[int, Field(ge=0, description="evaluations to wait after a reduction")] = 0,
        min_lr: Annotated[
            _NonNegative | list[_NonNegative],
            Field(description="lower bound of the rate (or one per parameter group)"),
        ] = 0.0,
        eps: Annotated[float, Field(ge=0, description="reductions smaller than this are ignored")] = 1e-8,
    ) -> None:
        CallbackSetMonitor.__init__(self, monitor=monitor, mode=mode)
        CallbackSetLRScheduler.__init__(
            self,
            factor=factor,
            patience=patience,
            threshold=threshold,
            threshold_mode=threshold_mode,
            cooldown=cooldown,
            min_lr=min_lr,
            eps=eps,
        )

    def _plateau_args(self, args: dict[str, Any]) -> dict[str, Any]:
        self.resolve_monitor()
        self._metric = self.monitor
        return {**args, "mode": "min" if self.minimize else "max"}


lr_reduce_on_plateau = TorchCallback(
    "lr_reduce_on_plateau",
    CallbackSetLRReduceOnPlateau,
    label="Reduce on Plateau",
    man=man_with_example(CallbackSetLRReduceOnPlateau, EXAMPLE),
)
mlr_callbacks.add(lr_reduce_on_plateau)
