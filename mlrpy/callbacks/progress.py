"""``progress``: tqdm progress bars and one summary line per epoch."""

from __future__ import annotations

import sys
from typing import Annotated, Any, ClassVar

from pydantic import Field
from tqdm.auto import tqdm

from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks


class CallbackSetProgress(CallbackSet):
    """Progress bars for training, validation and prediction, and per-epoch summaries.

    Each epoch ends with a line such as
    ``Epoch 3/10: train.loss=0.512 valid.loss=0.601 valid.classif.acc=0.933``.

    Example:
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("classif.mlp", epochs=2, callbacks=["progress"], random_state=0,
        ...               **{"cb.progress.digits": 2, "cb.progress.bars": False})
        >>> _ = learner.train(tsk("iris"))  # doctest: +ELLIPSIS
        Epoch 1/2: train.loss=...
        Epoch 2/2: train.loss=...
    """

    rank_zero_only: ClassVar[bool] = True  # writes or prints: once per run, on rank 0
    reads: ClassVar[tuple[str, ...]] = (
        "epoch", "total_epochs", "loader_train", "last_scores_train", "last_scores_valid",
    )
    writes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        digits: Annotated[int, Field(ge=0, le=16, description="decimals shown for losses and scores")] = 3,
        bars: Annotated[
            bool, Field(description="draw tqdm bars (hidden anyway when stderr is not a terminal)")
        ] = True,
    ) -> None:
        self.digits = digits
        self.bars = bars
        self._bar: Any = None

    def _open(self, total: int, desc: str) -> Any:
        disable = None if self.bars else True  # None: tqdm hides the bar on a non-terminal
        return tqdm(total=total, desc=desc, leave=False, disable=disable, file=sys.stderr)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def on_epoch_begin(self) -> None:
        ctx = self.ctx
        self._bar = self._open(len(ctx.loader_train), f"Epoch {ctx.epoch}/{ctx.total_epochs}")

    def on_batch_end(self) -> None:
        self._bar.update(1)

    def on_before_valid(self) -> None:
        self._close()
        ctx = self.ctx
        validates = ctx.loader_valid is not None and (
            ctx.epoch % ctx.eval_freq == 0 or ctx.epoch == ctx.total_epochs
        )
        if validates:
            self._bar = self._open(len(ctx.loader_valid), "Validation")

    def on_batch_valid_end(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def on_epoch_end(self) -> None:
        self._close()
        ctx = self.ctx
        parts = [] if ctx.train_loss is None else [f"train.loss={ctx.train_loss:.{self.digits}f}"]
        for prefix, scores in (("train", ctx.last_scores_train), ("valid", ctx.last_scores_valid)):
            for name, value in (scores or {}).items():
                parts.append(f"{prefix}.{name}={value:.{self.digits}f}")
        print(f"Epoch {ctx.epoch}/{ctx.total_epochs}: " + " ".join(parts), flush=True)

    def on_exit(self) -> None:
        self._close()

    def on_predict_begin(self) -> None:
        self._bar = self._open(len(self.ctx.loader_predict), "Predict")

    def on_predict_batch_end(self) -> None:
        self._bar.update(1)

    def on_predict_end(self) -> None:
        self._close()


progress = TorchCallback(
    "progress",
    CallbackSetProgress,
    label="Progress",
    packages=("mlrpy", "torch", "tqdm"),
)
mlr_callbacks.add(progress)
