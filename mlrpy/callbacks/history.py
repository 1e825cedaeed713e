"""``history``: one row per epoch with the training loss and every evaluated score."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks

__all__ = ["CallbackSetHistory", "columns_of", "history", "log_to_history", "rows_of"]


def columns_of(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Rows as columns: column name → 1-D numpy array (``NaN`` where a row lacks the column),
    in order of first appearance. ``pandas.DataFrame(columns_of(rows))`` is the table.

    Example:
        >>> from mlrpy.callbacks.history import columns_of
        >>> columns_of([{"epoch": 1, "loss": 0.5}, {"epoch": 2}])
        {'epoch': array([1, 2]), 'loss': array([0.5, nan])}
    """
    names = list(dict.fromkeys(name for row in rows for name in row))
    columns = {str(name): [row.get(name, math.nan) for row in rows] for name in names}
    if all(type(v) in (int, float) for values in columns.values() for v in values):
        # what pandas infers for plain numbers, without building a DataFrame (~0.5 ms a fit)
        try:
            return {
                name: np.array(values, dtype=np.int64 if all(type(v) is int for v in values) else np.float64)
                for name, values in columns.items()
            }
        except OverflowError:  # an int beyond int64: pandas decides
            pass
    frame = pd.DataFrame(rows)
    return {str(name): frame[name].to_numpy() for name in frame.columns}


def rows_of(state: Any) -> list[dict[str, Any]]:
    """The rows of a column state (or of a ``DataFrame``, the format of older saves)."""
    if state is None:
        return []
    return [{str(k): v for k, v in row.items()} for row in pd.DataFrame(state).to_dict("records")]


class CallbackSetHistory(CallbackSet):
    """Records the training history: one row per epoch.

    Columns: ``epoch``, ``train.loss`` (``ctx.train_loss``: the mean over the epoch's batches,
    weighted by their sizes),
    ``train.<measure>`` in evaluation epochs, ``valid.loss`` and ``valid.<measure>`` in
    epochs with validation, and any column another callback adds through
    :meth:`log` (``lr`` from the LR schedulers). Missing entries are ``NaN``.

    With ``warm_start`` or ``resume`` the saved rows are restored and new epochs are appended.

    State (``learner.model.callbacks["history"]``): the table as plain columns, a dict of
    column name → 1-D numpy array; ``pandas.DataFrame(state)`` gives it as a data frame.

    Example:
        >>> import pandas as pd
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("classif.mlp", epochs=3, callbacks=["history"], random_state=0)
        >>> state = learner.train(tsk("iris")).model.callbacks["history"]
        >>> state["epoch"].tolist()
        [1, 2, 3]
        >>> pd.DataFrame(state).columns.tolist()
        ['epoch', 'train.loss']
    """

    reads: ClassVar[tuple[str, ...]] = (
        "epoch", "last_scores_train", "last_scores_valid",
    )
    writes: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._extra: dict[str, Any] = {}

    def log(self, name: str, value: Any) -> None:
        """Add a column value to the current epoch's row (callable by other callbacks)."""
        self._extra[name] = value

    def on_epoch_begin(self) -> None:
        self._extra = {}

    def on_epoch_end(self) -> None:
        ctx = self.ctx
        loss = ctx.train_loss
        row: dict[str, Any] = {"epoch": ctx.epoch, "train.loss": math.nan if loss is None else loss}
        for name, value in (ctx.last_scores_train or {}).items():
            row[f"train.{name}"] = value
        for name, value in (ctx.last_scores_valid or {}).items():
            row[f"valid.{name}"] = value
        row.update(self._extra)
        self.rows.append(row)

    def state_dict(self) -> dict[str, np.ndarray]:
        return columns_of(self.rows)

    def load_state_dict(self, state: Any) -> None:
        self.rows = rows_of(state)


def log_to_history(ctx: Any, name: str, value: Any) -> None:
    """Add ``name=value`` to the current epoch's row of every ``history`` callback in the run."""
    for cb in ctx.callbacks:
        if isinstance(cb, CallbackSetHistory):
            cb.log(name, value)


history = TorchCallback("history", CallbackSetHistory, label="History")
mlr_callbacks.add(history)
