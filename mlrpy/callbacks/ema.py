"""``ema``: an exponential moving average of the weights, used for validation and kept as
the final model."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks

EXAMPLE = 't_clbk("ema", decay=0.999)'


class CallbackSetEMA(CallbackSet):
    """Keeps an exponential moving average (EMA) of the network's weights.

    After every optimizer step (``on_batch_end``) each floating-point parameter's average
    is updated, ``avg = decay * avg + (1 - decay) * param``; the first update copies the
    parameters (the average starts at the weights after the first step). Buffers (e.g.
    batch-norm statistics) are not averaged.

    Validation uses the averaged weights: they are swapped into the network in
    ``on_before_valid`` and the training weights are swapped back in ``on_epoch_end``. When
    training ends (``on_end``) the averaged weights are copied into the network, so
    prediction uses them. ``1 / (1 - decay)`` is roughly the number of steps averaged over.

    State: ``{"decay": ..., "updates": number of updates, "averages": {name: tensor}}``.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> learner = lrn("classif.mlp", epochs=2, random_state=0,
        ...               callbacks=[t_clbk("ema", decay=0.9)])
        >>> state = learner.train(tsk("iris")).model.callbacks["ema"]
        >>> state["updates"], sorted(state["averages"])[:2]
        (10, ['0.bias', '0.weight'])
    """

    reads: ClassVar[tuple[str, ...]] = ("network",)
    writes: ClassVar[tuple[str, ...]] = ("network",)

    def __init__(
        self,
        decay: Annotated[
            float, Field(gt=0, lt=1, description="the weight of the old average in each update")
        ] = 0.999,
    ) -> None:
        self.decay = decay
        self.updates = 0
        self.averages: dict[str, torch.Tensor] = {}
        self._params: dict[str, torch.nn.Parameter] = {}
        self._backup: dict[str, torch.Tensor] | None = None
        self._pending_state: Any = None

    def on_begin(self) -> None:
        network = self.ctx.network
        assert network is not None
        self._params = {n: p for n, p in network.named_parameters() if p.is_floating_point()}
        state = self._pending_state
        if state:
            self.updates = int(state["updates"])
            self.averages = {
                n: t.detach().to(device=self._params[n].device, dtype=self._params[n].dtype).clone()
                for n, t in state["averages"].items()
                if n in self._params
            }
            self._pending_state = None

    @torch.no_grad()
    def on_batch_end(self) -> None:
        if self.updates == 0 or not self.averages:
            self.averages = {n: p.detach().clone() for n, p in self._params.items()}
        else:
            names = list(self._params)
            averages = [self.averages[n] for n in names]
            torch._foreach_lerp_(averages, [self._params[n].detach() for n in names], 1.0 - self.decay)
        self.updates += 1

    @torch.no_grad()
    def _swap_in(self) -> None:
        if not self.averages or self._backup is not None:
            return
        self._backup = {n: p.detach().clone() for n, p in self._params.items()}
        for n, p in self._params.items():
            p.copy_(self.averages[n])

    @torch.no_grad()
    def _swap_out(self) -> None:
        if self._backup is None:
            return
        for n, p in self._params.items():
            p.copy_(self._backup[n])
        self._backup = None

    def on_before_valid(self) -> None:
        self._swap_in()

    def on_epoch_end(self) -> None:
        self._swap_out()

    @torch.no_grad()
    def on_end(self) -> None:
        self._swap_out()
        for n, p in self._params.items():
            if n in self.averages:
                p.copy_(self.averages[n])

    def on_exit(self) -> None:
        # after an error between on_before_valid and on_epoch_end: put the training weights back
        self._swap_out()

    def state_dict(self) -> dict[str, Any] | None:
        if not self.averages:
            return self._pending_state
        return {
            "decay": self.decay,
            "updates": self.updates,
            "averages": {n: t.detach().clone() for n, t in self.averages.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._pending_state = state


ema = TorchCallback(
    "ema",
    CallbackSetEMA,
    label="Exponential Moving Average",
    man=man_with_example(CallbackSetEMA, EXAMPLE),
)
mlr_callbacks.add(ema)
