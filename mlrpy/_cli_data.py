"""Data files for the ``mlrpy`` command: a CSV file becomes a task; predictions become a table.

The task type follows from the target column unless the user names it: a column of text,
booleans or categories is a classification target, and so is an integer column with at most
:data:`MAX_CLASSES_INFERRED` distinct values; any other numeric column is a regression target.
The reason is reported, so a guess the user disagrees with is easy to spot and override.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlrpy.errors import DataError
from mlrpy.tasks import Task, TaskClassif, TaskRegr

__all__ = ["MAX_CLASSES_INFERRED", "infer_task_type", "prediction_frame", "read_csv", "task_from_csv"]

#: An integer target with at most this many distinct values is taken as class labels.
MAX_CLASSES_INFERRED = 10

TASK_TYPES = ("classif", "regr")


def infer_task_type(y: pd.Series) -> tuple[str, str]:
    """``(task type, reason)`` for the target column ``y``.

    Example:
        >>> infer_task_type(pd.Series(["a", "b", "a"]))
        ('classif', 'non-numeric values')
        >>> infer_task_type(pd.Series([0, 1, 2, 1]))
        ('classif', 'integer values, 3 distinct')
        >>> infer_task_type(pd.Series([0.5, 1.25, 3.0]))
        ('regr', 'numeric values')
    """
    if pd.api.types.is_bool_dtype(y) or not pd.api.types.is_numeric_dtype(y):
        return "classif", "non-numeric values"
    if pd.api.types.is_integer_dtype(y):
        distinct = int(y.nunique())
        if distinct <= MAX_CLASSES_INFERRED:
            return "classif", f"integer values, {distinct} distinct"
        return "regr", f"integer values, {distinct} distinct (more than {MAX_CLASSES_INFERRED})"
    return "regr", "numeric values"


def read_csv(path: str | os.PathLike[str], option: str = "--data") -> pd.DataFrame:
    """Read a CSV file with a header row; a missing, empty or malformed file is a ``DataError``.

    Example:
        >>> read_csv("no/such/file.csv")
        Traceback (most recent call last):
        ...
        mlrpy.errors.DataError: --data: no such file 'no/such/file.csv'
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(f"{option}: no such file '{path}'")
    try:
        frame = pd.read_csv(file)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{option}: cannot read '{path}' as CSV: {' '.join(str(err).split())}") from err
    if frame.empty:
        raise DataError(f"{option}: '{path}' has a header but no rows")
    return frame


def task_from_csv(
    path: str | os.PathLike[str], target: str, task_type: str | None = None
) -> tuple[Task, str]:
    """A task from a CSV file and the sentence that says how its type was chosen.

    Args:
        path: the CSV file (first row: column names).
        target: the target column.
        task_type: ``"classif"`` or ``"regr"``; ``None`` infers it (:func:`infer_task_type`).

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "toy data.csv")
        >>> pd.DataFrame({"x": [0.1, 0.4, 0.8, 0.9], "y": ["a", "a", "b", "b"]}).to_csv(path, index=False)
        >>> task, how = task_from_csv(path, target="y")
        >>> task.id, task.task_type, how
        ('toy_data', 'classif', 'inferred from non-numeric values; override with --task-type')
    """
    frame = read_csv(path)
    if target not in frame.columns:
        from mlrpy.dictionary import suggest

        raise DataError(
            f"--target: no column '{target}' in '{path}'.{suggest(target, map(str, frame.columns))} "
            f"Columns: {', '.join(map(str, frame.columns))}"
        )
    if task_type is None:
        task_type, reason = infer_task_type(frame[target])
        how = f"inferred from {reason}; override with --task-type"
    elif task_type in TASK_TYPES:
        how = "given by --task-type"
    else:
        raise DataError(f"--task-type: '{task_type}' is not a task type; use one of {', '.join(TASK_TYPES)}")
    task_id = re.sub(r"[^0-9a-zA-Z]+", "_", Path(path).stem).strip("_").lower() or "data"
    task_class = TaskClassif if task_type == "classif" else TaskRegr
    return task_class(task_id, frame, target=target, label=f"from {Path(path).name}"), how


def prediction_frame(learner: Any, data: pd.DataFrame, proba: bool = False) -> pd.DataFrame:
    """Predictions of a fitted ``learner`` for the rows of ``data``, one row each.

    The learner's training columns are taken from ``data`` by name (other columns, such as the
    target, are ignored). The column ``prediction`` holds the predicted label or value; with
    ``proba``, a classifier adds one ``prob.<class>`` column per class.

    Example:
        >>> import mlrpy
        >>> task = mlrpy.tsk("iris")
        >>> learner = mlrpy.lrn("classif.mlp", epochs=1, random_state=0).train(task)
        >>> frame = prediction_frame(learner, task.data(rows=[0, 50]), proba=True)
        >>> list(frame.columns)
        ['prediction', 'prob.setosa', 'prob.versicolor', 'prob.virginica']
    """
    features = list(learner.model.feature_names)
    missing = [c for c in features if c not in data.columns]
    if missing:
        raise DataError(
            f"--data lacks the columns the model was trained on: {', '.join(missing)} "
            f"(the model needs {', '.join(features)})"
        )
    X = data[features]
    out = pd.DataFrame({"prediction": np.asarray(learner.predict(X))}, index=data.index)
    if proba:
        if learner.task_type != "classif":
            raise DataError(
                f"--proba: the model is a {learner.task_type} learner; only classifiers give probabilities"
            )
        probabilities = learner.predict_proba(X)
        for j, label in enumerate(learner.model.classes):
            out[f"prob.{label}"] = probabilities[:, j]
    return out.reset_index(drop=True)
