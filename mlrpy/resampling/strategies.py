"""The randomised strategies: holdout, subsampling, cross-validation, repeated CV, bootstrap.

Each draws its splits with a scikit-learn splitter seeded by ``seed`` and stratifies on the
target of a classification task unless ``stratify=False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
from pydantic import Field
from sklearn.model_selection import (
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    ShuffleSplit,
    StratifiedKFold,
    StratifiedShuffleSplit,
)
from sklearn.utils import resample

from mlrpy.errors import ParameterError
from mlrpy.resampling.base import Resampling, Split, StratParams

__all__ = [
    "ResamplingBootstrap",
    "ResamplingCV",
    "ResamplingHoldout",
    "ResamplingRepeatedCV",
    "ResamplingSubsampling",
]


# -- parameter schemas ------------------------------------------------------------------------
class _HoldoutParams(StratParams):
    ratio: Annotated[float, Field(gt=0, lt=1)] = 2 / 3


class _CVParams(StratParams):
    folds: Annotated[int, Field(ge=2)] = 10


class _RepeatedCVParams(_CVParams):
    repeats: Annotated[int, Field(ge=1)] = 10


class _SubsamplingParams(StratParams):
    repeats: Annotated[int, Field(ge=1)] = 30
    ratio: Annotated[float, Field(gt=0, lt=1)] = 2 / 3


class _BootstrapParams(StratParams):
    repeats: Annotated[int, Field(ge=1)] = 30
    ratio: Annotated[float, Field(gt=0, le=1)] = 1.0



# -- strategies -------------------------------------------------------------------------------
def _n_train(self: Resampling, n: int, ratio: float) -> int:
    n_train = round(ratio * n)
    if n_train < 1 or n_train >= n:
        unit = self._unit
        raise ParameterError(
            f"Resampling '{self.id}': ratio={ratio!r} of {n} {unit} gives {n_train} training "
            f"and {n - n_train} test {unit}; both must be at least 1"
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
            raise self._too_few_rows(n, f"folds={folds} needs at least {folds} {self._unit}")
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
            raise self._too_few_rows(n, f"folds={folds} needs at least {folds} {self._unit}")
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
