"""Resampling and benchmarking: :func:`resample`, :func:`benchmark` and their results.

:func:`resample` trains a fresh copy (:func:`sklearn.base.clone`) of a learner on the training
rows of every resampling iteration and predicts the test rows; the learner passed in is never
changed. :func:`benchmark` does the same for every (task, learner, resampling) row of a
design built by :func:`benchmark_grid`, with the same splits for every learner on a task.

Both run the iterations through :class:`joblib.Parallel` (``n_jobs``), so any joblib backend
works, e.g. ``with joblib.parallel_backend("dask"): resample(...)`` with a
``dask.distributed.Client`` running.

Example:
    >>> from mlrpy import lrn, tsk
    >>> from mlrpy.benchmark import resample
    >>> from mlrpy.resampling import rsmp
    >>> rr = resample(tsk("iris"), lrn("classif.mlp", epochs=2, random_state=0),
    ...               rsmp("cv", folds=3, seed=1))
    >>> rr.iters, list(rr.score("classif.acc").columns)
    (3, ['task_id', 'learner_id', 'resampling_id', 'iteration', 'classif.acc'])
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone

from mlrpy.dictionary import duplicated
from mlrpy.errors import ParameterError
from mlrpy.measures import Measure, as_measures, default_measure, resolve_measures
from mlrpy.prediction import Prediction, PredictionClassif
from mlrpy.resampling import Resampling, rsmp
from mlrpy.tasks import Task, tsk

__all__ = [
    "BenchmarkResult",
    "ResampleResult",
    "benchmark",
    "benchmark_grid",
    "resample",
]

MeasuresArg = str | Measure | Sequence[str | Measure] | None


# -- helpers ----------------------------------------------------------------------------------
def _as_task(task: Any) -> Task:
    if isinstance(task, str):
        return tsk(task)
    if not isinstance(task, Task):
        raise TypeError(f"Expected a Task or a task key (see mlr_tasks), got {type(task).__name__}")
    return task


def _as_learner(learner: Any) -> Any:
    if isinstance(learner, str):
        from mlrpy.learners import lrn

        return lrn(learner)
    if not (hasattr(learner, "_train") and hasattr(learner, "get_params")):
        raise TypeError(
            f"Expected a mlrpy learner or a learner key (see mlr_learners), got "
            f"{type(learner).__name__}"
        )
    return learner


def _as_resampling(resampling: Any) -> Resampling:
    if isinstance(resampling, str):
        return rsmp(resampling)
    if not isinstance(resampling, Resampling):
        raise TypeError(
            f"Expected a Resampling or a resampling key (see mlr_resamplings), got "
            f"{type(resampling).__name__}"
        )
    return resampling


def clone_learner(learner: Any) -> Any:
    """An unfitted copy (:func:`sklearn.base.clone`) that keeps a changed ``id``.

    Example:
        >>> from mlrpy import lrn
        >>> from mlrpy.benchmark import clone_learner
        >>> learner = lrn("classif.mlp", epochs=3)
        >>> learner.id = "mlp_small"
        >>> copy = clone_learner(learner)
        >>> copy is learner, copy.id, copy.epochs
        (False, 'mlp_small', 3)
    """
    new = clone(learner)
    if "_id" in learner.__dict__:
        new.id = learner.id
    return new


def instantiated_for(resampling: Resampling, task: Task) -> Resampling:
    """``resampling`` itself if it is instantiated on ``task``'s rows, else an instantiated copy.

    The resampling passed in is never changed.

    Raises:
        ParameterError: ``resampling`` is instantiated with row ids that ``task`` lacks.
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


def combine_predictions(predictions: Sequence[Prediction]) -> Prediction:
    """One prediction holding the rows of all ``predictions``, in order.

    Class probabilities of classes a part lacks are 0.

    Example:
        >>> from mlrpy.benchmark import combine_predictions
        >>> from mlrpy.prediction import PredictionRegr
        >>> p = combine_predictions([PredictionRegr([0], [1.0], [1.5]),
        ...                          PredictionRegr([1], [2.0], [2.5])])
        >>> p.row_ids, p.response.tolist()
        ([0, 1], [1.5, 2.5])
    """
    if not predictions:
        raise ParameterError("combine_predictions() needs at least one prediction")
    first = predictions[0]
    row_ids = [r for p in predictions for r in p.row_ids]
    truth = (
        None if any(p.truth is None for p in predictions)
        else np.concatenate([np.asarray(p.truth) for p in predictions])
    )
    response = np.concatenate([np.asarray(p.response) for p in predictions])
    if isinstance(first, PredictionClassif):
        classes: list[Any] = []
        for p in predictions:
            classes += [c for c in p.class_names if c not in classes]  # type: ignore[attr-defined]
        classes = sorted(classes)
        prob: pd.DataFrame | None = None
        if all(getattr(p, "prob", None) is not None for p in predictions):
            prob = pd.concat([p.prob for p in predictions], ignore_index=True)  # type: ignore[attr-defined]
            prob = prob.reindex(columns=classes).fillna(0.0)
        return PredictionClassif(row_ids, truth, response, prob=prob, class_names=classes)
    return type(first)(row_ids, truth, response)


# -- one iteration -----------------------------------------------------------------------------
@dataclass
class _Iteration:
    prediction: Prediction
    learner: Any
    internal_tuned_values: dict[str, Any] | None
    internal_valid_scores: dict[str, float] | None


def _run_iteration(
    task: Task, learner: Any, train: list[Any], test: list[Any], store_model: bool
) -> _Iteration:
    fitted = clone_learner(learner)
    fitted._train(task, train, test_row_ids=test)
    prediction = fitted.predict(task, row_ids=test)
    return _Iteration(
        prediction=prediction,
        learner=fitted if store_model else None,
        internal_tuned_values=getattr(fitted, "internal_tuned_values", None),
        internal_valid_scores=getattr(fitted, "internal_valid_scores", None),
    )


# -- resample ----------------------------------------------------------------------------------
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
        >>> from mlrpy import lrn, tsk
        >>> from mlrpy.benchmark import resample
        >>> from mlrpy.resampling import rsmp
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

    def _measures(self, measures: MeasuresArg) -> list[Measure]:
        return resolve_measures(measures, self.task.task_type, self.task.id)

    def score(self, measures: MeasuresArg = None) -> pd.DataFrame:
        """One row per iteration: ``task_id``, ``learner_id``, ``resampling_id``,
        ``iteration`` and one column per measure (default: the task type's default measure).
        """
        return self._score(self._measures(measures))

    def _score(self, ms: list[Measure]) -> pd.DataFrame:
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
        """Each measure aggregated over the iterations (the mean): ``{measure id: value}``."""
        return self._aggregate(self._measures(measures))

    def _aggregate(self, ms: list[Measure]) -> dict[str, float]:
        scores = self._score(ms)
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
) -> ResampleResult:
    """Train and test ``learner`` on every iteration of ``resampling`` (mlr3's ``resample``).

    Each iteration trains a fresh :func:`~sklearn.base.clone` of ``learner`` on the training
    rows (with ``validate="test"`` it validates on the test rows) and predicts the test rows.
    The learner and resampling passed in are never changed; an uninstantiated resampling is
    instantiated on a copy.

    Args:
        task: a task or a task key.
        learner: a mlrpy learner or a learner key.
        resampling: a resampling (instantiated or not) or a resampling key.
        store_models: keep the fitted learner of every iteration in ``learners``.
        n_jobs: passed to :class:`joblib.Parallel` (``None``: sequential unless a joblib
            backend context such as ``parallel_backend("dask")`` says otherwise).

    Returns:
        A :class:`ResampleResult`.

    Example:
        >>> from mlrpy import lrn, tsk
        >>> from mlrpy.benchmark import resample
        >>> from mlrpy.resampling import rsmp
        >>> rr = resample(tsk("iris"), lrn("classif.mlp", epochs=2, random_state=0),
        ...               rsmp("cv", folds=3, seed=1))
        >>> 0 <= rr.aggregate()["classif.ce"] <= 1
        True
    """
    task = _as_task(task)
    learner = _as_learner(learner)
    resampling = instantiated_for(_as_resampling(resampling), task)
    learner.check_task(task)
    template = clone_learner(learner)
    jobs = (
        delayed(_run_iteration)(
            task, template, resampling.train_set(i), resampling.test_set(i), store_models
        )
        for i in range(resampling.iters)
    )
    iterations = Parallel(n_jobs=n_jobs)(jobs)
    return ResampleResult(task, template, resampling, list(iterations), store_models)


# -- benchmark ---------------------------------------------------------------------------------
def _as_list(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def benchmark_grid(tasks: Any, learners: Any, resamplings: Any) -> pd.DataFrame:
    """A benchmark design: every combination of task, learner and resampling (mlr3's ``benchmark_grid``).

    Each resampling is instantiated once per task (on a copy), so all learners on a task are
    evaluated on the same splits.

    Args:
        tasks, learners, resamplings: one object (or registry key) or a list of them.

    Returns:
        A DataFrame with the columns ``task``, ``learner`` and ``resampling``, for
        :func:`benchmark`.

    Example:
        >>> from mlrpy import lrn, tsk
        >>> from mlrpy.benchmark import benchmark_grid
        >>> from mlrpy.resampling import rsmp
        >>> design = benchmark_grid(tsk("iris"), [lrn("classif.mlp"), lrn("classif.torch_featureless")],
        ...                         rsmp("holdout"))
        >>> len(design), list(design.columns)
        (2, ['task', 'learner', 'resampling'])
    """
    ts = [_as_task(t) for t in _as_list(tasks)]
    ls = [_as_learner(lr) for lr in _as_list(learners)]
    rs = [_as_resampling(r) for r in _as_list(resamplings)]
    for name, items in (("tasks", ts), ("learners", ls), ("resamplings", rs)):
        if not items:
            raise ParameterError(f"benchmark_grid(): {name} is empty; give at least one")
    rows = []
    for task in ts:
        instances = [instantiated_for(r, task) for r in rs]
        for learner in ls:
            learner.check_task(task)
            for r in instances:
                rows.append({"task": task, "learner": learner, "resampling": r})
    return pd.DataFrame(rows, columns=["task", "learner", "resampling"])


class BenchmarkResult:
    """The outcome of :func:`benchmark`: one :class:`ResampleResult` per design row.

    Example:
        >>> from mlrpy import lrn, tsk
        >>> from mlrpy.benchmark import benchmark, benchmark_grid
        >>> from mlrpy.resampling import rsmp
        >>> design = benchmark_grid(tsk("iris"),
        ...                         [lrn("classif.mlp", epochs=2, random_state=0),
        ...                          lrn("classif.torch_featureless", epochs=1, random_state=0)],
        ...                         rsmp("cv", folds=2, seed=1))
        >>> bmr = benchmark(design)
        >>> bmr.aggregate(["classif.acc"])[["learner_id", "iters"]]
                          learner_id  iters
        0                classif.mlp      2
        1  classif.torch_featureless      2
    """

    def __init__(self, resample_results: Sequence[ResampleResult]) -> None:
        self.resample_results = list(resample_results)

    def __len__(self) -> int:
        return len(self.resample_results)

    def _measures_by_result(self, measures: MeasuresArg) -> tuple[list[list[Measure]], list[str]]:
        """Per resample result the measures to score, and the ids of all columns."""
        types = list(dict.fromkeys(rr.task.task_type for rr in self.resample_results))
        if measures is None or (isinstance(measures, (list, tuple)) and not measures):
            per = [resolve_measures(None, rr.task.task_type) for rr in self.resample_results]
        else:
            ms = as_measures(measures)
            for m in ms:
                if m.task_type not in types:
                    raise ParameterError(
                        f"Measure '{m.id}' is for {m.task_type} tasks, but the benchmark has only "
                        f"{' and '.join(types)} tasks; use e.g. "
                        f"'{default_measure(types[0]).id}'"
                    )
            dupes = duplicated(m.id for m in ms)
            if dupes:
                raise ParameterError(f"Measure ids must be unique, got {dupes[0]!r} more than once")
            per = [[m for m in ms if m.task_type == rr.task.task_type] for rr in self.resample_results]
        ids = list(dict.fromkeys(m.id for group in per for m in group))
        return per, ids

    def score(self, measures: MeasuresArg = None) -> pd.DataFrame:
        """One row per resampling iteration of every design row: ``task_id``, ``learner_id``,
        ``resampling_id``, ``iteration`` and one column per measure (default: each task type's
        default measure; ``NaN`` where a measure does not apply to a task)."""
        per, ids = self._measures_by_result(measures)
        frames = [rr._score(ms) for rr, ms in zip(self.resample_results, per)]
        base = ["task_id", "learner_id", "resampling_id", "iteration"]
        if not frames:
            return pd.DataFrame(columns=[*base, *ids])
        return pd.concat(frames, ignore_index=True).reindex(columns=[*base, *ids])

    def aggregate(self, measures: MeasuresArg = None) -> pd.DataFrame:
        """One row per design row: ``task_id``, ``learner_id``, ``resampling_id``, ``iters``
        and each measure aggregated over the iterations (the mean)."""
        per, ids = self._measures_by_result(measures)
        rows = []
        for rr, ms in zip(self.resample_results, per):
            row: dict[str, Any] = {
                "task_id": rr.task_id,
                "learner_id": rr.learner_id,
                "resampling_id": rr.resampling_id,
                "iters": rr.iters,
            }
            row.update(rr._aggregate(ms))
            rows.append(row)
        return pd.DataFrame(rows, columns=["task_id", "learner_id", "resampling_id", "iters", *ids])

    def __repr__(self) -> str:
        tasks = list(dict.fromkeys(rr.task_id for rr in self.resample_results))
        learners = list(dict.fromkeys(rr.learner_id for rr in self.resample_results))
        return (
            f"<BenchmarkResult> of {len(self)} resample results\n"
            f"* Tasks: {', '.join(tasks)}\n* Learners: {', '.join(learners)}"
        )


def _design_rows(design: Any) -> list[tuple[Task, Any, Resampling]]:
    if isinstance(design, pd.DataFrame):
        missing = [c for c in ("task", "learner", "resampling") if c not in design.columns]
        if missing:
            raise ParameterError(
                f"benchmark(): the design lacks the columns {missing}; build it with "
                f"benchmark_grid(tasks, learners, resamplings)"
            )
        rows = list(zip(design["task"], design["learner"], design["resampling"]))
    else:
        rows = [tuple(r) for r in design]
        if any(len(r) != 3 for r in rows):
            raise ParameterError(
                "benchmark(): each design row must be (task, learner, resampling); use "
                "benchmark_grid(tasks, learners, resamplings)"
            )
    if not rows:
        raise ParameterError("benchmark(): the design has no rows")
    out = []
    for t, lr, r in rows:
        task = _as_task(t)
        learner = _as_learner(lr)
        learner.check_task(task)
        out.append((task, learner, instantiated_for(_as_resampling(r), task)))
    return out


def benchmark(design: Any, store_models: bool = False, n_jobs: int | None = None) -> BenchmarkResult:
    """Resample every row of a design (mlr3's ``benchmark``).

    All iterations of all rows go through one :class:`joblib.Parallel` call.

    Args:
        design: from :func:`benchmark_grid` (or any DataFrame with columns ``task``,
            ``learner``, ``resampling``, or a list of such triples).
        store_models: keep every fitted learner.
        n_jobs: passed to :class:`joblib.Parallel`.

    Example:
        >>> from mlrpy import lrn, tsk
        >>> from mlrpy.benchmark import benchmark, benchmark_grid
        >>> from mlrpy.resampling import rsmp
        >>> bmr = benchmark(benchmark_grid(tsk("iris"), lrn("classif.mlp", epochs=1),
        ...                                rsmp("holdout", seed=1)))
        >>> list(bmr.aggregate().columns)
        ['task_id', 'learner_id', 'resampling_id', 'iters', 'classif.ce']
    """
    rows = _design_rows(design)
    templates = [clone_learner(learner) for _, learner, _ in rows]
    jobs = [
        delayed(_run_iteration)(task, template, r.train_set(i), r.test_set(i), store_models)
        for (task, _, r), template in zip(rows, templates)
        for i in range(r.iters)
    ]
    results = list(Parallel(n_jobs=n_jobs)(jobs))
    out, start = [], 0
    for (task, _, r), template in zip(rows, templates):
        its = results[start:start + r.iters]
        start += r.iters
        out.append(ResampleResult(task, template, r, its, store_models))
    return BenchmarkResult(out)
