"""``lr_one_cycle``: the 1cycle policy, stepped after every batch (``OneCycleLR``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import TorchCallback
from mlrpy.callbacks.lr_scheduler import CallbackSetLRSchedulerPerBatch
from mlrpy.params import ParamModel

EXAMPLE = 't_clbk("lr_one_cycle", max_lr=0.01)'

_Positive = Annotated[float, Field(gt=0)]
_Momentum = Annotated[float, Field(ge=0, le=1)]


class LROneCycleParams(ParamModel):
    max_lr: _Positive | list[_Positive] = Field(description="peak learning rate (or one per group)")
    total_steps: int | None = Field(
        None, ge=1, description="steps of the cycle; None: epochs x batches per epoch"
    )
    pct_start: float = Field(0.3, gt=0, lt=1, description="fraction of the cycle spent increasing")
    anneal_strategy: Literal["cos", "linear"] = "cos"
    cycle_momentum: bool = True
    base_momentum: _Momentum | list[_Momentum] = 0.85
    max_momentum: _Momentum | list[_Momentum] = 0.95
    div_factor: float = Field(25.0, gt=0, description="initial lr = max_lr / div_factor")
    final_div_factor: float = Field(1e4, gt=0, description="final lr = initial lr / final_div_factor")
    three_phase: bool = False


class CallbackSetLROneCycle(CallbackSetLRSchedulerPerBatch):
    """The 1cycle policy: ``torch.optim.lr_scheduler.OneCycleLR``, stepped after every batch.

    The rate rises from ``max_lr / div_factor`` to ``max_lr`` and then anneals to
    ``max_lr / (div_factor * final_div_factor)`` over ``total_steps`` optimizer steps.

    Args:
        max_lr: the peak learning rate (> 0), or a list with one per parameter group.
        total_steps: length of the cycle in steps; ``None`` (default) infers
            ``epochs x batches per epoch`` from the run.
        pct_start: fraction of the cycle spent increasing the rate, in (0, 1).
        anneal_strategy: ``"cos"`` or ``"linear"``.
        cycle_momentum: also cycle momentum (or Adam's ``beta1``) inversely to the rate.
        base_momentum, max_momentum: the momentum range, in [0, 1].
        div_factor: ``initial lr = max_lr / div_factor`` (> 0).
        final_div_factor: ``final lr = initial lr / final_div_factor`` (> 0).
        three_phase: use torch's three-phase variant.

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

    scheduler_class = torch.optim.lr_scheduler.OneCycleLR

    def __init__(self, max_lr: Any, total_steps: int | None = None, **others: Any) -> None:
        super().__init__(max_lr=max_lr, total_steps=total_steps, **others)

    def _make_scheduler(self, optimizer: torch.optim.Optimizer) -> Any:
        args = dict(self.scheduler_args)
        if args.get("total_steps") is None:
            ctx = self.ctx
            args["total_steps"] = max(1, ctx.total_epochs * len(ctx.loader_train))
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, **args)


lr_one_cycle = TorchCallback(
    "lr_one_cycle",
    CallbackSetLROneCycle,
    param_set=LROneCycleParams,
    label="One Cycle",
    man=man_with_example(CallbackSetLROneCycle, EXAMPLE),
)
