"""What the mlr3 layer needs of a learner, and reading a task's column roles.

:func:`~mlrpy.resample.resample`, :func:`~mlrpy.benchmark.benchmark` and
:func:`~mlrpy.tuning.tune` work with any object that follows :class:`Learner`: the torch
learners, :class:`~mlrpy.sklearn_learner.LearnerSklearn` (a scikit-learn estimator) and
:class:`~mlrpy.tuning.AutoTuner`. Besides these members they copy learners with
:func:`sklearn.base.clone` and configure them with ``set_params``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Learner", "role_values"]


@runtime_checkable
class Learner(Protocol):
    """The mlr3 face of a learner.

    Example:
        >>> from mlrpy import lrn
        >>> from mlrpy.learner_api import Learner
        >>> from sklearn.linear_model import Ridge
        >>> isinstance(lrn("regr.mlp"), Learner), isinstance(Ridge(), Learner)
        (True, False)
    """

    @property
    def id(self) -> str:
        """The learner's name in results and messages."""

    @property
    def task_type(self) -> str:
        """``"classif"`` or ``"regr"``."""

    def train(self, task: Any, row_ids: Sequence[Any] | None = None) -> Any:
        """Train on ``task`` (only ``row_ids`` if given); returns the learner."""

    def predict(self, X: Any, row_ids: Sequence[Any] | None = None) -> Any:
        """``predict(task)`` returns a :class:`~mlrpy.prediction.Prediction`."""

    def check_task(self, task: Any) -> None:
        """Raise :class:`~mlrpy.errors.ParameterError` unless the learner can train on ``task``."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters, including nested ones (``step__param``, ``opt.lr``)."""

    def set_params(self, **params: Any) -> Any:
        """Set parameters; returns the learner."""


def role_values(task: Any, role: str, rows: Sequence[Any]) -> np.ndarray | None:
    """The values of ``task``'s columns with column role ``role`` for ``rows``, one per row;
    ``None`` when the task has no such column (or no column roles at all).

    Several columns are combined into one label per row (their values joined with ``|``).

    Example:
        >>> from mlrpy import tsk
        >>> from mlrpy.learner_api import role_values
        >>> role_values(tsk("iris"), "group", [0, 1]) is None
        True
    """
    roles = getattr(task, "col_roles", None) or {}
    cols = list(roles.get(role) or [])
    if not cols:
        return None
    frame = task.backend.loc[list(rows), cols]
    if len(cols) == 1:
        return frame[cols[0]].to_numpy()
    return frame.astype(str).agg("|".join, axis=1).to_numpy()
