"""A learner that tunes itself when trained: :class:`AutoTuner` (mlr3tuning's ``auto_tuner``).

``train(task)`` (or ``fit(X, y)``) runs :func:`~mlrpy.tuning.tune` on the training data
with the inner ``resampling``, then trains the best configuration on all of that data;
``predict`` uses that final model. Because tuning happens inside training, resampling an
auto tuner is *nested resampling*: the outer test rows never influence the choice of
parameters, so its score estimates how well the whole procedure (tuning included)
generalises.

An :class:`AutoTuner` is a scikit-learn estimator too (``get_params``, ``clone``,
``fit``, ``predict``, ``predict_proba``), so ``cross_validate`` nests the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags, RegressorTags

from mlrpy.conversions import as_learner
from mlrpy.errors import NotFittedError, ParameterError
from mlrpy.tasks import Task, as_task_classif, as_task_regr
from mlrpy.tuning.archive import TuningResult
from mlrpy.tuning.runner import tune

__all__ = ["AutoTuner", "auto_tuner"]


def _task_from_arrays(X: Any, y: Any, task_type: str) -> Task:
    frame = X.reset_index(drop=True) if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    frame.columns = [str(c) if isinstance(X, pd.DataFrame) else f"x{c}" for c in frame.columns]
    target = "target"
    while target in frame.columns:
        target = f".{target}"
    frame[target] = np.asarray(y)
    make = as_task_classif if task_type == "classif" else as_task_regr
    return make(frame, target=target, id="data")


class AutoTuner(BaseEstimator):
    """A learner that tunes ``learner`` over ``search_space`` whenever it is trained.

    The arguments are those of :func:`~mlrpy.tuning.tune` (``progress`` is off: an auto
    tuner usually runs inside a resampling that shows its own).

    Attributes (after training):
        tuning_result_: the :class:`~mlrpy.tuning.archive.TuningResult` of the last training.
        learner_: the best configuration, trained on all the training data.

    Example:
        >>> from mlrpy import lrn, rsmp, tsk
        >>> from mlrpy.resample import resample
        >>> from mlrpy.tuning import auto_tuner
        >>> at = auto_tuner(lrn("classif.mlp", epochs=2, random_state=0), {"opt.lr": [0.01, 0.1]},
        ...                 rsmp("holdout", seed=1), "classif.ce")
        >>> rr = resample(tsk("iris"), at, rsmp("cv", folds=2, seed=2), store_models=True)
        >>> [len(lr.tuning_result_.archive) for lr in rr.learners]
        [2, 2]
    """

    def __init__(
        self,
        learner: Any,
        search_space: Mapping[str, Any],
        resampling: Any = "holdout",
        measure: Any = None,
        tuner: str = "grid_search",
        resolution: int = 5,
        n_evals: int = 10,
        n_jobs: int | None = None,
        random_state: Any = None,
        n_trials: int | None = None,
        sampler: Any = None,
        pruner: Any = None,
        on_error: str = "raise",
    ) -> None:
        self.learner = learner
        self.search_space = search_space
        self.resampling = resampling
        self.measure = measure
        self.tuner = tuner
        self.resolution = resolution
        self.n_evals = n_evals
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.n_trials = n_trials
        self.sampler = sampler
        self.pruner = pruner
        self.on_error = on_error

    # -- identity ---------------------------------------------------------------------------
    def _inner(self) -> Any:
        return as_learner(self.learner)

    @property
    def id(self) -> str:
        """``"<learner id>.tuned"`` unless set."""
        return self.__dict__.get("_id") or f"{self._inner().id}.tuned"

    @id.setter
    def id(self, value: str) -> None:
        self.__dict__["_id"] = value

    @property
    def task_type(self) -> str:
        return str(self._inner().task_type)

    @property
    def predict_type(self) -> str:
        return str(getattr(self._inner(), "predict_type", "response"))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        if self.task_type == "classif":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
        else:
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        return tags

    def check_task(self, task: Any) -> None:
        """Raise :class:`ParameterError` unless the inner learner can train on ``task``."""
        self._inner().check_task(task)

    def check_params(self) -> None:
        """Validate the inner learner's parameters."""
        inner = self._inner()
        if callable(getattr(inner, "check_params", None)):
            inner.check_params()

    # -- training -----------------------------------------------------------------------------
    def _tune(self, task: Task) -> TuningResult:
        return tune(
            self.learner, task, self.resampling, self.measure, self.search_space,
            tuner=self.tuner, resolution=self.resolution, n_evals=self.n_evals,
            n_jobs=self.n_jobs, random_state=self.random_state, n_trials=self.n_trials,
            sampler=self.sampler, pruner=self.pruner, on_error=self.on_error, progress=False,
        )

    def train(self, task: Any, row_ids: Sequence[Any] | None = None) -> AutoTuner:
        """Tune on ``task`` (only ``row_ids`` if given), then train the best configuration
        on the same rows; returns the auto tuner."""
        self.check_task(task)
        if row_ids is not None:
            task = task.clone().filter(list(row_ids))
        self.tuning_result_ = self._tune(task)
        self.learner_ = self.tuning_result_.best_learner()
        return self

    def fit(self, X: Any, y: Any) -> AutoTuner:
        """Tune on ``X``, ``y`` (scikit-learn face), then fit the best configuration on them."""
        self.tuning_result_ = self._tune(_task_from_arrays(X, y, self.task_type))
        self.learner_ = self.tuning_result_.configured_learner().fit(X, y)
        return self

    # -- prediction ---------------------------------------------------------------------------
    @property
    def model(self) -> Any:
        """The best configuration's trained learner; raises before training."""
        learner = getattr(self, "learner_", None)
        if learner is None:
            raise NotFittedError(f"Learner '{self.id}' has not been trained yet: call .train(task) first")
        return learner

    @property
    def internal_tuned_values(self) -> None:
        return None

    @property
    def internal_valid_scores(self) -> None:
        return None

    def predict(self, X: Any, row_ids: Sequence[Any] | None = None) -> Any:
        """``predict(task)``: a :class:`~mlrpy.prediction.Prediction`; ``predict(X)``: an array."""
        if row_ids is not None and not hasattr(X, "task_type"):
            raise ParameterError("row_ids is only valid together with a task")
        if hasattr(X, "task_type"):
            return self.model.predict(X, row_ids)
        return self.model.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the best configuration's learner."""
        return np.asarray(self.model.predict_proba(X))

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.model.classes_)

    def score(self, X: Any, y: Any) -> float:
        """The best configuration's learner's ``score``."""
        return float(self.model.score(X, y))

    def __sklearn_is_fitted__(self) -> bool:
        return getattr(self, "learner_", None) is not None


def auto_tuner(
    learner: Any,
    search_space: Mapping[str, Any],
    resampling: Any = "holdout",
    measure: Any = None,
    **kwargs: Any,
) -> AutoTuner:
    """An :class:`AutoTuner` (mlr3tuning's ``auto_tuner()``); ``kwargs`` as in
    :func:`~mlrpy.tuning.tune` (``tuner``, ``resolution``, ``n_evals``, ``n_trials``, ...).

    Example:
        >>> from mlrpy import lrn, tsk
        >>> from mlrpy.tuning import auto_tuner
        >>> at = auto_tuner(lrn("classif.mlp", epochs=2, random_state=0), {"opt.lr": [0.01, 0.1]})
        >>> at.id, at.train(tsk("iris")).tuning_result_.best_params["opt.lr"] in (0.01, 0.1)
        ('classif.mlp.tuned', True)
    """
    return AutoTuner(learner, search_space, resampling, measure, **kwargs)
