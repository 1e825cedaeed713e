"""Watching a validation score: the base class of callbacks that act when a score stops
improving (``early_stopping``, ``lr_reduce_on_plateau``), like Keras' ``MonitorCallback``.

It holds the three parameters such callbacks share, declared once here as annotated types
(:data:`Monitor`, :data:`Mode`, :data:`MinDelta`) that subclasses use in their ``__init__``
signatures, and the logic behind them: which score to watch, whether lower is better, what
counts as an improvement, and the error when the run has no validation data.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from mlrpy.callbacks.base import CallbackSet
from mlrpy.errors import ParameterError

__all__ = ["CallbackSetMonitor", "MinDelta", "Mode", "Monitor", "resolve_monitor"]

#: ``monitor`` parameter: a validation measure id or ``"loss"``.
Monitor = Annotated[
    str | None,
    Field(description="the validation score to watch: a measure id or 'loss'; None: the first "
          "validation measure, else 'loss'"),
]
#: ``mode`` parameter: whether lower or higher is better.
Mode = Annotated[
    Literal["auto", "min", "max"],
    Field(description="'min': lower is better, 'max': higher is better, 'auto': from the "
          "measure's minimize (the loss is minimised)"),
]
#: ``min_delta`` parameter: the smallest change that counts as an improvement.
MinDelta = Annotated[float, Field(ge=0, description="the smallest change that counts as an improvement")]


def resolve_monitor(ctx: Any, owner: str, monitor: str | None, mode: str = "auto") -> tuple[str, bool]:
    """``(score name, minimize)`` for a run; raises :class:`ParameterError` when the run has
    no validation data or ``monitor`` is not one of its validation scores."""
    if ctx.loader_valid is None:
        raise ParameterError(
            f"Callback '{owner}' watches a validation score, but this run has no validation data; "
            "set validate= (a fraction, 'predefined', or 'test' inside resample()) or pass "
            "fit(..., validation_data=(X_valid, y_valid))"
        )
    measures = {m.id: m for m in ctx.measures_valid or []}
    name = next(iter(measures), "loss") if monitor is None else monitor
    if name != "loss" and name not in measures:
        valid = ", ".join(repr(v) for v in ["loss", *measures])
        raise ParameterError(
            f"Callback '{owner}': monitor={name!r} is not a validation score; valid: {valid} "
            f"(add the measure to measures_valid)"
        )
    if mode != "auto":
        return name, mode == "min"
    return name, name == "loss" or bool(measures[name].minimize)


class CallbackSetMonitor(CallbackSet):
    """Base class of callbacks that watch one validation score.

    Subclasses take ``monitor: Monitor = None``, ``mode: Mode = "auto"`` and, if they use
    :meth:`improves`, ``min_delta: MinDelta = 0.0`` in their ``__init__`` (so the parameters
    and their documentation come from one place), pass them to ``super().__init__``, call
    :meth:`resolve_monitor` in ``on_begin`` and read the score with :meth:`current_score`.

    Example:
        >>> from mlrpy.callbacks.monitor import CallbackSetMonitor
        >>> watcher = CallbackSetMonitor(mode="max", min_delta=0.1)
        >>> watcher.improves(0.85, best=0.8), watcher.improves(0.95, best=0.8)
        (False, True)
        >>> watcher.improves(float("nan"), best=None)  # NaN never improves
        False
    """

    reads: ClassVar[tuple[str, ...]] = ("epoch", "last_scores_valid")
    writes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, monitor: str | None = None, mode: str = "auto", min_delta: float = 0.0) -> None:
        self.monitor = monitor
        self.mode = mode
        self.min_delta = min_delta
        self.minimize = mode != "max"

    def resolve_monitor(self) -> None:
        """Pick the watched score and its direction for this run (call it in ``on_begin``)."""
        self.monitor, self.minimize = resolve_monitor(self.ctx, self.id, self.monitor, self.mode)

    def current_score(self) -> float | None:
        """The watched score of this epoch; ``None`` in an epoch without validation."""
        scores = self.ctx.last_scores_valid
        return None if scores is None else float(scores[self.monitor])  # type: ignore[index]

    def improves(self, score: float, best: float | None) -> bool:
        """Whether ``score`` beats ``best`` by more than ``min_delta``; NaN never improves,
        anything improves on no best (or a NaN best)."""
        if math.isnan(score):
            return False
        if best is None or math.isnan(best):
            return True
        if self.minimize:
            return score < best - self.min_delta
        return score > best + self.min_delta
