"""Hyperparameter tuning (mlr3tuning's ``tune`` and ``auto_tuner``): grid, random or optuna search.

A *search space* maps parameter names, plain (``"epochs"``, ``"p"``) or dotted
(``"opt.lr"``, ``"cb.<id>.<param>"``, ``"loss.<param>"``, ``"module.<arg>"``), to the values
to try. For a scikit-learn estimator or Pipeline the names are its ``get_params`` names
(``"C"``, ``"scaler__with_mean"``), and an mlrpy learner inside a Pipeline keeps its dotted
ones behind its step name (``"mlp__opt.lr"``, ``"mlp__cb.<id>.<param>"``). The values:

* a list of choices: ``[0.05, 0.1]``, ``["relu", "tanh"]``, ``[(16,), (32, 32)]``;
* a range tuple ``(lower, upper)`` or ``(lower, upper, "log")``; integers if both bounds
  are ints. Grid search takes ``resolution`` points per range, random search draws
  uniformly (log-uniformly with ``"log"``);
* ``"schema"`` or :func:`to_tune` (``to_tune()``, ``to_tune(1e-4, 1e-1, log=True)``,
  ``to_tune(levels=[...])``, ``to_tune(lower=0.1)``): bounds or choices taken from the
  parameter's schema where not given (``ge``/``gt``/``le``/``lt`` for numbers, ``Literal``
  choices, ``[False, True]`` for booleans);
* ``"internal"`` or ``to_tune(internal=True)`` for ``"epochs"``: the number of epochs is
  found by early stopping inside each resampling iteration (mlr3torch's
  ``to_tune(internal = TRUE)``). The learner needs ``patience > 0``; ``validate="test"`` is
  set when ``validate`` is ``None``; ``epochs`` (or ``to_tune(upper=..., internal=True)``)
  is the maximum. Each configuration's epochs are the mean over the iterations of
  ``internal_tuned_values["epochs"]``, rounded up.

Every configuration is evaluated with :func:`mlrpy.resample.resample` on the same splits
and recorded in the archive with its score, per-iteration scores, runtime and error
(:mod:`~mlrpy.tuning.archive`); ``on_error="warn"`` records a failing configuration instead
of stopping. Grid and random configurations run in parallel through :class:`joblib.Parallel`
(``n_jobs``); ``tuner="optuna"`` proposes them one by one and can prune through a callback
(:mod:`~mlrpy.tuning.optuna_tuner`). :func:`auto_tuner` wraps all this into a learner that
tunes when it is trained, for nested resampling (:mod:`~mlrpy.tuning.auto_tuning`).

Modules: :mod:`~mlrpy.tuning.space` (search spaces), :mod:`~mlrpy.tuning.tuners` (grid,
random), :mod:`~mlrpy.tuning.optuna_tuner`, :mod:`~mlrpy.tuning.archive` (evaluation, archive,
:class:`TuningResult`), :mod:`~mlrpy.tuning.runner` (:func:`tune`),
:mod:`~mlrpy.tuning.auto_tuning`.

Example:
    >>> from mlrpy import lrn, tsk
    >>> from mlrpy.resampling import rsmp
    >>> from mlrpy.tuning import tune
    >>> result = tune(lrn("classif.mlp", epochs=3, random_state=0), tsk("iris"),
    ...               rsmp("holdout", seed=1), "classif.acc",
    ...               {"opt.lr": [0.001, 0.01]})
    >>> list(result.archive.columns), len(result.archive)
    (['opt.lr', 'classif.acc', 'scores', 'runtime', 'error'], 2)
    >>> result.best_params["opt.lr"] in (0.001, 0.01)
    True
"""

from __future__ import annotations

from mlrpy.tuning.archive import TuningResult
from mlrpy.tuning.auto_tuning import AutoTuner, auto_tuner
from mlrpy.tuning.runner import tune
from mlrpy.tuning.space import TuneToken, parse_search_space, to_tune

__all__ = ["AutoTuner", "TuneToken", "TuningResult", "auto_tuner", "parse_search_space", "to_tune", "tune"]
