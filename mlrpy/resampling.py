"""Resampling strategies (mlr3's ``Resampling``) and their registry :data:`mlr_resamplings`.

A resampling is configured by parameters (validated by a pydantic model per strategy), then
*instantiated* on a task: that fixes the train and test sets of every iteration as lists of
the task's row ids. The splits themselves come from scikit-learn's splitters.

* Iterations are 0-based: ``train_set(0)`` is the first fold.
* On classification tasks the splits are stratified by the target unless
  ``stratify=False``; on regression tasks ``stratify`` is ignored.
* Randomised strategies take a ``seed``. With ``seed=None`` a seed is drawn from numpy's
  global random state at :meth:`Resampling.instantiate` and recorded in
  :attr:`Resampling.seed_used`, so ``np.random.seed(...)`` makes a run reproducible and any
  instance can be recreated with ``rsmp(key, seed=r.seed_used)``. ``insample``, ``loo`` and
  ``custom`` are deterministic and have no ``seed``.
* Changing a parameter with :meth:`Resampling.set_values` discards the instance.

Example:
    >>> from mlrpy.resampling import rsmp
    >>> from mlrpy.tasks import tsk
    >>> cv = rsmp("cv", folds=3, seed=1).instantiate(tsk("iris"))
    >>> cv.iters, len(cv.train_set(0)), len(cv.test_set(0))
    (3, 100, 50)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sklearn.model_selection import (
    KFold,
    LeaveOneOut,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    ShuffleSplit,
    StratifiedKFold,
    StratifiedShuffleSplit,
)
from sklearn.utils import resample

from mlrpy.dictionary import Dictionary, suggest
from mlrpy.errors import MlrpyError, ParameterError, UnknownKeyError
from mlrpy.tasks import Task

__all__ = [
    "NotInstantiatedError",
    "Resampling",
    "ResamplingBootstrap",
    "ResamplingCV",
    "ResamplingCustom",
    "ResamplingHoldout",
    "ResamplingInsample",
    "ResamplingLOO",
    "ResamplingRepeatedCV",
    "ResamplingSubsampling",
    "mlr_resamplings",
    "rsmp",
    "rsmps",
]

_MAX_SEED = 2**32 - 1

Split = tuple[np.ndarray, np.ndarray]


class NotInstantiatedError(MlrpyError, RuntimeError):
    """A resampling's splits were asked for before :meth:`Resampling.instantiate`."""


# -- parameter schemas ------------------------------------------------------------------------
class _Params(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class _SeedParams(_Params):
    seed: Annotated[int, Field(ge=0, le=_MAX_SEED)] | None = None


class _StratParams(_SeedParams):
    stratify: bool = True


class _HoldoutParams(_StratParams):
    ratio: Annotated[float, Field(gt=0, lt=1)] = 2 / 3


class _CVParams(_StratParams):
    folds: Annotated[int, Field(ge=2)] = 10


class _RepeatedCVParams(_CVParams):
    repeats: Annotated[int, Field(ge=1)] = 10


class _SubsamplingParams(_StratParams):
    repeats: Annotated[int, Field(ge=1)] = 30
    ratio: Annotated[float, Field(gt=0, lt=1)] = 2 / 3


class _BootstrapParams(_StratParams):
    repeats: Annotated[int, Field(ge=1)] = 30
    ratio: Annotated[float, Field(gt=0, le=1)] = 1.0


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
    _params_model: ClassVar[type[_Params]] = _Params

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
                seed = int(np.random.randint(0, _MAX_SEED, dtype=np.int64))
        y = None
        if params.get("stratify") and task.task_type == "classif":
            y = task.truth(row_ids)
        try:
            splits = self._splits(len(row_ids), y, seed, params)
        except ValueError as e:
            if isinstance(e, MlrpyError):
                raise
            hint = " Try stratify=False." if y is not None else ""
            raise ParameterError(
                f"Resampling '{self.id}' cannot split task '{task.id}' "
                f"({len(row_ids)} rows) with {self._param_str()}: {str(e).rstrip('.')}.{hint}"
            ) from e
        self._reset()
        self._store(task, row_ids, splits)
        self.seed_used = seed
        return self

    def _splits(
        self, n: int, y: np.ndarray | None, seed: int | None, params: dict[str, Any]
    ) -> list[Split]:
        """Positional ``(train, test)`` index arrays for ``n`` rows."""
        raise NotImplementedError

    def _too_few_rows(self, n: int, what: str) -> ParameterError:
        return ParameterError(f"Resampling '{self.id}': {what}, but the task has {n} rows")

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


# -- strategies -------------------------------------------------------------------------------
def _n_train(self: Resampling, n: int, ratio: float) -> int:
    n_train = round(ratio * n)
    if n_train < 1 or n_train >= n:
        raise ParameterError(
            f"Resampling '{self.id}': ratio={ratio!r} of {n} rows gives {n_train} training "
            f"and {n - n_train} test rows; both must be at least 1"
        )
    return n_train


def _shuffle_splits(
    self: Resampling, n: int, y: np.ndarray | None, seed: int | None, repeats: int, ratio: float
) -> list[Split]:
    n_train = _n_train(self, n, ratio)
    kw = {"n_splits": repeats, "train_size": n_train, "test_size": n - n_train,
          "random_state": seed}
    splitter = StratifiedShuffleSplit(**kw) if y is not None else ShuffleSplit(**kw)
    return list(splitter.split(np.zeros((n, 1)), y))


class ResamplingHoldout(Resampling):
    """One split: a share ``ratio`` (default 2/3) of the rows for training, the rest for testing.

    The training set has ``round(ratio * nrow)`` rows (``ShuffleSplit`` /
    ``StratifiedShuffleSplit``).

    Example:
        >>> from mlrpy.resampling import rsmp
        >>> from mlrpy.tasks import tsk
        >>> r = rsmp("holdout", ratio=0.8, seed=3).instantiate(tsk("iris"))
        >>> len(r.train_set(0)), len(r.test_set(0))
        (120, 30)
    """

    key = "holdout"
    default_label = "Holdout"
    _params_model = _HoldoutParams

    def _iters_from_params(self) -> int:
        return 1

    def _splits(
        self, n: int, y: np.ndarray | None, seed: int | None, params: dict[str, Any]
    ) -> list[Split]:
        return _shuffle_splits(self, n, y, seed, 1, params["ratio"])


class ResamplingSubsampling(Resampling):
    """``repeats`` (default 30) independent holdout splits with training share ``ratio``.

    Example:
        >>> from mlrpy.resampling import rsmp
        >>> from mlrpy.tasks import tsk
        >>> r = rsmp("subsampling", repeats=3, ratio=0.5, seed=3).instantiate(tsk("iris"))
        >>> r.iters, len(r.train_set(2))
        (3, 75)
    """

    key = "subsampling"
    default_label = "Subsampling"
    _params_model = _SubsamplingParams

    def _iters_from_params(self) -> int:
        return int(self.param_values["repeats"])

    def _splits(
        self, n: int, y: np.ndarray | None, seed: int | None, params: dict[str, Any]
    ) -> list[Split]:
        return _shuffle_splits(self, n, y, seed, params["repeats"], params["ratio"])


class ResamplingCV(Resampling):
    """``folds``-fold cross-validation (default 10): every row is tested exactly once.

    Uses ``KFold`` / ``StratifiedKFold`` with ``shuffle=True``.

    Example:
        >>> from mlrpy.resampling import rsmp
        >>> from mlrpy.tasks import tsk
        >>> r = rsmp("cv", folds=5, seed=1).instantiate(tsk("iris"))
        >>> [len(r.test_set(i)) for i in range(r.iters)]
        [30, 30, 30, 30, 30]
    """

    key = "cv"
    default_label = "Cross-Validation"
    _params_model = _CVParams

    def _iters_from_params(self) -> int:
        return int(self.param_values["folds"])

    def _splits(
        self, n: int, y: np.ndarray | None, seed: int | None, params: dict[str, Any]
    ) -> list[Split]:
        folds = params["folds"]
        if folds > n:
            raise self._too_few_rows(n, f"folds={folds} needs at least {folds} rows")
        cls = StratifiedKFold if y is not None else KFold
        splitter = cls(n_splits=folds, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros((n, 1)), y))


class ResamplingRepeatedCV(Resampling):
    """``repeats`` (default 10) runs of ``folds``-fold cross-validation (default 10).

    Iteration ``i`` is fold ``i % folds`` of repeat ``i // folds`` (see :meth:`folds` and
    :meth:`repeats`).

    Example:
        >>> from mlrpy.resampling import rsmp
        >>> from mlrpy.tasks import tsk
        >>> r = rsmp("repeated_cv", folds=3, repeats=2, seed=1).instantiate(tsk("iris"))
        >>> r.iters, r.folds([0, 1, 2, 3]), r.repeats([0, 1, 2, 3])
        (6, [0, 1, 2, 0], [0, 0, 0, 1])
    """

    key = "repeated_cv"
    default_label = "Repeated Cross-Validation"
    _params_model = _RepeatedCVParams

    def _iters_from_params(self) -> int:
        return int(self.param_values["folds"] * self.param_values["repeats"])

    def _splits(
        self, n: int, y: np.ndarray | None, seed: int | None, params: dict[str, Any]
    ) -> list[Split]:
        folds = params["folds"]
        if folds > n:
            raise self._too_few_rows(n, f"folds={folds} needs at least {folds} rows")
        cls = RepeatedStratifiedKFold if y is not None else RepeatedKFold
        splitter = cls(n_splits=folds, n_repeats=params["repeats"], random_state=seed)
        return list(splitter.split(np.zeros((n, 1)), y))

    def folds(self, iters: Sequence[int]) -> list[int]:
        """The fold (0-based) of each iteration in ``iters``."""
        return [int(i) % self.param_values["folds"] for i in iters]

    def repeats(self, iters: Sequence[int]) -> list[int]:
        """The repeat (0-based) of each iteration in ``iters``."""
        return [int(i) // self.param_values["folds"] for i in iters]


class ResamplingBootstrap(Resampling):
    """``repeats`` (default 30) bootstrap samples; the test set is the out-of-bag rows.

    Each training set draws ``round(ratio * nrow)`` rows with replacement
    (``sklearn.utils.resample``; default ``ratio=1``), so it can hold a row id several times;
    the test set holds every row not drawn, in task order.

    Example:
        >>> from mlrpy.resampling import rsmp
        >>> from mlrpy.tasks import tsk
        >>> r = rsmp("bootstrap", repeats=2, seed=1).instantiate(tsk("iris"))
        >>> train, test = r.train_set(0), r.test_set(0)
        >>> len(train), set(train).isdisjoint(test), len(set(train)) + len(test)
        (150, True, 150)
    """

    key = "bootstrap"
    default_label = "Bootstrap"
    duplicated_ids = True
    _params_model = _BootstrapParams

    def _iters_from_params(self) -> int:
        return int(self.param_values["repeats"])

    def _splits(
        self, n: int, y: np.ndarray | None, seed: int | None, params: dict[str, Any]
    ) -> list[Split]:
        ratio = params["ratio"]
        n_train = round(ratio * n)
        if n_train < 1:
            raise self._too_few_rows(n, f"ratio={ratio!r} draws no training rows")
        rs = np.random.RandomState(seed)
        positions = np.arange(n)
        out: list[Split] = []
        for _ in range(params["repeats"]):
            train = resample(
                positions, replace=True, n_samples=n_train, random_state=rs, stratify=y
            )
            in_bag = np.zeros(n, dtype=bool)
            in_bag[train] = True
            out.append((np.asarray(train), positions[~in_bag]))
        return out


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
            raise self._too_few_rows(n, "leave-one-out needs at least 2 rows")
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
        self._reset()
        self._store(task, row_ids, splits)
        return self


# -- registry and sugar ------------------------------------------------------------------------
_CLASSES: list[type[Resampling]] = [
    ResamplingBootstrap,
    ResamplingCustom,
    ResamplingCV,
    ResamplingHoldout,
    ResamplingInsample,
    ResamplingLOO,
    ResamplingRepeatedCV,
    ResamplingSubsampling,
]


def _describe_resampling(key: str, r: Resampling) -> dict[str, Any]:
    return {"label": r.label, "params": list(r.param_values)}


mlr_resamplings: Dictionary[Resampling] = Dictionary(
    "mlr_resamplings", describe=_describe_resampling
)
"""The registry of resampling strategies; ``mlr_resamplings.as_frame()`` lists them."""


def _factory(cls: type[Resampling]) -> Any:
    def make(**params: Any) -> Resampling:
        return cls(**params)

    make.__doc__ = f"A fresh {cls.__name__}."
    return make


for _cls in _CLASSES:
    mlr_resamplings.add(_cls.key, _factory(_cls))


def rsmp(key: str, **params: Any) -> Resampling:
    """A fresh resampling from :data:`mlr_resamplings`; keyword arguments set parameters.

    Example:
        >>> from mlrpy.resampling import rsmp
        >>> rsmp("cv", folds=3)
        <ResamplingCV:cv> Cross-Validation
        * Iterations: 3
        * Instantiated: False
        * Parameters: folds=3, stratify=True, seed=None
        >>> rsmp("cv", folds=1)
        Traceback (most recent call last):
        ...
        mlrpy.errors.ParameterError: Resampling 'cv': invalid value for parameter 'folds': 1 \
(Input should be greater than or equal to 2)
    """
    return mlr_resamplings.get(key, **params)


def rsmps(keys: Sequence[str], **params: Any) -> list[Resampling]:
    """Several fresh resamplings, each with the parameters ``params``.

    Example:
        >>> from mlrpy.resampling import rsmps
        >>> [r.id for r in rsmps(["holdout", "cv"])]
        ['holdout', 'cv']
    """
    if isinstance(keys, str):
        keys = [keys]
    return mlr_resamplings.mget(keys, **params)
