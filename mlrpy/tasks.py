"""Tasks: a data set plus the role of each column (mlr3's ``TaskClassif`` / ``TaskRegr``).

Row ids are the labels of the backing DataFrame's index, 0-based for the built-in tasks.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlrpy.dictionary import Dictionary
from mlrpy.errors import DataError
from mlrpy.lazy import as_lazy_tensor
from mlrpy.task_base import COL_ROLES, Task

__all__ = [
    "COL_ROLES",
    "Task",
    "TaskClassif",
    "TaskRegr",
    "as_task_classif",
    "as_task_regr",
    "mlr_tasks",
    "tsk",
    "tsks",
]


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

    Args:
        positive: for a two-class target, the class that measures such as ``classif.auc``,
            ``classif.precision`` and ``classif.recall`` treat as positive; default the
            second class in sorted order (scikit-learn's ``pos_label=1`` for 0/1 labels).

    Example:
        >>> import pandas as pd
        >>> from mlrpy import TaskClassif
        >>> df = pd.DataFrame({"x": [0.1, 0.5, 0.9, 0.3], "y": ["a", "b", "b", "a"]})
        >>> task = TaskClassif("toy", df, target="y")
        >>> task.class_names, task.positive
        (['a', 'b'], 'b')
        >>> task.positive = "a"
        >>> task.negative
        'b'
    """

    task_type = "classif"

    def __init__(
        self, id: str, backend: pd.DataFrame, target: str, label: str = "", positive: Any = None
    ) -> None:
        super().__init__(id, backend, target, label)
        self._positive: Any = None
        if positive is not None:
            self.positive = positive

    def _check_target(self, y: pd.Series) -> None:
        labels = pd.unique(y.cat.categories if isinstance(y.dtype, pd.CategoricalDtype) else y)
        by_kind: dict[str, list[Any]] = {}
        for label in labels:
            by_kind.setdefault(_label_kind(label), []).append(label)
        if len(by_kind) > 1:
            examples = "; ".join(f"{kind}: {values[:3]!r}" for kind, values in by_kind.items())
            raise DataError(
                f"Task '{self.id}': target '{y.name}' mixes label types ({examples}); "
                f"convert it to one type, e.g. df['{y.name}'].astype(str)"
            )
        if y.nunique() < 2:
            raise DataError(
                f"Task '{self.id}': a classification target needs at least 2 classes, "
                f"'{y.name}' has {y.nunique()}"
            )

    @property
    def class_names(self) -> list[Any]:
        return sorted(pd.unique(self.backend.loc[self._row_ids, self.target]).tolist())

    def _all_classes(self) -> list[Any]:
        # of every row, so a resampling's subset of one class keeps the task's positive class
        return sorted(pd.unique(self.backend[self.target]).tolist())

    @property
    def positive(self) -> Any:
        """The positive class of a two-class task (``None`` for more classes); settable."""
        classes = self._all_classes()
        if len(classes) != 2:
            return None
        return self._positive if self._positive in classes else classes[1]

    @positive.setter
    def positive(self, value: Any) -> None:
        classes = self._all_classes()
        if len(classes) != 2:
            raise DataError(
                f"Task '{self.id}': a positive class needs a two-class target; "
                f"'{self.target}' has {len(classes)} classes {classes[:10]}"
            )
        matches = [c for c in classes if c == value and _label_kind(c) == _label_kind(value)]
        if not matches:
            raise DataError(
                f"Task '{self.id}': positive class {value!r} is not a class of target "
                f"'{self.target}'; the classes are {classes}"
            )
        self._positive = matches[0]

    @property
    def negative(self) -> Any:
        """The class that is not :attr:`positive` (``None`` unless two classes)."""
        positive = self.positive
        return None if positive is None else next(c for c in self._all_classes() if c != positive)

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
                f"'{y.name}' has dtype {y.dtype}"
            )


def as_task_classif(
    data: pd.DataFrame, target: str, id: str = "data", label: str = "", positive: Any = None
) -> TaskClassif:
    """Build a :class:`TaskClassif` from a DataFrame (``positive``: see :class:`TaskClassif`)."""
    return TaskClassif(id, data, target=target, label=label, positive=positive)


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


def _lazy_iris() -> Task:
    """Iris with its four measurements as one ``lazy_tensor`` feature ``x`` (element shape (4,))."""
    from sklearn import datasets

    bunch = datasets.load_iris()
    x = as_lazy_tensor(bunch.data.astype(np.float32))
    df = pd.DataFrame({"x": x, "class": np.asarray(bunch.target_names)[bunch.target]})
    return TaskClassif("lazy_iris", df, target="class", label="Iris Flowers (lazy tensor)")


def _digits_images() -> Task:
    """The 8x8 digits as one ``lazy_tensor`` feature ``image``: grey images (1, 8, 8) in [0, 1]."""
    from sklearn import datasets

    bunch = datasets.load_digits()
    images = (bunch.images / 16.0).astype(np.float32)[:, None]  # pixel values are 0..16
    df = pd.DataFrame({"image": as_lazy_tensor(images), "class": bunch.target})
    return TaskClassif("digits_images", df, target="class", label="Handwritten Digits 8x8 (images)")


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
mlr_tasks.add("lazy_iris", _lazy_iris)
mlr_tasks.add("digits_images", _digits_images)
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
