"""Any scikit-learn estimator or ``Pipeline`` as an mlrpy learner: :class:`LearnerSklearn`.

:func:`~mlrpy.conversions.as_learner` wraps an estimator in a :class:`LearnerSklearn`, which
is what lets :func:`~mlrpy.resample.resample`, :func:`~mlrpy.benchmark.benchmark` and
:func:`~mlrpy.tuning.tune` take scikit-learn estimators next to the torch learners:

* ``train(task)`` fits a copy (:func:`sklearn.base.clone`) of the estimator on the task's
  features and target, so a Pipeline's preprocessing is fitted on the training rows of each
  resampling iteration only; the estimator passed in is never fitted;
* ``predict(task)`` returns a :class:`~mlrpy.prediction.Prediction`, with class
  probabilities whenever the estimator has ``predict_proba``;
* the parameters are the estimator's own (``get_params(deep=True)``): ``C`` for a
  ``LogisticRegression``, ``<step>__<param>`` in a Pipeline, and for an mlrpy learner inside
  a Pipeline its dotted parameters too (``mlp__opt.lr``, ``mlp__cb.<id>.<param>``), so
  ``tune`` searches them all;
* the id is the estimator's class name, or a Pipeline's step names joined by ``.``
  (an mlrpy learner's step named by ``make_pipeline`` contributes its own id); set it with
  ``as_learner(estimator, id=...)`` or ``learner.id = ...``.

Example:
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from mlrpy import as_learner, tsk
    >>> learner = as_learner(make_pipeline(StandardScaler(), LogisticRegression()))
    >>> learner.id, learner.task_type
    ('standardscaler.logisticregression', 'classif')
    >>> prediction = learner.train(tsk("iris")).predict(tsk("iris"))
    >>> prediction.predict_types, round(prediction.score("classif.acc")["classif.acc"], 2)
    (['response', 'prob'], 0.97)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import has_fit_parameter

from mlrpy.dictionary import suggest
from mlrpy.errors import DataError, NotFittedError, ParameterError, UnknownKeyError
from mlrpy.learner_api import role_values
from mlrpy.learners import LearnerTorch
from mlrpy.prediction import Prediction, PredictionClassif, PredictionRegr, with_task_info

__all__ = ["LearnerSklearn", "default_id", "is_estimator"]

_TASK_TYPES = ("classif", "regr")
_TABLE_COLUMNS = ["id", "value", "type", "lower", "upper", "default"]


def is_estimator(x: Any) -> bool:
    """Whether ``x`` looks like a scikit-learn estimator (``fit`` and ``get_params``).

    Example:
        >>> from sklearn.linear_model import Ridge
        >>> from mlrpy.sklearn_learner import is_estimator
        >>> is_estimator(Ridge()), is_estimator(Ridge)
        (True, False)
    """
    return (
        not isinstance(x, type)
        and callable(getattr(x, "fit", None))
        and callable(getattr(x, "get_params", None))
    )


def default_id(estimator: Any) -> str:
    """The id :class:`LearnerSklearn` gives ``estimator``: its class name, or a Pipeline's
    step names joined by ``.``.

    Example:
        >>> from sklearn.linear_model import Ridge
        >>> from sklearn.pipeline import Pipeline, make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> from mlrpy import lrn
        >>> from mlrpy.sklearn_learner import default_id
        >>> default_id(Ridge()), default_id(Pipeline([("scale", StandardScaler()), ("ridge", Ridge())]))
        ('Ridge', 'scale.ridge')
        >>> default_id(make_pipeline(StandardScaler(), lrn("regr.mlp")))
        'standardscaler.regr.mlp'
    """
    if isinstance(estimator, Pipeline):
        return ".".join(
            _step_id(name, step) for name, step in estimator.steps
            if step is not None and not (isinstance(step, str) and step == "passthrough")
        )
    return type(estimator).__name__


def _step_id(name: str, step: Any) -> str:
    own = getattr(step, "id", None)
    generated = name == type(step).__name__.lower()  # make_pipeline's name for the step
    return own if generated and isinstance(own, str) else name


def _task_type_of(estimator: Any, given: str | None) -> str:
    if given is not None:
        if given not in _TASK_TYPES:
            raise ParameterError(f"task_type must be one of {list(_TASK_TYPES)} or None, got {given!r}")
        return given
    if is_classifier(estimator):
        return "classif"
    if is_regressor(estimator):
        return "regr"
    raise ParameterError(
        f"Cannot tell whether {type(estimator).__name__} is a classifier or a regressor (a "
        f"Pipeline needs a predictor as its last step); pass task_type='classif' or 'regr'"
    )


class LearnerSklearn:
    """A scikit-learn estimator with mlrpy's learner face (see :mod:`mlrpy.sklearn_learner`).

    Args:
        estimator: any scikit-learn estimator or Pipeline; it is never fitted itself.
        id: the learner's id (default: :func:`default_id`).
        task_type: ``"classif"`` or ``"regr"`` (default: from the estimator).

    Attributes:
        estimator: the unfitted estimator, whose parameters are the learner's.
        model: the fitted copy after ``train`` / ``fit``.

    Example:
        >>> from sklearn.ensemble import RandomForestRegressor
        >>> from mlrpy import as_learner, rsmp, tsk
        >>> from mlrpy.resample import resample
        >>> learner = as_learner(RandomForestRegressor(n_estimators=10, random_state=0), id="rf")
        >>> rr = resample(tsk("diabetes"), learner, rsmp("cv", folds=3, seed=1))
        >>> rr.learner_id, rr.iters
        ('rf', 3)
    """

    def __init__(self, estimator: Any, id: str | None = None, task_type: str | None = None) -> None:
        if not is_estimator(estimator):
            raise ParameterError(
                f"LearnerSklearn needs a scikit-learn estimator (with fit and get_params), got "
                f"{type(estimator).__name__}"
            )
        self.estimator = estimator
        self._task_type = _task_type_of(estimator, task_type)
        self._id = id
        self.model_: Any = None
        self._feature_names: list[str] = []

    # -- identity ---------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._id if self._id is not None else default_id(self.estimator)

    @id.setter
    def id(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ParameterError(f"A learner id must be a non-empty string, got {value!r}")
        self._id = value

    @property
    def task_type(self) -> str:
        return self._task_type

    @property
    def predict_type(self) -> str:
        """``"prob"`` for a classifier with ``predict_proba``, else ``"response"``."""
        if self._task_type == "classif" and hasattr(self.estimator, "predict_proba"):
            return "prob"
        return "response"

    def __repr__(self) -> str:
        return f"<LearnerSklearn:{self.id}> {self.estimator!r}"

    # -- parameters -------------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The estimator's parameters (``deep=True``: nested ones too)."""
        return dict(self.estimator.get_params(deep=deep))

    def set_params(self, **params: Any) -> LearnerSklearn:
        """Set the estimator's parameters; returns the learner.

        Raises:
            UnknownKeyError: a name that is not a parameter of the estimator.
        """
        valid = self.get_params(deep=True)
        for key in params:
            if key not in valid:
                raise UnknownKeyError(
                    f"Learner '{self.id}': '{key}' is not a parameter.{suggest(key, valid)} "
                    f"Valid: {', '.join(valid)}"
                )
        self.estimator.set_params(**params)
        return self

    def __sklearn_clone__(self) -> LearnerSklearn:
        return LearnerSklearn(clone(self.estimator), id=self._id, task_type=self._task_type)

    def torch_learners(self) -> dict[str, LearnerTorch]:
        """The mlrpy learners inside the estimator, by their parameter prefix (``"mlp__"``).

        Example:
            >>> from sklearn.pipeline import make_pipeline
            >>> from sklearn.preprocessing import StandardScaler
            >>> from mlrpy import as_learner, lrn
            >>> list(as_learner(make_pipeline(StandardScaler(), lrn("regr.mlp"))).torch_learners())
            ['learnertorchregrmlp__']
        """
        return {
            f"{key}__": value for key, value in self.get_params(deep=True).items()
            if isinstance(value, LearnerTorch)
        }

    def deep_descriptors(self) -> dict[str, Any]:
        """The dotted-parameter descriptors of the mlrpy learners inside, prefixed by step."""
        return {
            prefix + key: desc
            for prefix, learner in self.torch_learners().items()
            for key, desc in learner.deep_descriptors().items()
        }

    @property
    def param_set(self) -> pd.DataFrame:
        """Every parameter with its value; types and bounds where an mlrpy learner inside
        declares them (the other estimators' parameters have no declared type)."""
        rows = [
            {"id": k, "value": v, "type": None, "lower": None, "upper": None, "default": None}
            for k, v in self.get_params(deep=True).items()
        ]
        table = pd.DataFrame(rows, columns=_TABLE_COLUMNS, dtype=object)
        typed = []
        for prefix, learner in self.torch_learners().items():
            inner = learner.param_set.copy()
            inner["id"] = prefix + inner["id"]
            typed.append(inner[_TABLE_COLUMNS])
        if not typed:
            return table
        typed_table = pd.concat(typed, ignore_index=True)
        rest = table[~table["id"].isin(typed_table["id"])]
        return pd.concat([rest, typed_table], ignore_index=True)

    def check_params(self) -> None:
        """Validate the parameters of the mlrpy learners inside (scikit-learn estimators
        validate theirs in ``fit``)."""
        for learner in self.torch_learners().values():
            learner.check_params()

    # -- mlr3 face --------------------------------------------------------------------------
    def check_task(self, task: Any) -> None:
        """Raise :class:`ParameterError` unless ``task`` is of this learner's task type."""
        if getattr(task, "task_type", None) != self._task_type:
            raise ParameterError(
                f"Learner '{self.id}' is for {self._task_type} tasks, but task "
                f"'{getattr(task, 'id', task)}' is of type "
                f"{getattr(task, 'task_type', type(task).__name__)}"
            )

    def train(self, task: Any, row_ids: Sequence[Any] | None = None) -> LearnerSklearn:
        """Fit a copy of the estimator on ``task`` (only ``row_ids`` if given); returns the
        learner. A ``weight`` column of the task becomes ``sample_weight``."""
        self.check_task(task)
        rows = task.row_ids if row_ids is None else list(row_ids)
        if len(rows) == 0:
            raise DataError(f"Learner '{self.id}': the training set is empty (no row ids)")
        fit_params = self._weight_params(role_values(task, "weight", rows))
        X, y = task.data(rows, task.feature_names), task.truth(rows)
        self.model_ = clone(self.estimator).fit(X, y, **fit_params)
        self._feature_names = list(task.feature_names)
        return self

    def _weight_params(self, weights: np.ndarray | None) -> dict[str, Any]:
        if weights is None:
            return {}
        est = self.estimator
        if isinstance(est, Pipeline):
            name, last = est.steps[-1]
            if has_fit_parameter(last, "sample_weight"):
                return {f"{name}__sample_weight": weights}
        elif has_fit_parameter(est, "sample_weight"):
            return {"sample_weight": weights}
        raise ParameterError(
            f"Learner '{self.id}': the task has a weight column, but {type(est).__name__} "
            f"takes no sample_weight in fit; remove the weight role or use another estimator"
        )

    @property
    def model(self) -> Any:
        """The fitted estimator; raises :class:`NotFittedError` before training."""
        if self.model_ is None:
            raise NotFittedError(
                f"Learner '{self.id}' has not been trained yet: call .train(task) or .fit(X, y) first"
            )
        return self.model_

    @property
    def internal_tuned_values(self) -> None:
        return None

    @property
    def internal_valid_scores(self) -> None:
        return None

    def predict(self, X: Any, row_ids: Sequence[Any] | None = None) -> Any:
        """``predict(task)`` returns a :class:`~mlrpy.prediction.Prediction`; ``predict(X)``
        the fitted estimator's predictions (scikit-learn)."""
        if hasattr(X, "task_type") and hasattr(X, "feature_names"):
            return self._predict_task(X, row_ids)
        if row_ids is not None:
            raise ParameterError("row_ids is only valid together with a task")
        return self.model.predict(X)

    def _predict_task(self, task: Any, row_ids: Sequence[Any] | None) -> Prediction:
        self.check_task(task)
        model = self.model
        rows = task.row_ids if row_ids is None else list(row_ids)
        missing = [c for c in self._feature_names if c not in task.feature_names]
        if missing:
            raise DataError(f"Learner '{self.id}': task '{task.id}' lacks the training features {missing}")
        X = task.data(rows, self._feature_names)
        truth = task.truth(rows)
        prediction: Prediction
        if self._task_type == "regr":
            prediction = PredictionRegr(rows, truth, np.asarray(model.predict(X), dtype=float))
        else:
            classes = list(model.classes_)
            prob = None
            if hasattr(model, "predict_proba"):
                prob = pd.DataFrame(np.asarray(model.predict_proba(X), dtype=float), columns=classes)
            prediction = PredictionClassif(
                rows, truth, np.asarray(model.predict(X)), prob=prob, class_names=classes
            )
        # the task's weights and positive class, as an mlrpy learner's prediction carries them
        return with_task_info(prediction, task, rows)

    # -- scikit-learn face --------------------------------------------------------------------
    def fit(self, X: Any, y: Any, **fit_params: Any) -> LearnerSklearn:
        """Fit a copy of the estimator on ``X``, ``y``; returns the learner."""
        self.model_ = clone(self.estimator).fit(X, y, **fit_params)
        self._feature_names = [str(c) for c in getattr(X, "columns", [])]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The fitted estimator's class probabilities."""
        return np.asarray(self.model.predict_proba(X))

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.model.classes_)

    def score(self, X: Any, y: Any) -> float:
        """The fitted estimator's own ``score``."""
        return float(self.model.score(X, y))

    def __sklearn_is_fitted__(self) -> bool:
        return self.model_ is not None
