"""The :class:`Resampling` base class: parameters, instantiation on a task, access to splits.

Column roles shape every strategy's splits (as in mlr3):

* ``group``: the strategy splits the groups instead of the rows (one group per distinct
  value, or combination of values of several group columns), so a group's rows are always on
  the same side of a split; cross-validation then has ``folds`` folds of groups, leave-one-out
  leaves one group out, bootstrap draws groups. Grouping does not combine with
  stratification: ``stratify`` is not applied, and a ``stratum`` column is an error.
* ``stratum``: the strategy stratifies on the stratum columns' values, together with the
  target's classes when ``stratify=True`` on a classification task.
* without either, ``stratify=True`` (the default) stratifies a classification task on its
  target.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlrpy.dictionary import suggest
from mlrpy.errors import DataError, MlrpyError, ParameterError
from mlrpy.learner_api import role_values
from mlrpy.tasks import Task

__all__ = ["MAX_SEED", "NotInstantiatedError", "Params", "Resampling", "SeedParams", "Split", "StratParams"]

MAX_SEED = 2**32 - 1

Split = tuple[np.ndarray, np.ndarray]


class NotInstantiatedError(MlrpyError, RuntimeError):
    """A resampling's splits were asked for before :meth:`Resampling.instantiate`."""


# -- parameter schemas ------------------------------------------------------------------------
class Params(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class SeedParams(Params):
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] | None = None


class StratParams(SeedParams):
    stratify: bool = True



def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so that ``folds=np.int64(3)`` passes strict checks."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


# -- base class -------------------------------------------------------------------------------
class Resampling:
    """Base class of all resampling strategies; use :func:`rsmp` to create one.

    Args:
        **params: parameter values; see each strategy's ``param_values`` for the names and
            defaults.

    Attributes:
        id: the strategy's name (its registry key unless changed).
        label: a human readable name.
        param_values: the current parameter values, defaults included.
        seed_used: the seed the current instance was built with (``None`` for
            deterministic strategies or before :meth:`instantiate`).
        task_id: the id of the task the resampling was instantiated on.
        task_row_ids: that task's row ids at instantiation.
        duplicated_ids: ``True`` if a training set can hold a row more than once.

    Example:
        >>> from mlrpy.resampling import rsmp
        >>> r = rsmp("holdout", ratio=0.8)
        >>> r.param_values
        {'ratio': 0.8, 'stratify': True, 'seed': None}
        >>> r.is_instantiated
        False
    """

    key: ClassVar[str] = ""
    default_label: ClassVar[str] = ""
    duplicated_ids: ClassVar[bool] = False
    _params_model: ClassVar[type[Params]] = Params

    def __init__(self, **params: Any) -> None:
        self.id: str = self.key
        self.label: str = self.default_label
        self.param_values: dict[str, Any] = self._validate(params)
        self._reset()

    # -- parameters ---------------------------------------------------------------------------
    def _validate(self, values: dict[str, Any]) -> dict[str, Any]:
        model = self._params_model
        values = {k: _plain(v) for k, v in values.items()}
        try:
            dumped = model.model_validate(values).model_dump()
        except ValidationError as e:
            err = e.errors()[0]
            name = str(err["loc"][0]) if err["loc"] else "?"
            valid = list(model.model_fields)
            if err["type"] == "extra_forbidden":
                raise ParameterError(
                    f"Resampling '{self.id}': unknown parameter '{name}'."
                    f"{suggest(name, valid)} Valid parameters: {', '.join(valid) or 'none'}"
                ) from None
            raise ParameterError(
                f"Resampling '{self.id}': invalid value for parameter '{name}': "
                f"{values.get(name)!r} ({err['msg']})"
            ) from None
        # the strategy's own parameters first, then the shared ``stratify`` and ``seed``
        shared = ("stratify", "seed")
        return {
            **{k: v for k, v in dumped.items() if k not in shared},
            **{k: dumped[k] for k in shared if k in dumped},
        }

    def set_values(self, **params: Any) -> Resampling:
        """Change parameter values (validated); discards any instance. Returns ``self``.

        Example:
            >>> from mlrpy.resampling import rsmp
            >>> rsmp("cv").set_values(folds=5).param_values["folds"]
            5
        """
        self.param_values = self._validate({**self.param_values, **params})
        self._reset()
        return self

    # -- instance -----------------------------------------------------------------------------
    #: what :meth:`_splits` splits: "rows", or "groups" for a task with group columns
    _unit: str = "rows"

    def _reset(self) -> None:
        self._train: list[list[Any]] | None = None
        self._test: list[list[Any]] | None = None
        self.seed_used: int | None = None
        self.task_id: str | None = None
        self.task_row_ids: list[Any] | None = None

    @property
    def is_instantiated(self) -> bool:
        """Whether the train and test sets are fixed."""
        return self._train is not None

    def _check_task(self, task: Any) -> None:
        if not isinstance(task, Task):
            raise TypeError(
                f"Resampling '{self.id}'.instantiate() needs a Task, got {type(task).__name__}"
            )

    def _store(self, task: Task, row_ids: list[Any], splits: Sequence[Split]) -> None:
        self._train = [[row_ids[i] for i in train] for train, _ in splits]
        self._test = [[row_ids[i] for i in test] for _, test in splits]
        self.task_id = task.id
        self.task_row_ids = list(row_ids)

    def instantiate(self, task: Task) -> Resampling:
        """Fix the train and test sets of every iteration for ``task``; returns ``self``.

        Raises:
            ParameterError: the parameters do not fit the task (e.g. more folds than rows,
                or a class too small to stratify).

        Example:
            >>> from mlrpy.resampling import rsmp
            >>> from mlrpy.tasks import tsk
            >>> r = rsmp("holdout", seed=7).instantiate(tsk("diabetes"))
            >>> r.is_instantiated, len(r.train_set(0)), len(r.test_set(0))
            (True, 295, 147)
        """
        self._check_task(task)
        params = self._validate(self.param_values)
        row_ids = task.row_ids
        seed: int | None = None
        if "seed" in params:
            seed = params["seed"]
            if seed is None:
                seed = int(np.random.randint(0, MAX_SEED, dtype=np.int64))
        groups = self._groups(task, row_ids)
        y = None if groups is not None else self._strata(task, row_ids, params)
        self._unit = "rows" if groups is None else "groups"
        try:
            if groups is None:
                splits = self._splits(len(row_ids), y, seed, params)
            else:
                splits = _expand_groups(self._splits(len(groups), None, seed, params), groups)
        except ValueError as e:
            if isinstance(e, MlrpyError):
                raise
            hint = " Try stratify=False." if y is not None else ""
            raise ParameterError(
                f"Resampling '{self.id}' cannot split task '{task.id}' "
                f"({len(row_ids)} rows) with {self._param_str()}: {str(e).rstrip('.')}.{hint}"
            ) from e
        finally:
            self._unit = "rows"
        self._reset()
        self._store(task, row_ids, splits)
        self.seed_used = seed
        return self

    def _groups(self, task: Task, row_ids: list[Any]) -> list[np.ndarray] | None:
        """The row positions of each group (in order of first appearance), or ``None``."""
        values = role_values(task, "group", row_ids)
        if values is None:
            return None
        if role_values(task, "stratum", row_ids) is not None:
            raise ParameterError(
                f"Resampling '{self.id}': task '{task.id}' has both group columns "
                f"{task.col_roles['group']} and stratum columns {task.col_roles['stratum']}; "
                f"grouping and stratification cannot be combined, remove one of the roles"
            )
        codes, uniques = pd.factorize(values)
        if len(uniques) < 2:
            raise DataError(
                f"Resampling '{self.id}': the rows of task '{task.id}' form a single group "
                f"({uniques.tolist()[0]!r} in {task.col_roles['group']}); rows of one group are never "
                f"split, so grouping needs at least 2 groups"
            )
        order = np.argsort(codes, kind="stable")
        return np.split(order, np.cumsum(np.bincount(codes))[:-1])

    def _strata(self, task: Task, row_ids: list[Any], params: dict[str, Any]) -> np.ndarray | None:
        """The labels to stratify on: stratum columns and, with ``stratify``, the classes."""
        strata = role_values(task, "stratum", row_ids)
        classes = None
        if params.get("stratify") and task.task_type == "classif":
            classes = task.truth(row_ids)
        if strata is None or classes is None:
            return classes if strata is None else strata
        return np.asarray([f"{s}|{c}" for s, c in zip(strata, classes)], dtype=object)

    def _splits(
        self, n: int, y: np.ndarray | None, seed: int | None, params: dict[str, Any]
    ) -> list[Split]:
        """Positional ``(train, test)`` index arrays for ``n`` rows (or groups)."""
        raise NotImplementedError

    def _too_few_rows(self, n: int, what: str) -> ParameterError:
        return ParameterError(f"Resampling '{self.id}': {what}, but the task has {n} {self._unit}")

    # -- access -------------------------------------------------------------------------------
    def _iters_from_params(self) -> int:
        raise NotInstantiatedError(
            f"Resampling '{self.id}': the number of iterations is known only after "
            "instantiate(task)"
        )

    @property
    def iters(self) -> int:
        """Number of iterations (train/test pairs).

        Example:
            >>> from mlrpy.resampling import rsmp
            >>> rsmp("repeated_cv", folds=5, repeats=2).iters
            10
        """
        if self._train is not None:
            return len(self._train)
        return self._iters_from_params()

    def _check_iteration(self, i: Any) -> int:
        if self._train is None:
            raise NotInstantiatedError(
                f"Resampling '{self.id}' is not instantiated; "
                "call resampling.instantiate(task) first"
            )
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"Resampling '{self.id}': iteration must be an int, got {i!r}")
        n = len(self._train)
        if not 0 <= i < n:
            raise IndexError(
                f"Resampling '{self.id}': iteration {i} out of range; valid iterations are "
                f"0..{n - 1} (0-based)"
            )
        return int(i)

    def train_set(self, i: int) -> list[Any]:
        """Row ids of the training set of iteration ``i`` (0-based).

        Example:
            >>> from mlrpy.resampling import rsmp
            >>> from mlrpy.tasks import tsk
            >>> r = rsmp("insample").instantiate(tsk("iris"))
            >>> r.train_set(0)[:3]
            [0, 1, 2]
        """
        i = self._check_iteration(i)
        assert self._train is not None
        return list(self._train[i])

    def test_set(self, i: int) -> list[Any]:
        """Row ids of the test set of iteration ``i`` (0-based).

        Example:
            >>> from mlrpy.resampling import rsmp
            >>> from mlrpy.tasks import tsk
            >>> r = rsmp("cv", folds=3, seed=1).instantiate(tsk("iris"))
            >>> sorted(r.test_set(0) + r.test_set(1) + r.test_set(2)) == list(range(150))
            True
        """
        i = self._check_iteration(i)
        assert self._test is not None
        return list(self._test[i])

    def clone(self) -> Resampling:
        """An independent copy, including the instance if there is one.

        Example:
            >>> from mlrpy.resampling import rsmp
            >>> r = rsmp("cv", folds=3)
            >>> r2 = r.clone().set_values(folds=4)
            >>> r.param_values["folds"], r2.param_values["folds"]
            (3, 4)
        """
        return copy.deepcopy(self)

    def _param_str(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.param_values.items()) or "no parameters"

    def __repr__(self) -> str:
        try:
            iters: Any = self.iters
        except NotInstantiatedError:
            iters = "? (known after instantiate)"
        return (
            f"<{type(self).__name__}:{self.id}> {self.label}\n"
            f"* Iterations: {iters}\n"
            f"* Instantiated: {self.is_instantiated}\n"
            f"* Parameters: {self._param_str()}"
        )


def _expand_groups(splits: Sequence[Split], groups: list[np.ndarray]) -> list[Split]:
    """Splits of group positions as splits of the groups' rows (in row order; a group drawn
    twice by the bootstrap contributes its rows twice)."""
    def rows(positions: np.ndarray) -> np.ndarray:
        return np.sort(np.concatenate([groups[g] for g in positions] or [np.empty(0, dtype=int)]))

    return [(rows(train), rows(test)) for train, test in splits]
