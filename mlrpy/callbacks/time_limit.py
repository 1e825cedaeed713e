"""``time_limit``: stop training after a wall-clock budget."""

from __future__ import annotations

import time
from typing import Annotated, Any, ClassVar

from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks

EXAMPLE = 't_clbk("time_limit", max_seconds=3600)'


def clock() -> float:
    """Seconds from a monotonic clock (a module-level function so tests can replace it)."""
    return time.monotonic()


def batches_per_epoch(ctx: Any) -> float:
    """The training loader's length; infinite when it has none (an iterable loader)."""
    try:
        return len(ctx.loader_train)
    except TypeError:
        return float("inf")


class CallbackSetTimeLimit(CallbackSet):
    """Stops training when the time budget is used up, or when the next epoch would not
    fit into it.

    After every training batch it checks the clock: once ``max_seconds`` have passed since
    the run started it sets ``ctx.terminate`` and ``ctx.stop_epoch``, so training stops after
    that batch (the epoch's validation and ``on_epoch_end`` still run): a run exceeds the
    budget by at most one batch and that validation. At the end of every epoch it also stops
    when the time left is less than the mean epoch duration so far (the next epoch is
    estimated not to finish in time). The time is counted from ``on_begin``: a resumed (or
    warm-started) run gets a fresh budget and uses the saved epoch durations for its
    estimate.

    State: ``{"elapsed": seconds trained in total (before a resume included),
    "epoch_seconds": [duration of each epoch], "stopped": whether the limit stopped the run}``.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> learner = lrn("classif.mlp", epochs=2, random_state=0,
        ...               callbacks=[t_clbk("time_limit", max_seconds=600)])
        >>> state = learner.train(tsk("iris")).model.callbacks["time_limit"]
        >>> len(state["epoch_seconds"]), state["stopped"]
        (2, False)
    """

    reads: ClassVar[tuple[str, ...]] = ("epoch", "step", "total_epochs", "loader_train")
    writes: ClassVar[tuple[str, ...]] = ("terminate", "stop_epoch")

    def __init__(
        self,
        max_seconds: Annotated[float, Field(gt=0, description="the wall-clock budget of a run in seconds")],
    ) -> None:
        self.max_seconds = max_seconds
        self.start = 0.0
        self.elapsed = 0.0
        self.epoch_seconds: list[float] = []
        self.stopped = False
        self._epoch_start = 0.0
        self._elapsed_before = 0.0  # by the runs this one continues

    def on_begin(self) -> None:
        self.start = clock()
        self.stopped = False

    def on_epoch_begin(self) -> None:
        self._epoch_start = clock()

    def on_batch_end(self) -> None:
        ctx = self.ctx
        if clock() - self.start >= self.max_seconds:
            if ctx.epoch < ctx.total_epochs or ctx.step < batches_per_epoch(ctx):
                self.stopped = True
            ctx.terminate = ctx.stop_epoch = True

    def on_epoch_end(self) -> None:
        now = clock()
        self.epoch_seconds.append(now - self._epoch_start)
        used = now - self.start
        self.elapsed = self._elapsed_before + used
        mean_epoch = sum(self.epoch_seconds) / len(self.epoch_seconds)
        if used >= self.max_seconds or used + mean_epoch > self.max_seconds:
            if self.ctx.epoch < self.ctx.total_epochs:
                self.stopped = True
            self.ctx.terminate = True

    def on_end(self) -> None:
        self.elapsed = self._elapsed_before + clock() - self.start

    def state_dict(self) -> dict[str, Any]:
        return {"elapsed": self.elapsed, "epoch_seconds": list(self.epoch_seconds), "stopped": self.stopped}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        state = state or {}
        self.epoch_seconds = [float(s) for s in state.get("epoch_seconds", [])]
        self._elapsed_before = self.elapsed = float(state.get("elapsed", 0.0))


time_limit = TorchCallback(
    "time_limit",
    CallbackSetTimeLimit,
    label="Time Limit",
    man=man_with_example(CallbackSetTimeLimit, EXAMPLE),
)
mlr_callbacks.add(time_limit)
