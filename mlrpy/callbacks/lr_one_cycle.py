"""``lr_one_cycle``: the 1cycle policy, stepped after every batch (``OneCycleLR``)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.lr_scheduler import CallbackSetLRSchedulerPerBatch
from mlrpy.callbacks.registry import mlr_callbacks

__all__ = ["CallbackSetLROneCycle", "lr_one_cycle"]

EXAMPLE = 't_clbk("lr_one_cycle", max_lr=0.01)'

_Positive = Annotated[float, Field(gt=0)]
_Momentum = Annotated[float, Field(ge=0, le=1)]


class CallbackSetLROneCycle(CallbackSetLRSchedulerPerBatch):
    """The 1cycle policy: ``torch.optim.lr_scheduler.OneCycleLR``, stepped after every batch.

    The rate rises from ``max_lr / div_factor`` to ``max_lr`` and then anneals to
    ``max_lr / (div_factor * final_div_factor)`` over ``total_steps`` optimizer steps; with
    ``cycle_momentum`` the momentum (or Adam's ``beta1``) moves the opposite way between
    ``max_momentum`` and ``base_momentum``. The parameters keep torch's names and meaning.

    The learning rate at the start of each epoch goes into ``history`` as column ``lr``.
    State: the scheduler's ``state_dict()``.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> learner = lrn("classif.mlp", epochs=3, batch_size=50, random_state=0,
        ...               callbacks=[t_clbk("lr_one_cycle", max_lr=0.1), "history"])
        >>> lrs = learner.train(tsk("iris")).model.callbacks["history"]["lr"].tolist()
        >>> round(lrs[0], 4), max(lrs) > lrs[0]
        (0.004, True)
    """

    reads: ClassVar[tuple[str, ...]] = ("optimizer", "loader_train", "total_epochs")
    writes: ClassVar[tuple[str, ...]] = ("optimizer",)

    scheduler_class = torch.optim.lr_scheduler.OneCycleLR

    def __init__(
        self,
        max_lr: Annotated[
            _Positive | list[_Positive], Field(description="the peak learning rate (or one per group)")
        ],
        total_steps: Annotated[
            int | None, Field(ge=1, description="steps of the cycle; None: epochs x batches per epoch")
        ] = None,
        pct_start: Annotated[
            float, Field(gt=0, lt=1, description="fraction of the cycle spent increasing the rate")
        ] = 0.3,
        anneal_strategy: Annotated[
            Literal["cos", "linear"], Field(description="the shape of the rise and the fall")
        ] = "cos",
        cycle_momentum: Annotated[
            bool, Field(description="also cycle the momentum (Adam: beta1) inversely to the rate")
        ] = True,
        base_momentum: Annotated[
            _Momentum | list[_Momentum], Field(description="the momentum at the peak rate")
        ] = 0.85,
        max_momentum: Annotated[
            _Momentum | list[_Momentum], Field(description="the momentum at the lowest rates")
        ] = 0.95,
        div_factor: Annotated[float, Field(gt=0, description="initial lr = max_lr / div_factor")] = 25.0,
        final_div_factor: Annotated[
            float, Field(gt=0, description="final lr = initial lr / final_div_factor")
        ] = 1e4,
        three_phase: Annotated[
            bool, Field(description="torch's three-phase variant (anneal, then annihilate)")
        ] = False,
    ) -> None:
        super().__init__(
            max_lr=max_lr,
            total_steps=total_steps,
            pct_start=pct_start,
            anneal_strategy=anneal_strategy,
            cycle_momentum=cycle_momentum,
            base_momentum=base_momentum,
            max_momentum=max_momentum,
            div_factor=div_factor,
            final_div_factor=final_div_factor,
            three_phase=three_phase,
        )

    def _make_scheduler(self, optimizer: torch.optim.Optimizer) -> Any:
        args = dict(self.scheduler_args)
        if args.get("total_steps") is None:
            ctx = self.ctx
            args["total_steps"] = max(1, ctx.total_epochs * len(ctx.loader_train))
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, **args)


lr_one_cycle = TorchCallback(
    "lr_one_cycle",
    CallbackSetLROneCycle,
    label="One Cycle",
    man=man_with_example(CallbackSetLROneCycle, EXAMPLE),
)
mlr_callbacks.add(lr_one_cycle)
