"""Tasks: a data set plus the role of each column (mlr3's ``TaskClassif`` / ``TaskRegr``).

Row ids are the labels of the backing DataFrame's index, 0-based for the built-in tasks.
"""

from __future__ import annotations

import copy
import numbers
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlrpy.dictionary import Dictionary, suggest
from mlrpy.errors import DataError, UnknownKeyError

__all__ = [
    "Task",
    "TaskClassif",
    "TaskRegr",
    "as_task_classif",
    "as_task_regr",
    "mlr_tasks",
    "tsk",
    "tsks",
]


class Task:
    """A supervised learning task over a pandas DataFrame.

    Args:
        id: the task's name.
        backend: the data, features and target in one DataFrame.
        target: name of the target column.
        label: a human readable description.

    Use :class:`TaskClassif` or :class:`TaskRegr` (or :func:`tsk`) rather than this base.
    """

    task_type: str = ""

    def __init__(self, id: str, backend: pd.DataFrame, target: str, label: str = "") -> None:
        if not isinstance(backend, pd.DataFrame):
            raise DataError(
                f"Task '{id}': backend must be a pandas DataFrame, got {type(backend).__name__}"
            )
        if target not in backend.columns:
            raise UnknownKeyError(
                f"Task '{id}': target column '{target}' not in the data."
                f"{suggest(str(target), map(str, backend.columns))} "
                f"Columns: {', '.join(map(str, backend.columns))}"
            )
        if len(backend) == 0:
            raise DataError(f"Task '{id}': the data has no rows")
        if not backend.index.is_unique:
            raise DataError(f"Task '{id}': the DataFrame index (row ids) must be unique")
        if backend[target].isna().any():
            n = int(backend[target].isna().sum())
            raise DataError(f"Task '{id}': target '{target}' has {n} missing (NaN) values")
        self.id = id
        self.label = label
        self.backend = backend
        self.target_names = [target]
        self.feature_names = [str(c) for c in backend.columns if c != target]
        self._row_ids = list(backend.index)
        self.internal_valid_task: Task | None = None
        self._check_target(backend[target])

    def _check_target(self, y: pd.Series) -> None:
        pass

    @property
    def target(self) -> str:
        return self.target_names[0]

    @property
    def row_ids(self) -> list[Any]:
        """The ids of the rows currently in the task."""
        return list(self._row_ids)

    @property
    def nrow(self) -> int:
        return len(self._row_ids)

    @property
    def ncol(self) -> int:
        """Number of active columns: features plus target."""
        return len(self.feature_names) + 1

    def _check_rows(self, rows: Sequence[Any] | None) -> list[Any]:
        if rows is None:
            return self.row_ids
        rows = list(rows)
        unknown = pd.Index(rows).difference(pd.Index(self._row_ids))
        if len(unknown):
            raise UnknownKeyError(
                f"Task '{self.id}': unknown row ids {list(unknown[:5])}"
                f"{' ...' if len(unknown) > 5 else ''} (the task has {self.nrow} rows)"
            )
        return rows

    def data(self, rows: Sequence[Any] | None = None, cols: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows and columns asked for (default: all active rows, features and target)."""
        rows = self._check_rows(rows)
        if cols is None:
            cols = [*self.feature_names, self.target]
        else:
            cols = list(cols)
            known = [*self.feature_names, self.target]
            for c in cols:
                if c not in known:
                    raise UnknownKeyError(
                        f"Task '{self.id}': unknown column '{c}'.{suggest(c, known)}"
                    )
        return self.backend.loc[rows, cols]

    def truth(self, rows: Sequence[Any] | None = None) -> np.ndarray:
        """The target values of ``rows`` as a numpy array."""
        return self.data(rows, [self.target])[self.target].to_numpy()

    def filter(self, rows: Sequence[Any]) -> Task:
        """Keep only ``rows`` (in place, as in mlr3); returns the task."""
        self._row_ids = self._check_rows(rows)
        return self

    def select(self, cols: Sequence[str]) -> Task:
        """Keep only the feature columns ``cols`` (in place); returns the task."""
        cols = list(cols)
        for c in cols:
            if c not in self.feature_names:
                raise UnknownKeyError(
                    f"Task '{self.id}': unknown feature '{c}'.{suggest(c, self.feature_names)}"
                )
        self.feature_names = cols
        return self

    def clone(self) -> Task:
        """A copy sharing the (read-only) backend but with its own row and column roles."""
        new = copy.copy(self)
        new._row_ids = list(self._row_ids)
        new.feature_names = list(self.feature_names)
        new.target_names = list(self.target_names)
        return new

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__}:{self.id}> ({self.nrow} x {self.ncol}): {self.label}\n"
            f"* Target: {self.target}\n"
            f"* Features ({len(self.feature_names)}): {', '.join(self.feature_names[:10])}"
            f"{', ...' if len(self.feature_names) > 10 else ''}"
        )


def _label_kind(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Number):
        return "number"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


class TaskClassif(Task):
    """A classification task; ``class_names`` are the sorted distinct target values.

    The labels must be of one kind: all strings, all numbers or all booleans (a column
    mixing e.g. ``1`` and ``"1"`` is an error, not two classes that look alike).

    Example:
        >>> import pandas as pd
        >>> from mlrpy import TaskClassif
        >>> df = pd.DataFrame({"x": [0.1, 0.5, 0.9, 0.3], "y": ["a", "b", "b", "a"]})
        >>> task = TaskClassif("toy", df, target="y")
        >>> task.class_names
        ['a', 'b']
    """

    task_type = "classif"

    def _check_target(self, y: pd.Series) -> None:
        labels = pd.unique(y.cat.categories if isinstance(y.dtype, pd.CategoricalDtype) else y)
        by_kind: dict[str, list[Any]] = {}
        for label in labels:
            by_kind.setdefault(_label_kind(label), []).append(label)
        if len(by_kind) > 1:
            examples = "; ".join(f"{kind}: {values[:3]!r}" for kind, values in by_kind.items())
            raise DataError(
                f"Task '{self.id}': target '{self.target}' mixes label types ({examples}); "
                f"convert it to one type, e.g. df['{self.target}'].astype(str)"
            )
        if y.nunique() < 2:
            raise DataError(
                f"Task '{self.id}': a classification target needs at least 2 classes, "
                f"'{self.target}' has {y.nunique()}"
            )

    @property
    def class_names(self) -> list[Any]:
        return sorted(pd.unique(self.backend.loc[self._row_ids, self.target]).tolist())

    @property
    def properties(self) -> list[str]:
        return ["twoclass" if len(self.class_names) == 2 else "multiclass"]


class TaskRegr(Task):
    """A regression task with a numeric target.

    Example:
        >>> from mlrpy import tsk
        >>> tsk("diabetes").nrow
        442
    """

    task_type = "regr"

    def _check_target(self, y: pd.Series) -> None:
        if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
            raise DataError(
                f"Task '{self.id}': a regression target must be numeric, "
                f"'{self.target}' has dtype {y.dtype}"
            )


def as_task_classif(data: pd.DataFrame, target: str, id: str = "data", label: str = "") -> TaskClassif:
    """Build a :class:`TaskClassif` from a DataFrame."""
    return TaskClassif(id, data, target=target, label=label)


def as_task_regr(data: pd.DataFrame, target: str, id: str = "data", label: str = "") -> TaskRegr:
    """Build a :class:`TaskRegr` from a DataFrame."""
    return TaskRegr(id, data, target=target, label=label)


def _clean_name(name: str) -> str:
    name = re.sub(r"\s*\(.*?\)", "", str(name)).strip().lower()
    return re.sub(r"[^0-9a-z]+", "_", name).strip("_")


def _sklearn_task(loader_name: str, task_id: str, label: str, classif: bool, labels: bool) -> Task:
    from sklearn import datasets

    bunch = getattr(datasets, loader_name)()
    df = pd.DataFrame(bunch.data, columns=[_clean_name(c) for c in bunch.feature_names])
    y = bunch.target
    if labels:
        y = np.asarray(bunch.target_names)[y]
    df["target" if not classif else "class"] = y
    if classif:
        return TaskClassif(task_id, df, target="class", label=label)
    return TaskRegr(task_id, df, target="target", label=label)


def _describe_task(key: str, task: Task) -> dict[str, Any]:
    return {
        "label": task.label,
        "task_type": task.task_type,
        "nrow": task.nrow,
        "ncol": task.ncol,
    }


mlr_tasks: Dictionary[Task] = Dictionary("mlr_tasks", describe=_describe_task)
mlr_tasks.add("iris", lambda: _sklearn_task("load_iris", "iris", "Iris Flowers", True, True))
mlr_tasks.add("wine", lambda: _sklearn_task("load_wine", "wine", "Wine Cultivars", True, True))
mlr_tasks.add(
    "breast_cancer",
    lambda: _sklearn_task("load_breast_cancer", "breast_cancer", "Breast Cancer Wisconsin", True, True),
)
mlr_tasks.add(
    "digits", lambda: _sklearn_task("load_digits", "digits", "Handwritten Digits 8x8", True, False)
)
mlr_tasks.add(
    "diabetes", lambda: _sklearn_task("load_diabetes", "diabetes", "Diabetes Progression", False, False)
)


def tsk(key: str, **kwargs: Any) -> Task:
    """Fetch a task from :data:`mlr_tasks`.

    Example:
        >>> from mlrpy import tsk
        >>> task = tsk("iris")
        >>> task.nrow, task.class_names
        (150, ['setosa', 'versicolor', 'virginica'])
    """
    return mlr_tasks.get(key, **kwargs)


def tsks(keys: Sequence[str]) -> list[Task]:
    """Fetch several tasks."""
    return mlr_tasks.mget(keys)
