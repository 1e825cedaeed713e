"""``gradient_clip``: clip the gradients by norm or by value before every optimizer step."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks

EXAMPLE = 't_clbk("gradient_clip", max_norm=1.0)'


class CallbackSetGradientClip(CallbackSet):
    """Clips the gradients in ``on_after_backward``, before the optimizer step.

    ``mode="norm"`` rescales all gradients together so that their total ``norm_type``-norm
    is at most ``max_norm`` (``torch.nn.utils.clip_grad_norm_``); ``mode="value"`` clamps
    every entry to ``[-value, value]`` (``torch.nn.utils.clip_grad_value_``). With
    ``mixed_precision`` and a grad scaler the gradients are unscaled first.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> learner = lrn("classif.mlp", epochs=2, random_state=0,
        ...               callbacks=[t_clbk("gradient_clip", max_norm=0.5)])
        >>> learner.train(tsk("iris")).model.epochs
        2
    """

    reads: ClassVar[tuple[str, ...]] = ("network", "optimizer")
    writes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        max_norm: Annotated[
            float | None, Field(gt=0, description="the largest total gradient norm (mode 'norm')")
        ] = 1.0,
        value: Annotated[
            float | None, Field(gt=0, description="the largest absolute gradient entry (mode 'value')")
        ] = None,
        mode: Annotated[
            Literal["norm", "value"], Field(description="clip the total norm or every entry")
        ] = "norm",
        norm_type: Annotated[
            float, Field(gt=0, description="p of the p-norm (float('inf') for the max norm)")
        ] = 2.0,
        error_if_nonfinite: Annotated[
            bool, Field(description="raise if the total norm is NaN or infinite")
        ] = False,
    ) -> None:
        if mode == "norm" and max_norm is None:
            raise ValueError("mode='norm' needs max_norm")
        if mode == "value" and value is None:
            raise ValueError("mode='value' needs value")
        self.max_norm = max_norm
        self.value = value
        self.mode = mode
        self.norm_type = norm_type
        self.error_if_nonfinite = error_if_nonfinite
        self._params: list[torch.nn.Parameter] = []

    def on_begin(self) -> None:
        network = self.ctx.network
        assert network is not None
        self._params = list(network.parameters())

    def on_after_backward(self) -> None:
        unscale = getattr(self.ctx.optimizer, "unscale_grads", None)
        if unscale is not None:  # a grad scaler's gradients must be unscaled before clipping
            unscale()
        params = [p for p in self._params if p.grad is not None]
        if not params:
            return
        if self.mode == "norm":
            torch.nn.utils.clip_grad_norm_(
                params, self.max_norm, norm_type=self.norm_type,  # type: ignore[arg-type]
                error_if_nonfinite=self.error_if_nonfinite,
            )
        else:
            torch.nn.utils.clip_grad_value_(params, self.value)  # type: ignore[arg-type]


gradient_clip = TorchCallback(
    "gradient_clip",
    CallbackSetGradientClip,
    label="Gradient Clipping",
    man=man_with_example(CallbackSetGradientClip, EXAMPLE),
)
mlr_callbacks.add(gradient_clip)
