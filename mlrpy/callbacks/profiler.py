"""``profiler``: the wall time every other callback spends in each stage."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Annotated, Any, ClassVar

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks

__all__ = ["CallbackSetProfiler", "format_timings", "profiler"]

EXAMPLE = 't_clbk("profiler")'

#: ``{callback id: {stage: {"seconds": total, "calls": count}}}``
Timings = dict[str, dict[str, dict[str, float]]]


def format_timings(timings: Timings) -> str:
    """A table of ``timings``, the most expensive callback stage first.

    Example:
        >>> print(format_timings({"history": {"on_epoch_end": {"seconds": 0.002, "calls": 4}}}))
        callback  stage         calls  total s  mean ms  share
        history   on_epoch_end      4    0.002    0.500   100%
    """
    rows = [(cid, stage, t) for cid, stages in timings.items() for stage, t in stages.items()]
    rows.sort(key=lambda row: -row[2]["seconds"])
    total = sum(t["seconds"] for _, _, t in rows) or 1.0
    cells = [["callback", "stage", "calls", "total s", "mean ms", "share"]]
    for cid, stage, t in rows:
        mean_ms = 1000 * t["seconds"] / max(t["calls"], 1)
        share = f"{100 * t['seconds'] / total:.0f}%"
        cells.append([cid, stage, f"{int(t['calls'])}", f"{t['seconds']:.3f}", f"{mean_ms:.3f}", share])
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = []
    for row in cells:
        left = [cell.ljust(w) for cell, w in zip(row[:2], widths)]
        right = [cell.rjust(w) for cell, w in zip(row[2:], widths[2:])]
        lines.append("  ".join(left + right).rstrip())
    return "\n".join(lines)


class CallbackSetProfiler(CallbackSet):
    """Measures the wall time every other callback spends in each stage of training.

    Each stage method of the run's other callbacks is timed (``time.perf_counter``) when it
    is called: the loop's dispatch lists are built with the profiler's timing wrapper
    around them (see :class:`mlrpy.callbacks.dispatch.StageCaller`), so nothing is changed on
    the callbacks themselves and a run without the profiler pays nothing. At ``on_end`` a
    table of the totals is printed, the most expensive callback stage first (callbacks that
    run after the profiler at ``on_end``, such as ``checkpoint``, are in its state but not
    yet in the table).

    On an accelerator the device works asynchronously, so a stage's time is the time it
    took to queue its work unless ``synchronize`` makes every timed call wait for the device
    before and after (slower, but each stage's own device time is then counted).

    State (``learner.model.callbacks["profiler"]``): ``{callback id: {stage: {"seconds":
    total, "calls": count}}}``; a resumed run adds to the saved totals.

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> learner = lrn("classif.mlp", epochs=2, random_state=0,
        ...               callbacks=["history", t_clbk("profiler", report=False)])
        >>> timings = learner.train(tsk("iris")).model.callbacks["profiler"]
        >>> timings["history"]["on_epoch_end"]["calls"]
        2
    """

    rank_zero_only: ClassVar[bool] = True  # writes or prints: once per run, on rank 0
    reads: ClassVar[tuple[str, ...]] = ("device",)
    writes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        report: Annotated[bool, Field(description="print the table of timings when training ends")] = True,
        synchronize: Annotated[
            bool, Field(description="wait for the accelerator before and after each timed call")
        ] = False,
    ) -> None:
        self.report = report
        self.synchronize = synchronize
        self.timings: Timings = {}

    def wrap_stage(self, callback_id: str, stage: str, method: Callable[[], Any]) -> Callable[[], Any]:
        """``method`` timed into ``timings[callback_id][stage]`` at each call."""
        entry = self.timings.setdefault(callback_id, {}).setdefault(stage, {"seconds": 0.0, "calls": 0})
        clock = time.perf_counter

        @functools.wraps(method)
        def timed() -> Any:
            sync = self._sync
            if sync is not None:
                sync()
            start = clock()
            try:
                return method()
            finally:
                if sync is not None:
                    sync()
                entry["seconds"] += clock() - start
                entry["calls"] += 1

        return timed

    @property
    def _sync(self) -> Callable[[], None] | None:
        ctx = self.ctx
        if not self.synchronize or ctx is None or ctx.device is None or ctx.device.type != "cuda":
            return None
        return torch.cuda.synchronize

    def on_end(self) -> None:
        if self.report:
            print(format_timings(self.state_dict()), flush=True)

    def state_dict(self) -> Timings:
        # stages the run never reached (e.g. on_exit before it ends) are left out
        return {
            cid: {stage: dict(t) for stage, t in stages.items() if t["calls"]}
            for cid, stages in self.timings.items()
            if any(t["calls"] for t in stages.values())
        }

    def load_state_dict(self, state: Timings) -> None:
        for cid, stages in state.items():
            for stage, saved in stages.items():
                entry = self.timings.setdefault(cid, {}).setdefault(stage, {"seconds": 0.0, "calls": 0})
                entry["seconds"] += float(saved["seconds"])
                entry["calls"] += int(saved["calls"])


profiler = TorchCallback(
    "profiler",
    CallbackSetProfiler,
    label="Profiler",
    man=man_with_example(CallbackSetProfiler, EXAMPLE),
)
mlr_callbacks.add(profiler)
