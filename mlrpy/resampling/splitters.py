"""``rsmp("sklearn", cv=<splitter>)``: any scikit-learn splitter as a resampling.

The splitter's ``split(X, y, groups)`` is called once, at :meth:`Resampling.instantiate`, and
its splits are stored as the task's row ids like any other strategy's. What the splitter gets:

* ``y``: the task's ``stratum`` column(s) when it has that column role, else its target;
  so ``StratifiedKFold`` stratifies on the strata or the classes;
* ``groups``: the task's ``group`` column(s) when it has that column role, else ``None``;
  so ``GroupKFold`` keeps a group's rows on one side of every split.

Several columns in one role are combined, each distinct combination being one group or
stratum. Randomness is the splitter's own (its ``random_state``), so this strategy has no
``seed``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import ConfigDict, field_validator

from mlrpy.errors import MlrpyError, ParameterError
from mlrpy.learner_api import role_values
from mlrpy.resampling.base import Params, Resampling, Split
from mlrpy.tasks import Task

__all__ = ["ResamplingSklearn"]


class _SklearnParams(Params):
    model_config = ConfigDict(strict=True, extra="forbid", arbitrary_types_allowed=True)

    cv: Any = None

    @field_validator("cv")
    @classmethod
    def _is_splitter(cls, value: Any) -> Any:
        if value is not None and not callable(getattr(value, "split", None)):
            raise ValueError(
                f"must be a scikit-learn splitter with a split(X, y, groups) method, such as "
                f"KFold(5) or GroupKFold(5); got {type(value).__name__}"
            )
        return value


class ResamplingSklearn(Resampling):
    """The splits of a scikit-learn splitter ``cv`` (see :mod:`mlrpy.resampling.splitters`).

    Example:
        >>> import numpy as np
        >>> from sklearn.model_selection import TimeSeriesSplit
        >>> from mlrpy.resampling import rsmp
        >>> from mlrpy.tasks import tsk
        >>> r = rsmp("sklearn", cv=TimeSeriesSplit(3)).instantiate(tsk("diabetes"))
        >>> r.iters, max(r.train_set(0)) < min(r.test_set(0))
        (3, True)
    """

    key = "sklearn"
    default_label = "scikit-learn Splitter"
    _params_model = _SklearnParams

    def _iters_from_params(self) -> int:
        cv = self.param_values["cv"]
        try:
            return int(cv.get_n_splits())
        except (AttributeError, TypeError, ValueError):
            # e.g. LeaveOneGroupOut counts the groups of the data it splits
            return super()._iters_from_params()

    def instantiate(self, task: Task) -> ResamplingSklearn:
        """Split ``task``'s rows with the splitter; returns ``self``.

        Raises:
            ParameterError: no splitter was given, or it cannot split the task (e.g. a group
                splitter without a ``group`` column, or more folds than groups).
        """
        self._check_task(task)
        cv = self.param_values["cv"]
        if cv is None:
            raise ParameterError(
                f"Resampling '{self.id}' needs a splitter: rsmp('sklearn', cv=KFold(5)) or any "
                f"object with split(X, y, groups)"
            )
        row_ids = task.row_ids
        groups = role_values(task, "group", row_ids)
        strata = role_values(task, "stratum", row_ids)
        y = strata if strata is not None else task.truth(row_ids)
        try:
            splits: list[Split] = [
                (np.asarray(train, dtype=int), np.asarray(test, dtype=int))
                for train, test in cv.split(np.zeros((len(row_ids), 1)), y, groups)
            ]
        except (ValueError, TypeError) as err:
            if isinstance(err, MlrpyError):
                raise
            hint = "" if groups is not None else " The task has no 'group' column role."
            raise ParameterError(
                f"Resampling '{self.id}' cannot split task '{task.id}' ({len(row_ids)} rows) "
                f"with {cv!r}: {str(err).rstrip('.')}.{hint}"
            ) from err
        if not splits:
            raise ParameterError(f"Resampling '{self.id}': {cv!r} gave no splits for task '{task.id}'")
        self._reset()
        self._store(task, row_ids, splits)
        return self
