"""``csv_logger``: one CSV row per epoch, appended and flushed as each epoch ends."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks
from mlrpy.callbacks.running_mean import epoch_scores
from mlrpy.io import user_path

EXAMPLE = 't_clbk("csv_logger", path="log/history.csv")'


class CallbackSetCSVLogger(CallbackSet):
    """Logs one CSV row per epoch to ``path``: the header when the run starts, then each
    epoch's row, appended and flushed as the epoch ends. If a later epoch fails, the rows of
    the completed epochs are already in the file.

    Columns: ``epoch``, ``train.loss`` (sample-weighted mean over the epoch's batches),
    ``train.<measure>`` for ``measures_train`` and ``valid.loss`` / ``valid.<measure>``
    when there is validation data; cells of epochs without evaluation stay empty. A new run
    overwrites the file; a resumed run (``ctx.epoch > 0`` at the start) appends to it
    without a second header. Missing parent folders of ``path`` are created; ``~`` is expanded
    and URLs are refused.

    Example:
        >>> import os, tempfile
        >>> import pandas as pd
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "log.csv")
        ...     learner = lrn("classif.mlp", epochs=2, random_state=0, validate=0.3,
        ...                   callbacks=[t_clbk("csv_logger", path=path)])
        ...     _ = learner.train(tsk("iris"))
        ...     pd.read_csv(path).columns.tolist()
        ['epoch', 'train.loss', 'valid.loss']
    """

    rank_zero_only: ClassVar[bool] = True  # writes or prints: once per run, on rank 0
    reads: ClassVar[tuple[str, ...]] = (
        "epoch", "last_scores_train", "last_scores_valid",
    )
    writes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, path: Annotated[str, Field(min_length=1, description="the CSV file to write")]
    ) -> None:
        self.path: Path = user_path(path, "path")
        self._file: Any = None
        self._writer: Any = None

    def on_begin(self) -> None:
        ctx = self.ctx
        columns = ["epoch", "train.loss"]
        columns += [f"train.{m.id}" for m in ctx.measures_train or []]
        if ctx.loader_valid is not None:
            columns += ["valid.loss"] + [f"valid.{m.id}" for m in ctx.measures_valid or []]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        append = ctx.epoch > 0 and self.path.exists() and self.path.stat().st_size > 0
        self._file = open(self.path, "a" if append else "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.DictWriter(self._file, fieldnames=columns, restval="", extrasaction="ignore")
        if not append:
            self._writer.writeheader()
            self._file.flush()

    def on_epoch_end(self) -> None:
        ctx = self.ctx
        row = {"epoch": ctx.epoch, "train.loss": math.nan, **epoch_scores(ctx)}
        self._writer.writerow(row)
        self._file.flush()

    def on_exit(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


csv_logger = TorchCallback(
    "csv_logger",
    CallbackSetCSVLogger,
    label="CSV Logger",
    man=man_with_example(CallbackSetCSVLogger, EXAMPLE),
)
mlr_callbacks.add(csv_logger)
