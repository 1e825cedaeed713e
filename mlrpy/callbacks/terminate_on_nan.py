"""``terminate_on_nan``: stop training when the training loss becomes NaN or infinite."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import torch

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks

EXAMPLE = 't_clbk("terminate_on_nan")'


class CallbackSetTerminateOnNaN(CallbackSet):
    """Stops training when a batch's training loss is NaN or infinite (Keras' TerminateOnNaN).

    The loss is checked after every batch (``on_after_loss``; one host sync per batch). On
    the first non-finite loss it warns, records the epoch and batch, drops that batch's
    gradients (so the weights stay those from before it) and sets ``ctx.terminate`` and
    ``ctx.stop_epoch``: training stops after the offending batch. That epoch's validation and
    ``on_epoch_end`` still run, so the history and checkpoints record it.

    State: ``{"epoch": ..., "batch": ..., "loss": ...}`` of the first non-finite loss
    (``batch`` counts within the epoch, from 1); all ``None`` when the loss stayed finite.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> learner = lrn("classif.mlp", epochs=2, random_state=0, callbacks=["terminate_on_nan"])
        >>> learner.train(tsk("iris")).model.callbacks["terminate_on_nan"]
        {'epoch': None, 'batch': None, 'loss': None}
    """

    reads: ClassVar[tuple[str, ...]] = ("epoch", "step", "loss", "network")
    writes: ClassVar[tuple[str, ...]] = ("terminate", "stop_epoch")

    def __init__(self) -> None:
        self.epoch: int | None = None
        self.batch: int | None = None
        self.loss: float | None = None
        self._skipping = False

    def on_epoch_begin(self) -> None:
        self._skipping = False

    def on_after_loss(self) -> None:
        ctx = self.ctx
        if self._skipping:
            return
        loss = ctx.loss
        assert loss is not None
        if bool(torch.isfinite(loss.detach()).all()):
            return
        value = float(loss.detach().float().mean().item())
        self._skipping = True
        ctx.terminate = ctx.stop_epoch = True
        if self.epoch is None:
            self.epoch, self.batch, self.loss = ctx.epoch, ctx.step, value
            warnings.warn(
                f"Callback '{self.id}': the training loss is {value} at epoch {ctx.epoch}, batch "
                f"{ctx.step}; training stops after this batch, without its update",
                RuntimeWarning,
                stacklevel=2,
            )

    def on_after_backward(self) -> None:
        if self._skipping:
            network = self.ctx.network
            assert network is not None
            for p in network.parameters():
                p.grad = None

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "batch": self.batch, "loss": self.loss}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        state = state or {}
        self.epoch, self.batch = state.get("epoch"), state.get("batch")
        loss = state.get("loss")
        self.loss = None if loss is None else float(loss)


terminate_on_nan = TorchCallback(
    "terminate_on_nan",
    CallbackSetTerminateOnNaN,
    label="Terminate on NaN",
    man=man_with_example(CallbackSetTerminateOnNaN, EXAMPLE),
)
mlr_callbacks.add(terminate_on_nan)
