""":func:`tune`: check the arguments, let the tuner propose configurations, evaluate them,
record them in the archive and pick the best."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from functools import partial
from typing import Any

from joblib import delayed

from mlrpy.conversions import as_learner, as_resampling, as_task
from mlrpy.errors import ParameterError
from mlrpy.measures import Measure, resolve_measures
from mlrpy.reporting import run_jobs
from mlrpy.resample import check_task, clone_learner, instantiated_for
from mlrpy.resampling import Resampling
from mlrpy.run_folders import checkpoint_folders
from mlrpy.tasks import Task
from mlrpy.tuning.archive import ConfigResult, TuningResult, archive_frame, best_index, evaluate_config
from mlrpy.tuning.optuna_tuner import TrialReporter, add_pruning, import_optuna, optuna_search
from mlrpy.tuning.space import TuneToken, is_int, parse_search_space
from mlrpy.tuning.tuners import configurations, tuner_key

__all__ = ["tune"]

logger = logging.getLogger(__name__)

_ON_ERROR = ("raise", "warn")


def _check_positive_int(name: str, value: Any) -> int:
    if not is_int(value) or value < 1:
        raise ParameterError(f"tune(): '{name}' must be an integer >= 1, got {value!r}")
    return int(value)


def _one_measure(measure: Any, task: Task) -> Measure:
    if isinstance(measure, (list, tuple)):
        if len(measure) != 1:
            raise ParameterError(f"tune() optimises one measure, got {len(measure)}: {measure!r}")
        measure = measure[0]
    return resolve_measures(measure, task.task_type, task.id)[0]


def _internal_template(learner: Any, template: Any, internal: TuneToken) -> None:
    patience = getattr(learner, "patience", None)
    if not patience or patience <= 0:
        raise ParameterError(
            f"tune(): 'epochs' is tuned internally by early stopping, but learner "
            f"'{learner.id}' has patience={patience!r}; set patience >= 1"
        )
    if internal.upper is not None:
        template.set_params(epochs=_check_positive_int("to_tune(upper=...)", internal.upper))
    if template.validate is None:
        template.set_params(validate="test")


def _check_configs(template: Any, configs: list[dict[str, Any]]) -> None:
    """Fail before any training on a value a parameter rejects."""
    for config in configs:
        try:
            configured = clone_learner(template).set_params(**config)
            if callable(getattr(configured, "check_params", None)):
                configured.check_params()
        except ParameterError as err:
            raise ParameterError(f"tune(): configuration {config} is invalid: {err}") from err


def tune(
    learner: Any,
    task: Task | str,
    resampling: Resampling | str,
    measure: str | Measure | None = None,
    search_space: Mapping[str, Any] | None = None,
    tuner: str = "grid_search",
    resolution: int = 5,
    n_evals: int = 10,
    n_jobs: int | None = None,
    random_state: Any = None,
    *,
    n_trials: int | None = None,
    sampler: Any = None,
    pruner: Any = None,
    on_error: str = "raise",
    progress: bool | None = None,
    method: str | None = None,
) -> TuningResult:
    """Tune ``learner``'s hyperparameters on ``task`` (mlr3tuning's ``tune``).

    Args:
        learner: the learner to tune (never changed): an mlrpy learner, a key, or a
            scikit-learn estimator or Pipeline (see :func:`~mlrpy.conversions.as_learner`).
        task: a task or task key.
        resampling: how each configuration is evaluated; instantiated once (on a copy) so
            every configuration sees the same splits.
        measure: the measure to optimise (default: the task type's default measure); its
            ``minimize`` decides the direction.
        search_space: parameter name → values (see :mod:`mlrpy.tuning`).
        tuner: ``"grid_search"`` / ``"grid"``, ``"random_search"`` / ``"random"`` or
            ``"optuna"`` (see :mod:`mlrpy.tuning.tuners`).
        resolution: grid points per range.
        n_evals: number of random configurations.
        n_jobs: grid and random search: configurations evaluated in parallel by
            :class:`joblib.Parallel`; optuna without a pruner: the iterations of each
            configuration.
        random_state: seed of the random search and of optuna's default sampler.
        n_trials: number of optuna trials (default: ``n_evals``).
        sampler: an optuna sampler (default: ``TPESampler(seed=random_state)``).
        pruner: an optuna pruner; prunes through a callback (see
            :mod:`mlrpy.tuning.optuna_tuner`). Default: no pruning.
        on_error: ``"raise"`` (default) stops at the first configuration that fails;
            ``"warn"`` records its error in the archive, warns and goes on.
        progress: a bar over the configurations on stderr: ``None`` when stderr is a
            terminal, ``True`` always, ``False`` never.
        method: the former name of ``tuner``.

    Returns:
        A :class:`~mlrpy.tuning.archive.TuningResult`.

    Raises:
        UnknownKeyError: a search space key that is not a parameter; an unknown measure.
        ParameterError: an invalid search space, tuner or measure; internal tuning
            without ``patience > 0``; no configuration with a score.
        ImportError: ``tuner="optuna"`` without optuna installed.

    Example:
        >>> from mlrpy import lrn, tsk
        >>> from mlrpy.resampling import rsmp
        >>> from mlrpy.tuning import tune
        >>> learner = lrn("classif.mlp", epochs=20, patience=1, random_state=0, neurons=(8,))
        >>> result = tune(learner, tsk("iris"), rsmp("cv", folds=2, seed=1), "classif.ce",
        ...               {"epochs": "internal", "opt.lr": [0.01]})
        >>> list(result.archive.columns)
        ['opt.lr', 'classif.ce', 'epochs', 'scores', 'runtime', 'error']
        >>> result.best_learner().model.epochs == result.best_params["epochs"]
        True
    """
    if method is not None:
        if tuner != "grid_search" and tuner != method:
            raise ParameterError(f"tune(): got tuner={tuner!r} and method={method!r}; give one")
        tuner = method
    key = tuner_key(tuner)
    learner = as_learner(learner)
    task = as_task(task)
    check_task(learner, task)
    resolution = _check_positive_int("resolution", resolution)
    n_evals = _check_positive_int("n_evals", n_evals)
    trials = _check_positive_int("n_trials", n_evals if n_trials is None else n_trials)
    if on_error not in _ON_ERROR:
        raise ParameterError(f"tune(): on_error must be one of {list(_ON_ERROR)}, got {on_error!r}")
    if key != "optuna" and (n_trials, sampler, pruner) != (None, None, None):
        raise ParameterError(f"tune(): n_trials, sampler and pruner are for tuner='optuna', not {tuner!r}")
    if key == "optuna":
        import_optuna()  # fail before any work when optuna is missing
    msr_ = _one_measure(measure, task)
    resampling = instantiated_for(as_resampling(resampling), task)

    original = clone_learner(learner)
    dims, internal = parse_search_space(learner, search_space if search_space is not None else {})
    template = clone_learner(learner)
    if internal is not None:
        _internal_template(learner, template, internal)
    evaluate = partial(
        evaluate_config, task, template, resampling, msr_, internal=internal is not None,
        folders=checkpoint_folders(template), on_error=on_error,
    )
    logger.info(
        "tune: learner '%s' on task '%s' with %s, %d resampling iterations per configuration",
        learner.id, task.id, key, resampling.iters,
    )
    study = None
    if key == "optuna":
        def evaluate_trial(j: int, config: dict[str, Any], reporter: TrialReporter | None) -> ConfigResult:
            _check_configs(template, [config])
            prepare = None if reporter is None else partial(add_pruning, reporter=reporter, measure=msr_)
            return evaluate(config, j, n_jobs=n_jobs if reporter is None else 1, prepare=prepare)

        results, study = optuna_search(
            evaluate_trial, dims, msr_, trials, sampler, pruner, random_state, progress
        )
    else:
        configs = configurations(dims, key, resolution, n_evals, random_state)
        _check_configs(template, configs)
        results = run_jobs(
            [delayed(evaluate)(config, j) for j, config in enumerate(configs)], n_jobs, progress, "tune"
        )
    for j, r in enumerate(results):
        if r.error is not None:
            warnings.warn(
                f"tune(): configuration {j} {r.params} failed: {r.error}", RuntimeWarning, stacklevel=2
            )
        logger.info("tune: configuration %d %s: %s=%s (%.1fs)", j, r.params, msr_.id, r.score, r.runtime)
    archive = archive_frame([d.name for d in dims], results, msr_, internal is not None, key == "optuna")
    best = best_index(results, msr_)
    best_params = dict(results[best].params)
    tuned = None
    if internal is not None:
        tuned = {"epochs": int(results[best].epochs)}  # type: ignore[arg-type]
        best_params["epochs"] = tuned["epochs"]
    return TuningResult(
        archive=archive,
        best_params=best_params,
        best_score=float(results[best].score),
        measure=msr_,
        learner=original,
        task=task,
        internal_tuned_values=tuned,
        study=study,
    )

