"""``time_limit``: stop training after a wall-clock budget."""

from __future__ import annotations

import time
from typing import Any

from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet, TorchCallback
from mlrpy.params import ParamModel

EXAMPLE = 't_clbk("time_limit", max_seconds=3600)'


def clock() -> float:
    """Seconds from a monotonic clock (a module-level function so tests can replace it)."""
    return time.monotonic()


class TimeLimitParams(ParamModel):
    max_seconds: float = Field(gt=0, description="the wall-clock budget of the run in seconds")


class CallbackSetTimeLimit(CallbackSet):
    """Stops training when the time budget is used up, or when the next epoch would not
    fit into it.

    At the end of every epoch (validation included) it sets ``ctx.terminate`` if
    ``max_seconds`` have passed since the run started, or if the time left is less than the
    mean epoch duration so far (the next epoch is estimated not to finish in time). An epoch
    once begun always finishes, so a run can exceed the budget by up to one epoch. The time
    is counted from ``on_begin``.

    Args:
        max_seconds: the budget in seconds (> 0).

    State: ``{"elapsed": seconds, "epoch_seconds": [duration of each epoch],
    "stopped": whether the limit stopped the run}``; a resumed run uses the saved durations
    for its estimate (its budget starts anew).

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> learner = lrn("classif.mlp", epochs=2, random_state=0,
        ...               callbacks=[t_clbk("time_limit", max_seconds=600)])
        >>> state = learner.train(tsk("iris")).model.callbacks["time_limit"]
        >>> len(state["epoch_seconds"]), state["stopped"]
        (2, False)
    """

    def __init__(self, max_seconds: float) -> None:
        self.max_seconds = max_seconds
        self.start = 0.0
        self.elapsed = 0.0
        self.epoch_seconds: list[float] = []
        self.stopped = False
        self._epoch_start = 0.0

    def on_begin(self) -> None:
        self.start = clock()
        self.stopped = False

    def on_epoch_begin(self) -> None:
        self._epoch_start = clock()

    def on_epoch_end(self) -> None:
        now = clock()
        self.epoch_seconds.append(now - self._epoch_start)
        self.elapsed = now - self.start
        mean_epoch = sum(self.epoch_seconds) / len(self.epoch_seconds)
        if self.elapsed >= self.max_seconds or self.elapsed + mean_epoch > self.max_seconds:
            if self.ctx.epoch < self.ctx.total_epochs:
                self.stopped = True
            self.ctx.terminate = True

    def on_end(self) -> None:
        self.elapsed = clock() - self.start

    def state_dict(self) -> dict[str, Any]:
        return {"elapsed": self.elapsed, "epoch_seconds": list(self.epoch_seconds), "stopped": self.stopped}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch_seconds = [float(s) for s in (state or {}).get("epoch_seconds", [])]


time_limit = TorchCallback(
    "time_limit",
    CallbackSetTimeLimit,
    param_set=TimeLimitParams,
    label="Time Limit",
    man=man_with_example(CallbackSetTimeLimit, EXAMPLE),
)
