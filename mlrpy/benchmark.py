"""Benchmarking: :func:`benchmark`, its design (:func:`benchmark_grid`) and :class:`BenchmarkResult`.

:func:`benchmark` resamples every (task, learner, resampling) row of a design built by
:func:`benchmark_grid`, with the same splits for every learner on a task; each row gives a
:class:`~mlrpy.resample.ResampleResult`. All iterations of all rows run through one
:class:`joblib.Parallel` call (``n_jobs``), so any joblib backend works, e.g.
``with joblib.parallel_backend("dask"): benchmark(...)``. Checkpoint and resume folders get a
subfolder ``iter_<i>`` per iteration, as in :func:`~mlrpy.resample.resample`; two design rows
may not share a folder.

Example:
    >>> from mlrpy import lrn, rsmp, tsk
    >>> from mlrpy.benchmark import benchmark, benchmark_grid
    >>> design = benchmark_grid(tsk("iris"), lrn("classif.mlp", epochs=1, random_state=0),
    ...                         rsmp("cv", folds=2, seed=1))
    >>> benchmark(design).aggregate()[["learner_id", "iters"]]
        learner_id  iters
    0  classif.mlp      2
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mlrpy.conversions import as_learner, as_resampling, as_task
from mlrpy.dictionary import duplicated
from mlrpy.errors import ParameterError
from mlrpy.measures import Measure, as_measures, default_measure, resolve_measures
from mlrpy.reporting import run_jobs
from mlrpy.resample import (
    MeasuresArg,
    ResampleResult,
    check_task,
    checkpoint_folders,
    clone_learner,
    instantiated_for,
    iteration_jobs,
)
from mlrpy.resample import resample as resample  # kept importable from here, where it used to live
from mlrpy.resampling import Resampling
from mlrpy.tasks import Task

__all__ = [
    "BenchmarkResult",
    "benchmark",
    "benchmark_grid",
]

logger = logging.getLogger(__name__)


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
    ts = [as_task(t) for t in _as_list(tasks)]
    ls = [as_learner(lr) for lr in _as_list(learners)]
    rs = [as_resampling(r) for r in _as_list(resamplings)]
    for name, items in (("tasks", ts), ("learners", ls), ("resamplings", rs)):
        if not items:
            raise ParameterError(f"benchmark_grid(): {name} is empty; give at least one")
    rows = []
    for task in ts:
        instances = [instantiated_for(r, task) for r in rs]
        for learner in ls:
            check_task(learner, task)
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
        base = ["task_id", "learner_id", "resampling_id", "iteration"]
        # ResampleResult.score() would fill in a default measure where none applies
        frames = [
            rr.score(ms) if ms else _iteration_frame(rr)
            for rr, ms in zip(self.resample_results, per)
        ]
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
            if ms:
                row.update(rr.aggregate(ms))
            rows.append(row)
        return pd.DataFrame(rows, columns=["task_id", "learner_id", "resampling_id", "iters", *ids])

    def __repr__(self) -> str:
        tasks = list(dict.fromkeys(rr.task_id for rr in self.resample_results))
        learners = list(dict.fromkeys(rr.learner_id for rr in self.resample_results))
        return (
            f"<BenchmarkResult> of {len(self)} resample results\n"
            f"* Tasks: {', '.join(tasks)}\n* Learners: {', '.join(learners)}"
        )


def _iteration_frame(rr: ResampleResult) -> pd.DataFrame:
    return pd.DataFrame({
        "task_id": rr.task_id,
        "learner_id": rr.learner_id,
        "resampling_id": rr.resampling_id,
        "iteration": range(rr.iters),
    })


def _check_distinct_folders(folders_by_row: list[dict[str, Path]]) -> None:
    """Two design rows writing checkpoints to one folder would overwrite each other."""
    owner: dict[Path, int] = {}
    for k, folders in enumerate(folders_by_row):
        for folder in set(folders.values()):
            key = folder.resolve()
            if key in owner:
                raise ParameterError(
                    f"benchmark(): design rows {owner[key]} and {k} both checkpoint to or resume "
                    f"from '{folder}'; their iterations would share the subfolders iter_<i>. Give "
                    f"each row's learner its own folder (a clone with set_params) or a callable "
                    f"path returning a new folder"
                )
            owner[key] = k


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
        task = as_task(t)
        learner = as_learner(lr)
        check_task(learner, task)
        out.append((task, learner, instantiated_for(as_resampling(r), task)))
    return out


def benchmark(
    design: Any, store_models: bool = False, n_jobs: int | None = None, progress: bool | None = None
) -> BenchmarkResult:
    """Resample every row of a design (mlr3's ``benchmark``).

    All iterations of all rows go through one :class:`joblib.Parallel` call. Checkpoint and
    resume folders get a subfolder ``iter_<i>`` per iteration of a row.

    Args:
        design: from :func:`benchmark_grid` (or any DataFrame with columns ``task``,
            ``learner``, ``resampling``, or a list of such triples).
        store_models: keep every fitted learner.
        n_jobs: passed to :class:`joblib.Parallel`.
        progress: a progress bar over all iterations of all rows on stderr: ``None`` when
            stderr is a terminal, ``True`` always, ``False`` never.

    Raises:
        ParameterError: a malformed design, or two rows checkpointing to one folder.

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
    folders = [checkpoint_folders(learner) for _, learner, _ in rows]
    _check_distinct_folders(folders)
    templates = [clone_learner(learner) for _, learner, _ in rows]
    jobs = [
        job
        for (task, _, r), template, row_folders in zip(rows, templates, folders)
        for job in iteration_jobs(task, template, r, store_models, row_folders)
    ]
    logger.info("benchmark: %d design rows, %d iterations in all", len(rows), len(jobs))
    results = run_jobs(jobs, n_jobs, progress, "benchmark")
    out, start = [], 0
    for (task, _, r), template in zip(rows, templates):
        its = results[start:start + r.iters]
        start += r.iters
        out.append(ResampleResult(task, template, r, its, store_models))
    return BenchmarkResult(out)
