"""``lr_monitor``: record the learning rate of every parameter group."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.history import columns_of, log_to_history, rows_of
from mlrpy.callbacks.lr_scheduler import unwrap_optimizer
from mlrpy.callbacks.registry import mlr_callbacks

EXAMPLE = 't_clbk("lr_monitor", per_batch=True)'


class CallbackSetLRMonitor(CallbackSet):
    """Records the learning rate of each parameter group.

    One row per epoch with the rates at the start of the epoch (``on_epoch_begin``), or with
    ``per_batch=True`` one row per batch with the rates used for that batch
    (``on_batch_begin``, after any per-batch schedule stepped). Columns: ``epoch``
    (and ``step``, ``global_step`` per batch), ``lr`` for a single parameter group, or
    ``lr.0``, ``lr.1``, ... for several. The epoch's first rate also goes into ``history`` as
    column ``lr``.

    State: the rows as plain columns, a dict of column name → 1-D numpy array
    (``pandas.DataFrame(state)`` gives the table).

    Example:
        >>> import pandas as pd
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> learner = lrn("classif.mlp", epochs=3, random_state=0, **{"opt.lr": 0.01},
        ...               callbacks=[t_clbk("lr_step", step_size=1, gamma=0.5), "lr_monitor"])
        >>> pd.DataFrame(learner.train(tsk("iris")).model.callbacks["lr_monitor"])
           epoch      lr
        0      1  0.0100
        1      2  0.0050
        2      3  0.0025
    """

    reads: ClassVar[tuple[str, ...]] = ("epoch", "step", "global_step", "optimizer")
    writes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        per_batch: Annotated[bool, Field(description="one row per batch instead of one per epoch")] = False,
    ) -> None:
        self.per_batch = per_batch
        self.rows: list[dict[str, Any]] = []
        self._epoch_lr: float | None = None

    def _rates(self) -> dict[str, float]:
        groups = unwrap_optimizer(self.ctx.optimizer).param_groups
        if len(groups) == 1:
            return {"lr": float(groups[0]["lr"])}
        return {f"lr.{i}": float(g["lr"]) for i, g in enumerate(groups)}

    def on_epoch_begin(self) -> None:
        rates = self._rates()
        self._epoch_lr = next(iter(rates.values()))
        if not self.per_batch:
            self.rows.append({"epoch": self.ctx.epoch, **rates})

    def on_batch_begin(self) -> None:
        if self.per_batch:
            ctx = self.ctx
            self.rows.append({"epoch": ctx.epoch, "step": ctx.step, "global_step": ctx.global_step,
                              **self._rates()})

    def on_before_valid(self) -> None:
        log_to_history(self.ctx, "lr", self._epoch_lr)

    def state_dict(self) -> dict[str, np.ndarray]:
        return columns_of(self.rows)

    def load_state_dict(self, state: Any) -> None:
        self.rows = rows_of(state)


lr_monitor = TorchCallback(
    "lr_monitor",
    CallbackSetLRMonitor,
    label="Learning Rate Monitor",
    man=man_with_example(CallbackSetLRMonitor, EXAMPLE),
)
mlr_callbacks.add(lr_monitor)
