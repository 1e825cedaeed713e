"""Resampling a learner on a task: :func:`resample` and its :class:`ResampleResult`.

:func:`resample` trains a fresh copy (:func:`sklearn.base.clone`) of a learner on the training
rows of every resampling iteration and predicts the test rows; the learner passed in is never
changed. The iterations run through :class:`joblib.Parallel` (``n_jobs``), so any joblib
backend works, e.g. ``with joblib.parallel_backend("dask"): resample(...)`` with a
``dask.distributed.Client`` running.

With ``validate="test"`` the learner of an iteration validates on that iteration's test rows:
they are handed to it as the training task's ``internal_valid_task``, as in mlr3.

Checkpoints: when the learner has a ``checkpoint`` callback or ``resume`` is a folder,
iteration ``i`` checkpoints to and resumes from the subfolder ``iter_<i>`` of that folder, so
the iterations never overwrite each other and an interrupted resample continues each
iteration where it stopped (see :mod:`mlrpy.run_folders`; the folder helpers are importable
from here too).

Example:
    >>> from mlrpy import lrn, rsmp, tsk
    >>> from mlrpy.resample import resample
    >>> rr = resample(tsk("iris"), lrn("classif.mlp", epochs=2, random_state=0),
    ...               rsmp("cv", folds=3, seed=1))
    >>> rr.iters, list(rr.score("classif.acc").columns)
    (3, ['task_id', 'learner_id', 'resampling_id', 'iteration', 'classif.acc'])
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from joblib import delayed
from sklearn.base import clone

from mlrpy.conversions import as_learner, as_resampling, as_task
from mlrpy.errors import ParameterError
from mlrpy.measures import Measure, resolve_measures
from mlrpy.prediction import Prediction, combine_predictions, with_task_info
from mlrpy.reporting import run_jobs
from mlrpy.resampling import Resampling
from mlrpy.run_folders import checkpoint_folders, iteration_params, subfolder_params
from mlrpy.tasks import Task

__all__ = [
    "MeasuresArg",
    "ResampleResult",
    "checkpoint_folders",
    "clone_learner",
    "instantiated_for",
    "iteration_params",
    "resample",
    "subfolder_params",
]

logger = logging.getLogger(__name__)

MeasuresArg = str | Measure | Sequence[str | Measure] | None


def clone_learner(learner: Any) -> Any:
    """An unfitted copy (:func:`sklearn.base.clone`) that keeps a changed ``id``.

    Example:
        >>> from mlrpy import lrn
        >>> from mlrpy.resample import clone_learner
        >>> learner = lrn("classif.mlp", epochs=3)
        >>> learner.id = "mlp_small"
        >>> copy = clone_learner(learner)
        >>> copy is learner, copy.id, copy.epochs
        (False, 'mlp_small', 3)
    """
    new = clone(learner)
    if new.id != learner.id:
        new.id = learner.id
    return new


def instantiated_for(resampling: Resampling, task: Task) -> Resampling:
    """``resampling`` itself if it is instantiated on ``task``'s rows, else an instantiated copy.

    The resampling passed in is never changed.

    Raises:
        ParameterError: ``resampling`` is instantiated with row ids that ``task`` lacks.

    Example:
        >>> from mlrpy import rsmp, tsk
        >>> from mlrpy.resample import instantiated_for
        >>> cv = rsmp("cv", folds=3, seed=1)
        >>> instance = instantiated_for(cv, tsk("iris"))
        >>> instance is cv, cv.is_instantiated, instance.iters
        (False, False, 3)
        >>> instantiated_for(instance, tsk("iris")) is instance
        True
    """
    if not resampling.is_instantiated:
        return copy.deepcopy(resampling).instantiate(task)
    rows = set(task.row_ids)
    used: set[Any] = set()
    for i in range(resampling.iters):
        used.update(resampling.train_set(i))
        used.update(resampling.test_set(i))
    missing = used - rows
    if missing:
        shown = sorted(missing, key=str)[:5]
        raise ParameterError(
            f"Resampling '{resampling.id}' was instantiated on task '{resampling.task_id}' and "
            f"uses row ids {shown}{' ...' if len(missing) > 5 else ''} that task '{task.id}' "
            f"does not have; instantiate it on this task or pass an uninstantiated resampling"
        )
    return resampling


# -- one iteration -----------------------------------------------------------------------------
def check_task(learner: Any, task: Task) -> None:
    """Raise unless ``learner`` can be trained on ``task`` (the learner's ``check_task``)."""
    learner.check_task(task)


def train_iteration(learner: Any, task: Task, train: list[Any], test: list[Any]) -> None:
    """Train ``learner`` on the ``train`` rows of ``task``.

    With ``validate="test"`` the ``test`` rows become the validation data: a copy of the task
    gets them as its ``internal_valid_task`` (mlr3's way), the task passed in is not changed.
    """
    if getattr(learner, "validate", None) != "test":
        learner.train(task, row_ids=train)
        return
    valid = task.clone().filter(test)
    valid.internal_valid_task = None
    training = task.clone()
    training.internal_valid_task = valid
    learner.train(training, row_ids=train)


@dataclass
class _Iteration:
    prediction: Prediction
    learner: Any
    internal_tuned_values: dict[str, Any] | None
    internal_valid_scores: dict[str, float] | None


def _run_iteration(
    task: Task, learner: Any, train: list[Any], test: list[Any], params: dict[str, Any],
    store_model: bool,
) -> _Iteration:
    fitted = clone_learner(learner)
    if params:
        fitted.set_params(**params)
    train_iteration(fitted, task, train, test)
    # weights and positive class of the task, whatever kind of learner predicted
    prediction = with_task_info(fitted.predict(task, row_ids=test), task, test)
    return _Iteration(
        prediction=prediction,
        learner=fitted if store_model else None,
        internal_tuned_values=getattr(fitted, "internal_tuned_values", None),
        internal_valid_scores=getattr(fitted, "internal_valid_scores", None),
    )


def iteration_jobs(
    task: Task, learner: Any, resampling: Resampling, store_models: bool,
    folders: dict[str, Path] | None = None,
) -> list[Any]:
    """One :func:`joblib.delayed` call per iteration of the instantiated ``resampling``.

    ``folders``: the learner's :func:`checkpoint_folders` when already known.
    """
    if folders is None:
        folders = checkpoint_folders(learner)
    return [
        delayed(_run_iteration)(
            task, learner, resampling.train_set(i), resampling.test_set(i),
            iteration_params(folders, i), store_models,
        )
        for i in range(resampling.iters)
    ]


# -- result ------------------------------------------------------------------------------------
class ResampleResult:
    """The outcome of :func:`resample`: one prediction (and learner) per iteration.

    Attributes:
        task: the task.
        learner: an unfitted copy of the learner that was resampled.
        resampling: the instantiated resampling (its splits).
        internal_tuned_values: per iteration, the learner's ``internal_tuned_values``
            (``{"epochs": best epoch}`` with early stopping, else ``None``).
        internal_valid_scores: per iteration, the learner's last validation scores
            (``None`` without validation).

    Example:
        >>> from mlrpy import lrn, rsmp, tsk
        >>> from mlrpy.resample import resample
        >>> rr = resample(tsk("iris"), lrn("classif.mlp", epochs=2, random_state=0),
        ...               rsmp("holdout", seed=1), store_models=True)
        >>> rr.aggregate(["classif.acc", "classif.ce"]).keys()
        dict_keys(['classif.acc', 'classif.ce'])
        >>> len(rr.prediction()), rr.learners[0].model.epochs
        (50, 2)
    """

    def __init__(
        self,
        task: Task,
        learner: Any,
        resampling: Resampling,
        iterations: Sequence[_Iteration],
        store_models: bool,
    ) -> None:
        self.task = task
        self.learner = learner
        self.resampling = resampling
        self.store_models = store_models
        self._predictions = [it.prediction for it in iterations]
        self._learners = [
            it.learner if store_models else clone_learner(learner) for it in iterations
        ]
        self.internal_tuned_values = [it.internal_tuned_values for it in iterations]
        self.internal_valid_scores = [it.internal_valid_scores for it in iterations]

    @property
    def iters(self) -> int:
        """Number of iterations."""
        return len(self._predictions)

    @property
    def task_id(self) -> str:
        return self.task.id

    @property
    def learner_id(self) -> str:
        return str(self.learner.id)

    @property
    def resampling_id(self) -> str:
        return self.resampling.id

    @property
    def learners(self) -> list[Any]:
        """One learner per iteration: fitted with ``store_models=True``, else unfitted copies."""
        return list(self._learners)

    def predictions(self) -> list[Prediction]:
        """The test-set prediction of each iteration."""
        return list(self._predictions)

    def prediction(self) -> Prediction:
        """All test-set predictions combined into one."""
        return combine_predictions(self._predictions)

    def score(self, measures: MeasuresArg = None) -> pd.DataFrame:
        """One row per iteration: ``task_id``, ``learner_id``, ``resampling_id``,
        ``iteration`` and one column per measure.

        Args:
            measures: measure keys or :class:`~mlrpy.measures.Measure` objects, one or a
                list (``None`` or ``[]``: the task type's default measure).

        Raises:
            UnknownKeyError: an unknown measure key.
            ParameterError: a measure of another task type, two measures with one id, or a
                probability measure on response-only predictions.
        """
        ms = resolve_measures(measures, self.task.task_type, self.task.id)
        rows = []
        for i, p in enumerate(self._predictions):
            row: dict[str, Any] = {
                "task_id": self.task_id,
                "learner_id": self.learner_id,
                "resampling_id": self.resampling_id,
                "iteration": i,
            }
            for m in ms:
                row[m.id] = m.score(p)
            rows.append(row)
        return pd.DataFrame(
            rows, columns=["task_id", "learner_id", "resampling_id", "iteration", *[m.id for m in ms]]
        )

    def aggregate(self, measures: MeasuresArg = None) -> dict[str, float]:
        """Each measure aggregated over the iterations (``Measure.aggregate``, the mean):
        ``{measure id: value}``. ``measures`` and errors as in :meth:`score`."""
        ms = resolve_measures(measures, self.task.task_type, self.task.id)
        scores = self.score(ms)
        return {m.id: m.aggregate(scores[m.id].tolist()) for m in ms}

    def __repr__(self) -> str:
        return (
            f"<ResampleResult> of {self.iters} iterations\n"
            f"* Task: {self.task_id}\n* Learner: {self.learner_id}\n"
            f"* Resampling: {self.resampling_id}"
        )


def resample(
    task: Task | str,
    learner: Any,
    resampling: Resampling | str,
    store_models: bool = False,
    n_jobs: int | None = None,
    progress: bool | None = None,
) -> ResampleResult:
    """Train and test ``learner`` on every iteration of ``resampling`` (mlr3's ``resample``).

    Each iteration trains a fresh :func:`~sklearn.base.clone` of ``learner`` on the training
    rows (with ``validate="test"`` it validates on the test rows) and predicts the test rows.
    The learner and resampling passed in are never changed; an uninstantiated resampling is
    instantiated on a copy. Checkpoint and resume folders get a subfolder ``iter_<i>`` per
    iteration (see the module documentation).

    Args:
        task: a task or a task key (see :func:`~mlrpy.conversions.as_task`).
        learner: an mlrpy learner, a learner key or a scikit-learn estimator or Pipeline
            (see :func:`~mlrpy.conversions.as_learner`).
        resampling: a resampling (instantiated or not) or a resampling key.
        store_models: keep the fitted learner of every iteration in ``learners``.
        n_jobs: passed to :class:`joblib.Parallel` (``None``: sequential unless a joblib
            backend context such as ``parallel_backend("dask")`` says otherwise).
        progress: a progress bar over the iterations on stderr: ``None`` when stderr is a
            terminal, ``True`` always, ``False`` never (see :mod:`mlrpy.reporting`).

    Returns:
        A :class:`ResampleResult`.

    Example:
        >>> from mlrpy import lrn, rsmp, tsk
        >>> from mlrpy.resample import resample
        >>> rr = resample(tsk("iris"), lrn("classif.mlp", epochs=2, random_state=0),
        ...               rsmp("cv", folds=3, seed=1))
        >>> 0 <= rr.aggregate()["classif.ce"] <= 1
        True
    """
    task = as_task(task)
    learner = as_learner(learner)
    resampling = instantiated_for(as_resampling(resampling), task)
    check_task(learner, task)
    template = clone_learner(learner)
    logger.info(
        "resample: learner '%s' on task '%s', %d iterations of '%s'",
        template.id, task.id, resampling.iters, resampling.id,
    )
    jobs = iteration_jobs(task, template, resampling, store_models)
    iterations = run_jobs(jobs, n_jobs, progress, f"resample {template.id}")
    return ResampleResult(task, template, resampling, iterations, store_models)
