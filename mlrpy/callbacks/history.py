"""``history``: one row per epoch with the training loss and every evaluated score."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlrpy.callbacks.base import CallbackSet, TorchCallback
from mlrpy.callbacks.running_mean import EpochLoss


class CallbackSetHistory(CallbackSet):
    """Records the training history: one row per epoch.

    Columns: ``epoch``, ``train.loss`` (sample-weighted mean over the epoch's batches),
    ``train.<measure>`` in evaluation epochs, ``valid.loss`` and ``valid.<measure>`` in
    epochs with validation, and any column another callback adds through
    :meth:`log` (``lr`` from the LR schedulers). Missing entries are ``NaN``.

    With ``warm_start`` or ``resume`` the saved rows are restored and new epochs are appended.

    State: a :class:`pandas.DataFrame`, stored in ``learner.model.callbacks["history"]``.

    Example:
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("classif.mlp", epochs=3, callbacks=["history"], random_state=0)
        >>> _ = learner.train(tsk("iris"))
        >>> learner.model.callbacks["history"]["epoch"].tolist()
        [1, 2, 3]
    """

    def __init__(self) -> None:
        self.rows: list[dict[Any, Any]] = []
        self._loss = EpochLoss()
        self._extra: dict[str, Any] = {}

    def log(self, name: str, value: Any) -> None:
        """Add a column value to the current epoch's row (callable by other callbacks)."""
        self._extra[name] = value

    def on_epoch_begin(self) -> None:
        self._loss.reset()
        self._extra = {}

    def on_batch_end(self) -> None:
        ctx = self.ctx
        self._loss.add(ctx.loss, len(ctx.batch.index))  # type: ignore[arg-type,union-attr]

    def on_epoch_end(self) -> None:
        ctx = self.ctx
        row: dict[str, Any] = {"epoch": ctx.epoch, "train.loss": self._loss.value()}
        for name, value in (ctx.last_scores_train or {}).items():
            row[f"train.{name}"] = value
        for name, value in (ctx.last_scores_valid or {}).items():
            row[f"valid.{name}"] = value
        row.update(self._extra)
        self.rows.append(row)

    def state_dict(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def load_state_dict(self, state: pd.DataFrame) -> None:
        self.rows = [dict(r) for r in state.to_dict("records")] if state is not None else []


def log_to_history(ctx: Any, name: str, value: Any) -> None:
    """Add ``name=value`` to the current epoch's row of every ``history`` callback in the run."""
    for cb in ctx.callbacks:
        if isinstance(cb, CallbackSetHistory):
            cb.log(name, value)


history = TorchCallback(
    "history",
    CallbackSetHistory,
    label="History",
    man=CallbackSetHistory.__doc__,
)
