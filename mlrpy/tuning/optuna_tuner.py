"""The ``"optuna"`` tuner: configurations proposed by an optuna sampler, pruned by its pruner.

Install it with ``pip install 'mlrpy[optuna]'``; optuna is imported only when this tuner is
used. The study runs ``study.optimize``, so any sampler works (``GridSampler`` included, which
may stop the study before ``n_trials``). Each trial suggests one value per searched parameter
(``suggest_float`` / ``suggest_int`` for ranges, ``log=True`` for log ranges,
``suggest_categorical`` for choices) and returns the configuration's aggregated score; a
failed configuration (``on_error="warn"``) is a failed trial.

Pruning goes through the callback system. With a ``pruner``, the learner gets the callback
``optuna_pruning`` (:class:`CallbackSetOptunaPruning`): at every validation it reports the
tuning measure's validation score to the trial, and when the pruner says so it sets
``ctx.terminate``. The run then ends after that epoch, the remaining resampling iterations
train no epochs, and the trial is recorded as pruned. The reported step counts validations
across the iterations of one configuration (with a fixed number of epochs, step ``s`` is the
same iteration and epoch in every trial).

The learner validates on each iteration's test rows (``validate="test"``) unless it has a
``validate`` of its own; an mlrpy learner inside a Pipeline needs a held-out fraction
(``validate=0.2``), because the Pipeline trains it with ``fit(X, y)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mlrpy.callbacks import CallbackSet, TorchCallback
from mlrpy.errors import ParameterError
from mlrpy.learners import LearnerTorch
from mlrpy.measures import Measure
from mlrpy.reporting import progress_bar
from mlrpy.tuning.archive import ConfigResult
from mlrpy.tuning.space import SearchDim

__all__ = ["CallbackSetOptunaPruning", "TrialReporter", "import_optuna", "optuna_search", "suggest"]


def import_optuna() -> Any:
    """The optuna module, or an :class:`ImportError` saying how to install it."""
    try:
        import optuna
    except ImportError as err:
        raise ImportError(
            "tune(tuner='optuna') needs the package 'optuna'; install it with: "
            "pip install 'mlrpy[optuna]'"
        ) from err
    return optuna


class TrialReporter:
    """Reports validation scores to one optuna trial and remembers whether it was pruned.

    Learners are copied for every resampling iteration; a reporter is a handle to its trial,
    so copies share it.
    """

    def __init__(self, trial: Any) -> None:
        self.trial = trial
        self.step = 0
        self.pruned = False

    def report(self, value: float) -> bool:
        """Report ``value`` as the next step; ``True`` if the trial should stop."""
        self.step += 1
        self.trial.report(float(value), self.step)
        if self.trial.should_prune():
            self.pruned = True
        return self.pruned

    def __copy__(self) -> TrialReporter:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> TrialReporter:
        return self


class CallbackSetOptunaPruning(CallbackSet):
    """Reports the validation score ``monitor`` to an optuna trial after every validation
    and stops training (``ctx.terminate``) once the trial is pruned.

    Args:
        reporter: the :class:`TrialReporter` of the trial.
        monitor: the key in ``ctx.last_scores_valid`` to report (a measure id or ``"loss"``).
    """

    def __init__(self, reporter: Any, monitor: str) -> None:
        self.reporter = reporter
        self.monitor = monitor

    def on_begin(self) -> None:
        if self.reporter.pruned:  # pruned in an earlier resampling iteration
            self.ctx.terminate = True

    def on_valid_end(self) -> None:
        scores = self.ctx.last_scores_valid or {}
        if self.monitor not in scores:
            raise ParameterError(
                f"optuna pruning reports '{self.monitor}', but the validation scores are "
                f"{sorted(scores)}; add it to the learner's measures_valid"
            )
        value = scores[self.monitor]
        if math.isfinite(value) and self.reporter.report(value):
            self.ctx.terminate = True


def _pruning_callback(reporter: TrialReporter, monitor: str) -> TorchCallback:
    tc = TorchCallback("optuna_pruning", CallbackSetOptunaPruning, label="Optuna Pruning")
    tc.set_values(reporter=reporter, monitor=monitor)
    return tc


def _torch_learner(learner: Any) -> tuple[str, LearnerTorch]:
    if isinstance(learner, LearnerTorch):
        return "", learner
    nested = learner.torch_learners() if callable(getattr(learner, "torch_learners", None)) else {}
    if len(nested) != 1:
        raise ParameterError(
            f"tune(tuner='optuna', pruner=...): pruning reports the validation scores of an "
            f"mlrpy learner's epochs, but learner '{learner.id}' holds {len(nested)} mlrpy "
            f"learners; prune with exactly one, or drop the pruner"
        )
    return next(iter(nested.items()))


def add_pruning(learner: Any, reporter: TrialReporter, measure: Measure) -> None:
    """Give ``learner`` (or the mlrpy learner inside it) the pruning callback and the
    validation it needs; see the module documentation."""
    prefix, target = _torch_learner(learner)
    callbacks = target.callbacks
    listed = list(callbacks) if isinstance(callbacks, (list, tuple)) else (
        [] if callbacks is None else [callbacks]
    )
    params: dict[str, Any] = {prefix + "callbacks": [*listed, _pruning_callback(reporter, measure.id)]}
    if target.validate is None and not prefix:
        params["validate"] = "test"
    elif prefix and not isinstance(target.validate, float):
        raise ParameterError(
            f"tune(tuner='optuna', pruner=...): the mlrpy learner at '{prefix[:-2]}' is trained "
            f"by the Pipeline with fit(X, y), so it needs a held-out fraction to validate on; "
            f"set {prefix}validate=0.2 (or another fraction)"
        )
    known = [m if isinstance(m, str) else m.id for m in (target.measures_valid or [])]
    if measure.id not in known:
        params[prefix + "measures_valid"] = [*(target.measures_valid or []), measure]
    learner.set_params(**params)


def suggest(trial: Any, dims: list[SearchDim]) -> dict[str, Any]:
    """One configuration suggested by ``trial``, one value per dimension."""
    config: dict[str, Any] = {}
    for d in dims:
        if d.choices is not None:
            if all(c is None or isinstance(c, (bool, int, float, str)) for c in d.choices):
                config[d.name] = trial.suggest_categorical(d.name, d.choices)
                continue
            # optuna stores plain values only: suggest a label, map it back to the choice
            labels = [repr(c) for c in d.choices]
            if len(set(labels)) < len(labels):
                labels = [str(i) for i in range(len(d.choices))]
            config[d.name] = d.choices[labels.index(trial.suggest_categorical(d.name, labels))]
        elif d.integer:
            config[d.name] = trial.suggest_int(d.name, int(d.lower), int(d.upper), log=d.log)
        else:
            config[d.name] = trial.suggest_float(d.name, d.lower, d.upper, log=d.log)
    return config


def optuna_search(
    evaluate: Callable[[int, dict[str, Any], TrialReporter | None], ConfigResult],
    dims: list[SearchDim],
    measure: Measure,
    n_trials: int,
    sampler: Any,
    pruner: Any,
    random_state: Any,
    progress: bool | None,
) -> tuple[list[ConfigResult], Any]:
    """Run ``n_trials`` trials; returns their results and the optuna study.

    ``evaluate(j, config, reporter)`` evaluates configuration ``j``; ``reporter`` is ``None``
    without a pruner.
    """
    optuna = import_optuna()
    if sampler is None:
        sampler = optuna.samplers.TPESampler(seed=random_state)
    study = optuna.create_study(
        direction="minimize" if measure.minimize else "maximize",
        sampler=sampler,
        pruner=pruner if pruner is not None else optuna.pruners.NopPruner(),
    )
    results: list[ConfigResult] = []

    def objective(trial: Any) -> float:
        reporter = TrialReporter(trial) if pruner is not None else None
        result = evaluate(len(results), suggest(trial, dims), reporter)
        result.pruned = reporter is not None and reporter.pruned
        results.append(result)
        bar.update(1)
        if result.pruned:
            result.score, result.scores = math.nan, []
            raise optuna.TrialPruned()
        return result.score  # NaN (a failed configuration) makes a failed trial

    with progress_bar(n_trials, "tune (optuna)", progress) as bar:
        study.optimize(objective, n_trials=n_trials)
    return results, study
