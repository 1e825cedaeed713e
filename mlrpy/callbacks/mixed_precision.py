"""``mixed_precision``: automatic mixed precision (``torch.autocast``) with a grad scaler
on CUDA."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks

EXAMPLE = 't_clbk("mixed_precision")'

_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}


class ScaledOptimizer:
    """A thin wrapper around an optimizer whose ``step()`` goes through a ``GradScaler``.

    ``mixed_precision`` puts it into ``ctx.optimizer`` for the run. The wrapped optimizer is
    ``.optimizer`` (see :func:`mlrpy.callbacks.lr_scheduler.unwrap_optimizer`); callbacks
    that read gradients call :meth:`unscale_grads` first.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, scaler: Any) -> None:
        self.optimizer = optimizer
        self.scaler = scaler
        self._unscaled = False

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.optimizer.param_groups

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def unscale_grads(self) -> None:
        """Divide the gradients by the scale (at most once per step)."""
        if not self._unscaled:
            self.scaler.unscale_(self.optimizer)
            self._unscaled = True

    def step(self) -> None:
        self.scaler.step(self.optimizer)  # skipped when the gradients hold inf or NaN
        self.scaler.update()
        self._unscaled = False

    def state_dict(self) -> dict[str, Any]:
        return self.optimizer.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state)

    def __getattr__(self, name: str) -> Any:
        if name in ("optimizer", "scaler", "_unscaled"):
            raise AttributeError(name)
        return getattr(self.optimizer, name)


class CallbackSetMixedPrecision(CallbackSet):
    """Trains with automatic mixed precision.

    The forward pass and the loss run under ``torch.autocast`` (entered in
    ``on_batch_begin``, left in ``on_after_loss``), as do the validation forward passes
    (whose outputs are cast back to float32 for scoring). The dtype is bfloat16 on CPU and
    float16 on CUDA (``dtype="auto"``). With float16 on CUDA a ``torch.amp.GradScaler``
    guards against underflow: ``on_after_loss`` replaces ``ctx.loss`` by the scaled loss
    for the backward pass, ``on_after_backward`` puts the unscaled loss back and unscales
    the gradients, and ``ctx.optimizer`` is wrapped for the run (:class:`ScaledOptimizer`)
    so that each step goes through the scaler (steps with inf/NaN gradients are skipped).
    Prediction runs in full precision.

    Its weight is 100, so it scales the loss after other callbacks changed it in
    ``on_after_loss`` (penalties); callbacks that read gradients at a lower weight (e.g.
    ``gradient_clip``) unscale them first through ``ctx.optimizer.unscale_grads()``.

    State: the grad scaler's ``state_dict()`` (``None`` without a scaler).

    Example:
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("classif.mlp", epochs=2, random_state=0, device="cpu",
        ...               callbacks=["mixed_precision"])
        >>> learner.train(tsk("iris")).model.epochs
        2
    """

    reads: ClassVar[tuple[str, ...]] = ("device", "optimizer", "loss", "y_hat")
    writes: ClassVar[tuple[str, ...]] = ("optimizer", "loss", "y_hat")

    weight: ClassVar[float] = 100.0

    def __init__(
        self,
        dtype: Annotated[
            Literal["auto", "bfloat16", "float16"],
            Field(description="the autocast dtype; 'auto': bfloat16 on CPU, float16 elsewhere"),
        ] = "auto",
        grad_scaler: Annotated[
            bool | None, Field(description="scale the loss (GradScaler); None: only for float16 on CUDA")
        ] = None,
        init_scale: Annotated[float, Field(gt=0, description="the grad scaler's initial scale")] = 2.0**16,
    ) -> None:
        self.dtype = dtype
        self.grad_scaler = grad_scaler
        self.init_scale = init_scale
        self.device_type = "cpu"
        self.autocast_dtype = torch.bfloat16
        self.scaler: Any = None
        self._autocast: Any = None
        self._original: Any = None
        self._wrapper: ScaledOptimizer | None = None
        self._unscaled_loss: torch.Tensor | None = None
        self._pending_state: Any = None

    def on_begin(self) -> None:
        ctx = self.ctx
        self.device_type = ctx.device.type
        if self.dtype == "auto":
            self.autocast_dtype = torch.bfloat16 if self.device_type == "cpu" else torch.float16
        else:
            self.autocast_dtype = _DTYPES[self.dtype]
        use_scaler = self.grad_scaler
        if use_scaler is None:
            use_scaler = self.device_type == "cuda" and self.autocast_dtype == torch.float16
        if use_scaler:
            self.scaler = torch.amp.GradScaler(self.device_type, init_scale=self.init_scale)
            if self._pending_state:
                self.scaler.load_state_dict(self._pending_state)
            self._original = ctx.optimizer
            self._wrapper = ScaledOptimizer(ctx.optimizer, self.scaler)  # type: ignore[arg-type]
            ctx.optimizer = self._wrapper  # type: ignore[assignment]

    def _enter(self) -> None:
        self._autocast = torch.autocast(self.device_type, dtype=self.autocast_dtype)
        self._autocast.__enter__()

    def _leave(self) -> None:
        if self._autocast is not None:
            self._autocast.__exit__(None, None, None)
            self._autocast = None

    def on_batch_begin(self) -> None:
        self._enter()

    def on_after_loss(self) -> None:
        self._leave()
        if self.scaler is not None:
            self._unscaled_loss = self.ctx.loss
            self.ctx.loss = self.scaler.scale(self.ctx.loss)

    def on_after_backward(self) -> None:
        if self.scaler is not None:
            self.ctx.loss = self._unscaled_loss
            self._unscaled_loss = None
            if self._wrapper is not None:
                self._wrapper.unscale_grads()

    def on_batch_valid_begin(self) -> None:
        self._enter()

    def on_batch_valid_end(self) -> None:
        self._leave()
        y_hat = self.ctx.y_hat
        if y_hat is not None and y_hat.is_floating_point() and y_hat.dtype != torch.float32:
            self.ctx.y_hat = y_hat.float()

    def on_exit(self) -> None:
        self._leave()  # after an error inside a batch
        ctx = self.ctx
        if self._wrapper is not None and ctx.optimizer is self._wrapper:
            ctx.optimizer = self._original

    def state_dict(self) -> Any:
        if self.scaler is None:
            return self._pending_state
        return self.scaler.state_dict()

    def load_state_dict(self, state: Any) -> None:
        self._pending_state = state


mixed_precision = TorchCallback(
    "mixed_precision",
    CallbackSetMixedPrecision,
    label="Mixed Precision",
    man=man_with_example(CallbackSetMixedPrecision, EXAMPLE),
)
mlr_callbacks.add(mixed_precision)
