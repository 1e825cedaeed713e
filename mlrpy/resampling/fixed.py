"""The deterministic strategies: insample, leave-one-out and user-given splits (custom)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import LeaveOneOut

from mlrpy.errors import DataError, ParameterError, UnknownKeyError
from mlrpy.learner_api import role_values
from mlrpy.resampling.base import Resampling, Split
from mlrpy.tasks import Task

__all__ = ["ResamplingCustom", "ResamplingInsample", "ResamplingLOO"]


class ResamplingInsample(Resampling):
    """One iteration that trains and tests on all rows.

    Example:
        >>> from mlrpy.resampling import rsmp
        >>> from mlrpy.tasks import tsk
        >>> r = rsmp("insample").instantiate(tsk("iris"))
        >>> r.train_set(0) == r.test_set(0) == tsk("iris").row_ids
        True
    """

    key = "insample"
    default_label = "Insample Resampling"

    def _iters_from_params(self) -> int:
        return 1

    def _splits(
        self, n: int, y: np.ndarray | None, seed: int | None, params: dict[str, Any]
    ) -> list[Split]:
        everything = np.arange(n)
        return [(everything, everything.copy())]


class ResamplingLOO(Resampling):
    """Leave-one-out: one iteration per row, testing on that row (``LeaveOneOut``).

    Example:
        >>> from mlrpy.resampling import rsmp
        >>> from mlrpy.tasks import tsk
        >>> r = rsmp("loo").instantiate(tsk("iris"))
        >>> r.iters, r.test_set(0), len(r.train_set(0))
        (150, [0], 149)
    """

    key = "loo"
    default_label = "Leave-One-Out"

    def _splits(
        self, n: int, y: np.ndarray | None, seed: int | None, params: dict[str, Any]
    ) -> list[Split]:
        if n < 2:
            raise self._too_few_rows(n, f"leave-one-out needs at least 2 {self._unit}")
        return list(LeaveOneOut().split(np.zeros((n, 1))))


class ResamplingCustom(Resampling):
    """User-given splits: ``instantiate(task, train_sets=[...], test_sets=[...])``.

    Each set is a list of the task's row ids; set ``i`` of both lists forms iteration ``i``.

    Example:
        >>> from mlrpy.resampling import rsmp
        >>> from mlrpy.tasks import tsk
        >>> r = rsmp("custom").instantiate(
        ...     tsk("iris"), train_sets=[[0, 1, 2], [3, 4]], test_sets=[[3, 4], [0, 1, 2]]
        ... )
        >>> r.iters, r.train_set(1), r.test_set(1)
        (2, [3, 4], [0, 1, 2])
    """

    key = "custom"
    default_label = "Custom Splits"

    def instantiate(
        self,
        task: Task,
        train_sets: Sequence[Sequence[Any]] | None = None,
        test_sets: Sequence[Sequence[Any]] | None = None,
    ) -> ResamplingCustom:
        """Fix the given splits for ``task``; every row id must belong to the task.

        Raises:
            ParameterError: missing, mismatched or empty sets.
            UnknownKeyError: a row id that is not in the task.
        """
        self._check_task(task)
        if train_sets is None or test_sets is None:
            raise ParameterError(
                f"Resampling '{self.id}' needs train_sets=[...] and test_sets=[...] in "
                "instantiate(task, train_sets=..., test_sets=...)"
            )
        train_sets = [list(s) for s in train_sets]
        test_sets = [list(s) for s in test_sets]
        if len(train_sets) != len(test_sets):
            raise ParameterError(
                f"Resampling '{self.id}': got {len(train_sets)} train sets but "
                f"{len(test_sets)} test sets; they must pair up"
            )
        if not train_sets:
            raise ParameterError(f"Resampling '{self.id}': needs at least one train/test pair")
        row_ids = task.row_ids
        pos = {r: i for i, r in enumerate(row_ids)}
        splits: list[Split] = []
        for i, (train, test) in enumerate(zip(train_sets, test_sets)):
            pair = []
            for kind, ids in (("train", train), ("test", test)):
                if not ids:
                    raise ParameterError(f"Resampling '{self.id}': {kind} set {i} is empty")
                unknown = [r for r in ids if r not in pos]
                if unknown:
                    raise UnknownKeyError(
                        f"Resampling '{self.id}': {kind} set {i} has row ids not in task "
                        f"'{task.id}': {unknown[:5]}{' ...' if len(unknown) > 5 else ''}"
                    )
                pair.append(np.asarray([pos[r] for r in ids], dtype=int))
            splits.append((pair[0], pair[1]))
        _check_groups_kept(self.id, task, row_ids, splits)
        self._reset()
        self._store(task, row_ids, splits)
        return self


def _check_groups_kept(resampling_id: str, task: Task, row_ids: list[Any], splits: list[Split]) -> None:
    """User-given splits must keep each group of a task with group columns on one side."""
    groups = role_values(task, "group", row_ids)
    if groups is None:
        return
    for i, (train, test) in enumerate(splits):
        shared = set(groups[train].tolist()) & set(groups[test].tolist())
        if shared:
            raise DataError(
                f"Resampling '{resampling_id}': iteration {i} puts rows of the groups "
                f"{sorted(map(str, shared))[:5]} (columns {task.col_roles['group']}) in both the "
                f"train and the test set; with group columns a group's rows must stay on one side"
            )
