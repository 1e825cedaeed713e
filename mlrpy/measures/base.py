"""The :class:`Measure` class: checks a prediction, scores it, aggregates resampling scores.

Also the helpers shared by the built-in measures (:func:`score_response`) and
:class:`MeasureScorer`, which turns a measure into a scikit-learn scorer.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlrpy.errors import DataError, MlrpyError, ParameterError
from mlrpy.prediction import Prediction, PredictionClassif, PredictionRegr

__all__ = ["Measure", "MeasureScorer", "MeasureSpec", "score_response"]

_TASK_TYPES = ("classif", "regr")
_PREDICT_TYPES = ("response", "prob")

#: how a built-in measure is declared: (label, task_type, predict_type, fun, minimize, range)
MeasureSpec = tuple[str, str, str, Callable[[Any], float], bool, tuple[float, float]]


class Measure:
    """A performance measure: a function of a prediction and its truth.

    Args:
        id: the measure's name, also the key of its score in :func:`score_prediction`.
        task_type: ``"classif"`` or ``"regr"``; the prediction must be of this type.
        predict_type: ``"response"`` (needs predicted labels / values) or ``"prob"``
            (needs class probabilities, i.e. a learner with ``predict_type="prob"``).
        fun: maps a checked prediction to its score.
        minimize: ``True`` if lower scores are better.
        range: the ``(lower, upper)`` bounds of the score.
        label: a human readable name.

    Example:
        >>> import numpy as np
        >>> from sklearn.metrics import max_error
        >>> from mlrpy.measures import Measure
        >>> from mlrpy.prediction import PredictionRegr
        >>> maxerr = Measure(
        ...     "regr.maxerr", task_type="regr", predict_type="response",
        ...     fun=lambda p: max_error(p.truth, p.response),
        ...     minimize=True, range=(0.0, np.inf), label="Maximum Absolute Error",
        ... )
        >>> maxerr.score(PredictionRegr([0, 1], truth=[1.0, 2.0], response=[1.5, 4.0]))
        2.0
    """

    def __init__(
        self,
        id: str,
        task_type: str,
        predict_type: str,
        fun: Callable[[Any], float],
        minimize: bool,
        range: tuple[float, float] = (-math.inf, math.inf),
        label: str = "",
    ) -> None:
        if not isinstance(id, str) or not id:
            raise ParameterError(f"Measure: 'id' must be a non-empty string, got {id!r}")
        if task_type not in _TASK_TYPES:
            raise ParameterError(
                f"Measure '{id}': task_type must be one of {list(_TASK_TYPES)}, got {task_type!r}"
            )
        if predict_type not in _PREDICT_TYPES:
            raise ParameterError(
                f"Measure '{id}': predict_type must be one of {list(_PREDICT_TYPES)}, "
                f"got {predict_type!r}"
            )
        if not callable(fun):
            raise ParameterError(f"Measure '{id}': 'fun' must be callable, got {fun!r}")
        lower, upper = range
        if not lower <= upper:
            raise ParameterError(f"Measure '{id}': range {range!r} has lower > upper")
        self.id = id
        self.task_type = task_type
        self.predict_type = predict_type
        self.fun = fun
        self.minimize = bool(minimize)
        self.range = (float(lower), float(upper))
        self.label = label

    def check_prediction(self, prediction: Any) -> None:
        """Raise if ``prediction`` cannot be scored by this measure.

        Raises:
            TypeError: ``prediction`` is not a :class:`~mlrpy.prediction.Prediction`.
            ParameterError: wrong task type, missing probabilities, or unknown truth.
            DataError: the prediction has no rows.

        Example:
            >>> from mlrpy.measures import msr
            >>> from mlrpy.prediction import PredictionRegr
            >>> msr("classif.acc").check_prediction(PredictionRegr([0], [1.0], [1.0]))
            Traceback (most recent call last):
            ...
            mlrpy.errors.ParameterError: Measure 'classif.acc' is for task type 'classif' but \
the prediction is of task type 'regr'.
        """
        if not isinstance(prediction, Prediction):
            raise TypeError(
                f"Measure '{self.id}' scores a Prediction, got {type(prediction).__name__}"
            )
        if prediction.task_type != self.task_type:
            raise ParameterError(
                f"Measure '{self.id}' is for task type '{self.task_type}' but the prediction "
                f"is of task type '{prediction.task_type}'."
            )
        if prediction.truth is None:
            raise ParameterError(
                f"Measure '{self.id}' needs the true target values, but the prediction has "
                "no truth (truth=None)."
            )
        if len(prediction) == 0:
            raise DataError(f"Measure '{self.id}': the prediction has no rows to score.")
        if self.predict_type == "prob" and getattr(prediction, "prob", None) is None:
            raise ParameterError(
                f"Measure '{self.id}' needs predicted probabilities, but the prediction only "
                "has a response; set predict_type=\"prob\" on the learner."
            )

    def score(self, prediction: Prediction) -> float:
        """Score ``prediction``; see :meth:`check_prediction` for the errors raised.

        A class in the truth that ``prediction.class_names`` lacks is scored as a class the
        model knows but never predicts (probability 0; see the module documentation).

        Raises:
            DataError: data the scoring function rejects (e.g. NaN), or truth labels that
                cannot be compared with the prediction's classes; the message names the
                measure and the classes.

        Example:
            >>> from mlrpy.measures import msr
            >>> from mlrpy.prediction import PredictionClassif
            >>> pred = PredictionClassif([0, 1, 2, 3], truth=["a", "a", "b", "b"],
            ...                          response=["a", "b", "b", "b"])
            >>> msr("classif.acc").score(pred)
            0.75
        """
        self.check_prediction(prediction)
        if isinstance(prediction, PredictionClassif):
            prediction = _with_truth_classes(self.id, prediction)
        try:
            return float(self.fun(prediction))
        except MlrpyError:
            raise
        except ValueError as err:
            raise DataError(
                f"Measure '{self.id}' cannot score the prediction: {err}{_classes_note(prediction)}"
            ) from err

    def aggregate(self, scores: Sequence[float]) -> float:
        """Combine per-iteration scores of a resampling: their mean (mlr3's macro average).

        Example:
            >>> from mlrpy.measures import msr
            >>> msr("classif.ce").aggregate([0.25, 0.5, 0.75])
            0.5
        """
        return float(np.mean(np.asarray(scores, dtype=float)))

    def clone(self) -> Measure:
        """An independent copy.

        Example:
            >>> from mlrpy.measures import msr
            >>> m = msr("classif.acc")
            >>> m2 = m.clone()
            >>> m2.id = "acc"
            >>> m.id, m2.id
            ('classif.acc', 'acc')
        """
        return copy.copy(self)

    def as_scorer(self) -> MeasureScorer:
        """This measure as a scikit-learn scorer, for ``GridSearchCV(scoring=...)``,
        ``cross_validate`` and the like.

        scikit-learn maximises scores, so a measure to minimise is negated (as in its
        ``neg_*`` scorers); a ``"prob"`` measure calls ``predict_proba``.

        Example:
            >>> from sklearn.datasets import load_iris
            >>> from sklearn.linear_model import LogisticRegression
            >>> from sklearn.model_selection import cross_val_score
            >>> from mlrpy.measures import msr
            >>> X, y = load_iris(return_X_y=True)
            >>> scores = cross_val_score(LogisticRegression(max_iter=500), X, y, cv=3,
            ...                          scoring=msr("classif.ce").as_scorer())
            >>> bool((scores <= 0).all())  # the classification error, negated
            True
        """
        return MeasureScorer(self)

    def __repr__(self) -> str:
        direction = "minimize" if self.minimize else "maximize"
        return (
            f"<Measure:{self.id}> {self.label} "
            f"(task_type={self.task_type}, predict_type={self.predict_type}, {direction}, "
            f"range=[{self.range[0]:g}, {self.range[1]:g}])"
        )


# -- truth classes the model never saw ----------------------------------------------------------
def _classes_note(p: Prediction) -> str:
    if not isinstance(p, PredictionClassif) or p.truth is None:
        return ""
    return f" (truth classes: {_shown(pd.unique(p.truth))}; prediction classes: {_shown(p.class_names)})"


def _shown(values: Any) -> list[Any]:
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _with_truth_classes(measure_id: str, p: PredictionClassif) -> PredictionClassif:
    """``p`` with the truth's classes that its model never saw added, never predicted."""
    assert p.truth is not None
    known = set(p.class_names)
    unseen = [c for c in pd.unique(p.truth) if c not in known]
    if not unseen:
        return p
    try:
        classes = sorted([*p.class_names, *unseen])
    except TypeError:
        raise DataError(
            f"Measure '{measure_id}': the truth's labels {_shown(unseen)} cannot be compared with "
            f"the prediction's classes {_shown(p.class_names)} (mixed label types); give truth "
            f"and model labels of one type"
        ) from None
    prob = None
    if p.prob is not None:
        prob = p.prob.copy()
        for c in unseen:
            prob[c] = 0.0
    return PredictionClassif(
        p.row_ids, p.truth, p.response, prob=prob, class_names=classes, weights=p.weights,
        positive=p.positive,
    )



def score_response(fn: Callable[..., float]) -> Callable[[Prediction], float]:
    """A measure function calling ``fn(truth, response)``, e.g. a :mod:`sklearn.metrics` metric.

    A prediction with sample weights is scored ``fn(truth, response, sample_weight=weights)``
    when ``fn`` takes ``sample_weight``, and unweighted otherwise.

    Example:
        >>> from sklearn.metrics import mean_absolute_error
        >>> from mlrpy.measures.base import score_response
        >>> from mlrpy.prediction import PredictionRegr
        >>> score_response(mean_absolute_error)(PredictionRegr([0, 1], [1.0, 2.0], [1.0, 3.0]))
        0.5
    """

    weighted = _takes_sample_weight(fn)

    def score(p: Prediction) -> float:
        if weighted and p.weights is not None:
            return float(fn(p.truth, p.response, sample_weight=p.weights))
        return float(fn(p.truth, p.response))

    return score


def _takes_sample_weight(fn: Callable[..., Any]) -> bool:
    try:
        return "sample_weight" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class MeasureScorer:
    """A scikit-learn scorer ``scorer(estimator, X, y)`` built from a :class:`Measure`.

    It predicts ``X`` with the fitted estimator (``predict_proba`` as well for a ``"prob"``
    measure, with the columns in the order of ``estimator.classes_``), wraps the result in a
    :class:`~mlrpy.prediction.Prediction` and scores it; measures to minimise are negated.
    Make one with :meth:`Measure.as_scorer`.

    Example:
        >>> from sklearn.datasets import load_diabetes
        >>> from sklearn.linear_model import Ridge
        >>> from sklearn.metrics import mean_absolute_error
        >>> from mlrpy.measures import msr
        >>> X, y = load_diabetes(return_X_y=True)
        >>> model = Ridge().fit(X, y)
        >>> scorer = msr("regr.mae").as_scorer()
        >>> bool(abs(scorer(model, X, y) + mean_absolute_error(y, model.predict(X))) < 1e-9)
        True
    """

    def __init__(self, measure: Measure) -> None:
        self.measure = measure

    def __call__(self, estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> float:
        prediction = self.prediction(estimator, X, y)
        if sample_weight is not None:
            prediction.weights = np.asarray(sample_weight, dtype=float)
        value = self.measure.score(prediction)
        return -value if self.measure.minimize else value

    def prediction(self, estimator: Any, X: Any, y: Any) -> Prediction:
        """``estimator``'s prediction of ``X`` with truth ``y``, as the measure needs it."""
        truth = np.asarray(y)
        rows = list(range(len(truth)))
        if self.measure.task_type == "regr":
            return PredictionRegr(rows, truth, np.asarray(estimator.predict(X), dtype=float))
        classes = list(getattr(estimator, "classes_", []))
        if self.measure.predict_type == "prob":
            if not hasattr(estimator, "predict_proba"):
                raise ParameterError(
                    f"Measure '{self.measure.id}' needs predicted probabilities, but "
                    f"{type(estimator).__name__} has no predict_proba"
                )
            prob = pd.DataFrame(np.asarray(estimator.predict_proba(X)), columns=classes)
            response = np.asarray(estimator.classes_)[prob.to_numpy().argmax(axis=1)]
            return PredictionClassif(rows, truth, response, prob=prob, class_names=classes)
        response = np.asarray(estimator.predict(X))
        return PredictionClassif(rows, truth, response, class_names=classes or None)

    def __repr__(self) -> str:
        return f"MeasureScorer({self.measure.id!r}, sign={-1 if self.measure.minimize else 1})"
