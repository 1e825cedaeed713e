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
* ``rsmp("sklearn", cv=<splitter>)`` uses any scikit-learn splitter, with the task's
  ``group`` and ``stratum`` columns (see :mod:`mlrpy.resampling.splitters`).

Modules: :mod:`~mlrpy.resampling.base` (the :class:`Resampling` base class),
:mod:`~mlrpy.resampling.strategies` (holdout, subsampling, cv, repeated_cv, bootstrap),
:mod:`~mlrpy.resampling.fixed` (insample, loo, custom), :mod:`~mlrpy.resampling.splitters`
(sklearn), :mod:`~mlrpy.resampling.registry` (:data:`mlr_resamplings`, :func:`rsmp`).

Example:
    >>> from mlrpy.resampling import rsmp
    >>> from mlrpy.tasks import tsk
    >>> cv = rsmp("cv", folds=3, seed=1).instantiate(tsk("iris"))
    >>> cv.iters, len(cv.train_set(0)), len(cv.test_set(0))
    (3, 100, 50)
"""

from __future__ import annotations

from mlrpy.resampling.base import NotInstantiatedError, Resampling
from mlrpy.resampling.fixed import ResamplingCustom, ResamplingInsample, ResamplingLOO
from mlrpy.resampling.registry import mlr_resamplings, rsmp, rsmps
from mlrpy.resampling.splitters import ResamplingSklearn
from mlrpy.resampling.strategies import (
    ResamplingBootstrap,
    ResamplingCV,
    ResamplingHoldout,
    ResamplingRepeatedCV,
    ResamplingSubsampling,
)

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
    "ResamplingSklearn",
    "ResamplingSubsampling",
    "mlr_resamplings",
    "rsmp",
    "rsmps",
]
