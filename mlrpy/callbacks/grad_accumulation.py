"""``grad_accumulation``: one optimizer step per ``steps`` batches, on their combined gradient."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks

__all__ = ["AccumulatingOptimizer", "CallbackSetGradAccumulation", "grad_accumulation"]

EXAMPLE = 't_clbk("grad_accumulation", steps=4)'


class AccumulatingOptimizer:
    """A thin wrapper around an optimizer whose ``step()`` only steps when a group of batches
    is complete (``ready``); the loop calls it after every batch.

    ``grad_accumulation`` puts it into ``ctx.optimizer`` for the run; the wrapped optimizer is
    ``.optimizer`` (see :func:`mlrpy.callbacks.lr_scheduler.unwrap_optimizer`). A grad
    scaler wrapping it skips ``step()`` for a batch with inf or NaN gradients; ``called``
    tells the callback that this happened.
    """

    #: a grad scaler must check for inf itself and skip ``step()``, not leave that to a fused
    #: optimizer behind this wrapper (it would set its flags on the wrapper, unseen)
    _step_supports_amp_scaling = False

    def __init__(self, optimizer: Any) -> None:
        self.optimizer = optimizer
        #: the next ``step()`` updates the weights
        self.ready = False
        #: whether ``step()`` was called since the callback last reset it
        self.called = False
        #: ``False`` after the run: every ``step()`` steps, as the wrapped optimizer's would
        self.accumulating = True

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.optimizer.param_groups  # type: ignore[no-any-return]

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        self.called = True
        if self.ready or not self.accumulating:
            self.optimizer.step()
            self.ready = False

    def state_dict(self) -> dict[str, Any]:
        return self.optimizer.state_dict()  # type: ignore[no-any-return]

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state)

    def __getattr__(self, name: str) -> Any:
        if name in ("optimizer", "ready", "called", "accumulating"):
            raise AttributeError(name)
        return getattr(self.optimizer, name)


class CallbackSetGradAccumulation(CallbackSet):
    """Accumulates the gradients of ``steps`` consecutive batches and takes one optimizer step
    on them, as if the batches were one batch ``steps`` times larger (for training with
    batches larger than the memory allows).

    Each batch's gradient counts in proportion to its rows (to the sum of its sample weights
    when training with weights; equally under a loss with ``reduction="sum"``), so a group
    equals one batch of all its rows: for a network without batch-dependent layers (no
    batch norm), ``batch_size=b`` with ``steps=k`` trains the same weights as
    ``batch_size=k*b`` without accumulation, to float tolerance. The last batch of an epoch
    closes its group however short it is, as does a batch in which a callback sets
    ``ctx.stop_epoch`` before the backward pass; groups never span epochs, so the unfinished
    group of an epoch that a callback ends after a batch's step (``time_limit``) is dropped. ``ctx.loss`` and
    ``ctx.last_loss`` stay each batch's own loss: the gradients, not the loss, are rescaled.

    In ``on_after_backward`` each batch's gradients are moved aside (so callbacks that run
    later see none until the group is complete); at the group's last batch their combination
    is put back, before ``gradient_clip`` (weight 0), which so clips the accumulated
    gradient. ``ctx.optimizer`` is wrapped for the run (:class:`AccumulatingOptimizer`) so
    that the loop's ``optimizer.step()`` only steps at the end of a group. With
    ``mixed_precision`` and a grad scaler each batch's gradients are unscaled before they are
    set aside, and a group in which the scaler found inf or NaN gradients is dropped, as the
    scaler drops such a step. Learning-rate schedules that step per batch still advance
    every batch. Weight -100, so it runs before the default weight 0.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> learner = lrn("classif.mlp", epochs=2, batch_size=16, random_state=0,
        ...               callbacks=[t_clbk("grad_accumulation", steps=4)])
        >>> learner.train(tsk("iris")).model.optimizer["state"][0]["step"]  # 10 batches: 3 steps an epoch
        tensor(6.)
    """

    reads: ClassVar[tuple[str, ...]] = ("network", "optimizer", "loader_train", "loss_fn", "batch", "step")
    writes: ClassVar[tuple[str, ...]] = ("optimizer",)

    weight: ClassVar[float] = -100.0

    def __init__(
        self,
        steps: Annotated[int, Field(ge=1, description="batches whose gradients make one optimizer step")] = 2,
    ) -> None:
        self.steps = steps
        self._params: list[torch.nn.Parameter] = []
        self._batches: int | None = None
        self._summed = False
        self._wrapper: AccumulatingOptimizer | None = None
        self._original: Any = None
        self._closes = False  # this batch completes its group
        self._reset()

    def _reset(self) -> None:
        self._grads: dict[int, torch.Tensor] = {}
        self._total: float | torch.Tensor = 0.0
        self._dropped = False  # a grad scaler skipped a batch of this group

    def on_begin(self) -> None:
        ctx = self.ctx
        assert ctx.network is not None
        self._params = list(ctx.network.parameters())
        self._summed = getattr(ctx.loss_fn, "reduction", "mean") == "sum"
        self._original = ctx.optimizer
        self._wrapper = AccumulatingOptimizer(ctx.optimizer)
        ctx.optimizer = self._wrapper  # type: ignore[assignment]

    def on_epoch_begin(self) -> None:
        loader = self.ctx.loader_train
        # a loader without a length: only full groups step
        self._batches = len(loader) if hasattr(loader, "__len__") else None
        self._reset()

    @torch.no_grad()
    def on_after_backward(self) -> None:
        ctx = self.ctx
        assert self._wrapper is not None
        unscale = getattr(ctx.optimizer, "unscale_grads", None)
        if unscale is not None:  # a grad scaler's scale may change between the group's batches
            unscale()
        self._set_aside(self._share())
        self._closes = ctx.step % self.steps == 0 or ctx.step == self._batches or bool(ctx.stop_epoch)
        self._wrapper.called = False
        self._wrapper.ready = self._closes and not self._dropped
        if self._closes:
            if not self._dropped:
                self._put_back()
            self._reset()

    def on_batch_end(self) -> None:
        wrapper = self._wrapper
        assert wrapper is not None
        if not wrapper.called and not self._closes:  # a grad scaler found inf or NaN gradients
            self._dropped = True
        wrapper.ready = False

    def _share(self) -> float | torch.Tensor:
        """How much this batch counts in its group."""
        batch = self.ctx.batch
        assert batch is not None
        if self._summed:
            return 1.0
        return batch.weight.sum() if batch.weight is not None else float(len(batch.index))

    def _set_aside(self, share: float | torch.Tensor) -> None:
        self._total = self._total + share
        for i, p in enumerate(self._params):
            grad = p.grad
            if grad is None:
                continue
            p.grad = None
            grad.mul_(share)
            if i in self._grads:
                self._grads[i].add_(grad)
            else:
                self._grads[i] = grad

    def _put_back(self) -> None:
        total = 1.0 if self._summed else self._total
        if isinstance(total, torch.Tensor):
            total = total.clamp_min(torch.finfo(total.dtype).tiny)  # all weights zero: gradient 0
        for i, grad in self._grads.items():
            self._params[i].grad = grad.div_(total)

    def on_exit(self) -> None:
        if self._wrapper is not None:
            self._wrapper.accumulating = False  # a wrapper around it may outlive the run
            if self.ctx.optimizer is self._wrapper:
                self.ctx.optimizer = self._original


grad_accumulation = TorchCallback(
    "grad_accumulation",
    CallbackSetGradAccumulation,
    label="Gradient Accumulation",
    man=man_with_example(CallbackSetGradAccumulation, EXAMPLE),
)
mlr_callbacks.add(grad_accumulation)
