"""Evaluating one configuration, the archive of all of them, and :class:`TuningResult`.

Each configuration is resampled (:func:`~mlrpy.resample.resample`) on the same splits. The
archive has one row per configuration, row ``j`` being configuration ``j``:

* its parameter values, one column per searched parameter;
* the aggregated score, in the column named by the measure id;
* ``epochs``: with internal tuning, the epochs found by early stopping (mean over the
  iterations, rounded up);
* ``scores``: the score of every resampling iteration, a list;
* ``runtime``: seconds spent on the configuration;
* ``error``: ``None``, or the error that made the configuration fail (``on_error="warn"``);
* ``pruned``: with the optuna tuner, whether the trial was pruned.

A learner that checkpoints (or resumes) writes the iterations of configuration ``j`` to
``<folder>/config_<j>/iter_<i>``, so configurations never share a folder.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlrpy.errors import ParameterError
from mlrpy.measures import Measure
from mlrpy.resample import clone_learner, resample
from mlrpy.resampling import Resampling
from mlrpy.run_folders import checkpoint_folders, subfolder_params
from mlrpy.tasks import Task

__all__ = ["ConfigResult", "TuningResult", "archive_frame", "best_index", "evaluate_config"]


@dataclass
class ConfigResult:
    """What evaluating one configuration gave."""

    params: dict[str, Any]
    score: float = math.nan
    scores: list[float] = field(default_factory=list)
    runtime: float = 0.0
    error: str | None = None
    epochs: int | None = None
    pruned: bool = False


def _internal_epochs(rr: Any, config: dict[str, Any]) -> int:
    found = [v["epochs"] for v in rr.internal_tuned_values if v is not None]
    if len(found) != rr.iters:
        raise ParameterError(
            f"tune(): internal tuning of 'epochs' got no early-stopping result in "
            f"{rr.iters - len(found)} of {rr.iters} iterations (config {config})"
        )
    return max(1, math.ceil(float(np.mean(found))))


def evaluate_config(
    task: Task,
    learner: Any,
    resampling: Resampling,
    measure: Measure,
    config: dict[str, Any],
    index: int,
    internal: bool,
    folders: dict[str, Path],
    on_error: str,
    n_jobs: int | None = 1,
    prepare: Any = None,
) -> ConfigResult:
    """Resample ``learner`` with ``config`` (configuration number ``index``).

    ``folders`` are the learner's :func:`~mlrpy.resample.checkpoint_folders`; each moves to
    its subfolder ``config_<index>``. ``prepare(learner)`` may change the configured learner
    (the optuna tuner attaches its pruning callback). With ``on_error="warn"`` an exception is
    recorded in the result instead of raised (``KeyboardInterrupt`` always propagates).
    """
    start = time.perf_counter()
    result = ConfigResult(params=dict(config))
    try:
        configured = clone_learner(learner).set_params(**config)
        if folders:
            configured.set_params(**subfolder_params(folders, f"config_{index}"))
        if prepare is not None:
            prepare(configured)
        rr = resample(task, configured, resampling, n_jobs=n_jobs, progress=False)
        result.scores = [float(s) for s in rr.score([measure])[measure.id]]
        result.score = measure.aggregate(result.scores)
        if internal:
            result.epochs = _internal_epochs(rr, config)
    except Exception as err:
        if on_error == "raise":
            raise
        result.error = f"{type(err).__name__}: {err}"
        result.score, result.scores = math.nan, []
    result.runtime = time.perf_counter() - start
    return result


def archive_frame(
    names: list[str], results: list[ConfigResult], measure: Measure, internal: bool, pruning: bool
) -> pd.DataFrame:
    """The archive (see the module documentation) of ``results``."""
    rows = []
    for r in results:
        row: dict[str, Any] = {**r.params, measure.id: r.score}
        if internal:
            row["epochs"] = r.epochs
        row.update(scores=r.scores, runtime=r.runtime, error=r.error)
        if pruning:
            row["pruned"] = r.pruned
        rows.append(row)
    columns = [*names, measure.id, *(["epochs"] if internal else []), "scores", "runtime", "error"]
    frame = pd.DataFrame(rows, columns=[*columns, *(["pruned"] if pruning else [])])
    # keep None for "no error" (pandas would store text as strings with NaN for None)
    frame["error"] = pd.Series([r.error for r in results], index=frame.index, dtype=object)
    return frame


def best_index(results: list[ConfigResult], measure: Measure) -> int:
    """The index of the best configuration that neither failed nor was pruned.

    Raises:
        ParameterError: every configuration failed, was pruned or scored NaN.
    """
    scores = np.array(
        [math.nan if r.error is not None or r.pruned else r.score for r in results], dtype=float
    )
    if np.isnan(scores).all():
        failed = [r for r in results if r.error is not None]
        detail = f"; the first error: {failed[0].error}" if failed else ""
        raise ParameterError(
            f"tune(): no configuration has a score on '{measure.id}' (each failed, was pruned or "
            f"scored NaN); nothing to choose from{detail}"
        )
    return int(np.nanargmin(scores) if measure.minimize else np.nanargmax(scores))


class TuningResult:
    """The outcome of :func:`~mlrpy.tuning.tune`.

    Attributes:
        archive: one row per configuration (see :mod:`mlrpy.tuning.archive`).
        best_params: the best configuration (including ``epochs`` with internal tuning).
        best_score: its aggregated score.
        measure: the measure optimised.
        learner: the learner as given to :func:`~mlrpy.tuning.tune` (an unfitted copy).
        task: the task.
        internal_tuned_values: ``{"epochs": n}`` of the best configuration, or ``None``.
        study: the optuna study with the optuna tuner, else ``None``.
    """

    def __init__(
        self,
        archive: pd.DataFrame,
        best_params: dict[str, Any],
        best_score: float,
        measure: Measure,
        learner: Any,
        task: Task,
        internal_tuned_values: dict[str, int] | None,
        study: Any = None,
    ) -> None:
        self.archive = archive
        self.best_params = best_params
        self.best_score = best_score
        self.measure = measure
        self.learner = learner
        self.task = task
        self.internal_tuned_values = internal_tuned_values
        self.study = study

    def configured_learner(self) -> Any:
        """An unfitted copy of the learner with :attr:`best_params`, ready to train on all data.

        With internal tuning it trains ``epochs`` = the tuned value without early stopping
        (``patience=0``, ``validate=None``); ``validate="test"`` is dropped too (there is no
        test set outside a resampling). Checkpoints go to the subfolder ``best`` of the
        learner's checkpoint folders.
        """
        learner = clone_learner(self.learner).set_params(**self.best_params)
        if self.internal_tuned_values is not None:
            learner.set_params(patience=0, validate=None)
        elif getattr(learner, "validate", None) == "test":
            learner.set_params(validate=None)
        folders = checkpoint_folders(learner)
        if folders:
            learner.set_params(**subfolder_params(folders, "best"))
        return learner

    def best_learner(self) -> Any:
        """:meth:`configured_learner`, trained on the whole task."""
        return self.configured_learner().train(self.task)

    def __repr__(self) -> str:
        return (
            f"<TuningResult> {len(self.archive)} configurations, measure '{self.measure.id}'\n"
            f"* Best score: {self.best_score:.6g}\n* Best params: {self.best_params}"
        )
