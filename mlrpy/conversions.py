"""Conversions to mlrpy objects: :func:`as_learner`, :func:`as_task`, :func:`as_resampling`.

Every function of the mlr3 layer (:func:`~mlrpy.resample.resample`,
:func:`~mlrpy.benchmark.benchmark`, :func:`~mlrpy.tuning.tune`, ...) accepts either the object
itself or something these functions turn into one, such as a registry key or a scikit-learn
estimator. An object of the right class passes through unchanged (it is not copied), as
mlr3's ``as_*()`` do.

Example:
    >>> from mlrpy import as_learner, as_resampling, as_task
    >>> as_task("iris").id, as_learner("classif.mlp").id, as_resampling("holdout").id
    ('iris', 'classif.mlp', 'holdout')
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlrpy.errors import ParameterError
from mlrpy.learner_api import Learner
from mlrpy.learners import lrn
from mlrpy.resampling import Resampling, rsmp
from mlrpy.sklearn_learner import LearnerSklearn, is_estimator
from mlrpy.tasks import Task, as_task_classif, as_task_regr, tsk

__all__ = ["as_learner", "as_resampling", "as_task"]

_TASK_TYPES = ("classif", "regr")


def _describe(obj: Any) -> str:
    text = repr(obj)
    return f"{type(obj).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def as_learner(x: Any, id: str | None = None, task_type: str | None = None) -> Learner:
    """A learner: an mlrpy learner passes through, a registry key becomes ``lrn(key)``, and a
    scikit-learn estimator or Pipeline becomes a :class:`~mlrpy.sklearn_learner.LearnerSklearn`.

    Args:
        x: an mlrpy learner (anything following :class:`~mlrpy.learner_api.Learner`), a key
            of ``mlr_learners``, or a scikit-learn estimator.
        id: the id of a wrapped estimator (default: its class name or its Pipeline steps).
        task_type: ``"classif"`` or ``"regr"`` for an estimator that is neither a
            scikit-learn classifier nor a regressor.

    Raises:
        UnknownKeyError: an unknown key (see ``mlr_learners``).
        ParameterError: anything else, or ``id`` / ``task_type`` given with a learner or key.

    Example:
        >>> from sklearn.linear_model import LogisticRegression
        >>> from mlrpy import as_learner, lrn
        >>> learner = lrn("regr.mlp", epochs=2)
        >>> as_learner(learner) is learner
        True
        >>> as_learner("classif.torch_featureless").task_type
        'classif'
        >>> as_learner(LogisticRegression(), id="logreg").id
        'logreg'
    """
    if is_estimator(x) and not isinstance(x, Learner):
        return LearnerSklearn(x, id=id, task_type=task_type)
    if id is not None or task_type is not None:
        raise ParameterError(
            f"as_learner(): id= and task_type= only apply to a scikit-learn estimator, got "
            f"{_describe(x)}; set learner.id instead"
        )
    if isinstance(x, Learner):
        return x
    if isinstance(x, str):
        return lrn(x)
    raise ParameterError(
        f"Expected an mlrpy learner, a learner key (see mlr_learners) or a scikit-learn "
        f"estimator, got {_describe(x)}"
    )


def as_task(
    x: Any, target: str | None = None, task_type: str | None = None, id: str = "data"
) -> Task:
    """A task: a task passes through, a key becomes ``tsk(key)``, a DataFrame a new task.

    A DataFrame needs ``target``. Its task type is ``task_type`` when given; otherwise a
    target of strings, booleans or categories makes a classification task and a float target
    a regression task. An integer target could be either (class codes or counts), so it needs
    ``task_type``.

    Args:
        x: a :class:`~mlrpy.tasks.Task`, a key of ``mlr_tasks`` or a pandas DataFrame.
        target: the target column of a DataFrame.
        task_type: ``"classif"`` or ``"regr"`` for a DataFrame (default: from the target).
        id: the new task's id.

    Raises:
        UnknownKeyError: an unknown key, or a target column the DataFrame lacks.
        ParameterError: a DataFrame without ``target`` or with an ambiguous integer target;
            ``target`` / ``task_type`` given with a task or key; anything else.
        DataError: see :class:`~mlrpy.tasks.TaskClassif` and :class:`~mlrpy.tasks.TaskRegr`.

    Example:
        >>> import pandas as pd
        >>> from mlrpy import as_task
        >>> df = pd.DataFrame({"x": [0.1, 0.4, 0.8, 0.9], "y": ["a", "b", "a", "b"]})
        >>> task = as_task(df, target="y", id="toy")
        >>> task.task_type, task.class_names
        ('classif', ['a', 'b'])
        >>> as_task(pd.DataFrame({"x": [1, 2, 3], "y": [1, 0, 2]}), "y", task_type="regr").task_type
        'regr'
    """
    if isinstance(x, pd.DataFrame):
        return _task_from_frame(x, target, task_type, id)
    if target is not None or task_type is not None:
        raise ParameterError(
            f"as_task(): target= and task_type= only apply to a DataFrame, got {_describe(x)}"
        )
    if isinstance(x, Task):
        return x
    if isinstance(x, str):
        return tsk(x)
    raise ParameterError(
        f"Expected a Task, a task key (see mlr_tasks) or a DataFrame with target=, "
        f"got {_describe(x)}"
    )


def _task_from_frame(df: pd.DataFrame, target: str | None, task_type: str | None, id: str) -> Task:
    if target is None:
        raise ParameterError(
            f"as_task(): a DataFrame needs target=<column>; columns: {', '.join(map(str, df.columns))}"
        )
    if task_type is None and target in df.columns:
        y = df[target]
        if pd.api.types.is_float_dtype(y):
            task_type = "regr"
        elif pd.api.types.is_integer_dtype(y) and not pd.api.types.is_bool_dtype(y):
            raise ParameterError(
                f"as_task(): target '{target}' holds integers, which may be class labels or "
                f"numbers; pass task_type='classif' or task_type='regr'"
            )
        else:
            task_type = "classif"
    if task_type == "regr":
        return as_task_regr(df, target=target, id=id)
    if task_type == "classif" or task_type is None:  # None: the target column is missing
        return as_task_classif(df, target=target, id=id)
    raise ParameterError(
        f"as_task(): task_type must be one of {list(_TASK_TYPES)} or None, got {task_type!r}"
    )


def as_resampling(x: Any) -> Resampling:
    """A resampling: a :class:`~mlrpy.resampling.Resampling` passes through, a key becomes
    ``rsmp(key)`` and a scikit-learn splitter (an object with ``split``, such as
    ``GroupKFold(5)``) becomes ``rsmp("sklearn", cv=splitter)``.

    Raises:
        UnknownKeyError: an unknown key (see ``mlr_resamplings``).
        ParameterError: anything else.

    Example:
        >>> from sklearn.model_selection import KFold
        >>> from mlrpy import as_resampling, rsmp
        >>> cv = rsmp("cv", folds=3)
        >>> as_resampling(cv) is cv, as_resampling("cv").param_values["folds"]
        (True, 10)
        >>> as_resampling(KFold(4)).id, as_resampling(KFold(4)).iters
        ('sklearn', 4)
    """
    if isinstance(x, Resampling):
        return x
    if isinstance(x, str):
        return rsmp(x)
    if not isinstance(x, type) and callable(getattr(x, "split", None)):
        return rsmp("sklearn", cv=x)
    raise ParameterError(
        f"Expected a Resampling, a resampling key (see mlr_resamplings) or a scikit-learn "
        f"splitter, got {_describe(x)}"
    )
