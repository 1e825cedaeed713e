"""``lr_finder``: the learning-rate range test (fastai's and luz's lr finder, Lightning's
``Tuner.lr_find``); usually run through ``learner.lr_find()``."""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.lr_scheduler import unwrap_optimizer
from mlrpy.callbacks.registry import mlr_callbacks
from mlrpy.errors import ParameterError

__all__ = ["CallbackSetLRFinder", "lr_finder"]

EXAMPLE = 't_clbk("lr_finder", start_lr=1e-6, end_lr=1, num_iter=50)'


class CallbackSetLRFinder(CallbackSet):
    """Increases the learning rate exponentially, batch by batch, and records the loss.

    Batch ``i`` (from 0) trains with ``start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))``
    in every parameter group, so the rate runs geometrically from ``start_lr`` to exactly
    ``end_lr`` at batch ``num_iter``; the epochs do not matter. Training stops
    (``ctx.terminate`` and ``ctx.stop_epoch``) after ``num_iter`` batches, or as soon as the
    loss diverges: its smoothed value exceeds ``diverge_threshold`` times the best smoothed
    value so far (fastai's and Lightning's rule), or it is NaN or infinite. The run's
    parameters and weights are spoiled by then, so ``learner.lr_find()`` runs it on a copy
    of the learner and leaves the learner itself alone. Reading each batch's loss costs one
    host sync per batch on an accelerator, for the few batches of the test.

    State: the records as plain columns (``pandas.DataFrame(state)`` gives the table):
    ``lr``, the rate used for the batch; ``loss``, the batch's training loss (computed before
    that batch's update); ``smoothed_loss``, its bias-corrected exponential moving average
    (fastai's and Lightning's): ``avg_i = beta * avg_(i-1) + (1 - beta) * loss_i``, reported
    as ``avg_i / (1 - beta^i)``, with ``beta = smoothing``.

    Example:
        >>> import pandas as pd
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> finder = t_clbk("lr_finder", start_lr=1e-4, end_lr=1e-2, num_iter=3)
        >>> learner = lrn("classif.mlp", epochs=5, batch_size=50, random_state=0, callbacks=[finder])
        >>> records = pd.DataFrame(learner.train(tsk("iris")).model.callbacks["lr_finder"])
        >>> records["lr"].tolist(), learner.model.epochs
        ([0.0001, 0.001, 0.01], 1)
    """

    reads: ClassVar[tuple[str, ...]] = ("optimizer", "last_loss")
    writes: ClassVar[tuple[str, ...]] = ("optimizer", "terminate", "stop_epoch")

    def __init__(
        self,
        start_lr: Annotated[float, Field(gt=0, description="the learning rate of the first batch")] = 1e-7,
        end_lr: Annotated[float, Field(gt=0, description="the learning rate of the last batch")] = 1.0,
        num_iter: Annotated[int, Field(ge=2, description="batches to run, from start_lr to end_lr")] = 100,
        smoothing: Annotated[
            float,
            Field(ge=0, lt=1, description="beta of the loss's moving average (0: no smoothing)"),
        ] = 0.98,
        diverge_threshold: Annotated[
            float | None,
            Field(gt=1, description="stop once the smoothed loss exceeds this many times its best "
                                    "value (None: only after num_iter batches or a non-finite loss)"),
        ] = 4.0,
    ) -> None:
        if end_lr <= start_lr:
            raise ParameterError(
                f"Callback 'lr_finder': end_lr ({end_lr}) must be greater than start_lr ({start_lr})"
            )
        self.start_lr = start_lr
        self.end_lr = end_lr
        self.num_iter = num_iter
        self.smoothing = smoothing
        self.diverge_threshold = diverge_threshold
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.smoothed_losses: list[float] = []
        self._average = 0.0
        self._lr = start_lr

    def _rate(self, i: int) -> float:
        return float(self.start_lr * (self.end_lr / self.start_lr) ** (i / (self.num_iter - 1)))

    def on_batch_begin(self) -> None:
        self._lr = self._rate(len(self.lrs))
        for group in unwrap_optimizer(self.ctx.optimizer).param_groups:
            group["lr"] = self._lr

    def on_batch_end(self) -> None:
        ctx = self.ctx
        loss = ctx.last_loss
        assert loss is not None
        self._add(self._lr, loss)
        threshold = self.diverge_threshold
        diverged = threshold is not None and self.smoothed_losses[-1] > threshold * min(self.smoothed_losses)
        if len(self.lrs) >= self.num_iter or diverged or not math.isfinite(loss):
            ctx.terminate = ctx.stop_epoch = True

    def _add(self, lr: float, loss: float) -> None:
        # bias-corrected, so the first values are not pulled towards zero
        beta = self.smoothing
        self._average = beta * self._average + (1.0 - beta) * loss
        self.lrs.append(lr)
        self.losses.append(loss)
        self.smoothed_losses.append(self._average / (1.0 - beta ** len(self.losses)))

    def state_dict(self) -> dict[str, np.ndarray]:
        return {
            "lr": np.asarray(self.lrs, dtype=float),
            "loss": np.asarray(self.losses, dtype=float),
            "smoothed_loss": np.asarray(self.smoothed_losses, dtype=float),
        }

    def load_state_dict(self, state: Any) -> None:
        state = state or {}
        self.lrs, self.losses, self.smoothed_losses, self._average = [], [], [], 0.0
        # replaying the same float operations makes a resumed run's records bit-identical
        for lr, loss in zip(state.get("lr", ()), state.get("loss", ()), strict=True):
            self._add(float(lr), float(loss))


lr_finder = TorchCallback(
    "lr_finder",
    CallbackSetLRFinder,
    label="Learning Rate Finder",
    man=man_with_example(CallbackSetLRFinder, EXAMPLE),
)
mlr_callbacks.add(lr_finder)
