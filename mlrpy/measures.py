"""Performance measures (mlr3's ``Measure``) and their registry :data:`mlr_measures`.

A :class:`Measure` scores a :class:`~mlrpy.prediction.Prediction` against its truth. Every
built-in measure delegates the arithmetic to :mod:`sklearn.metrics`; this module only checks
that the prediction fits the measure (task type, predict type, known truth) and picks the
columns to pass on.

Conventions for classification measures:

* the *positive class* of a two-class problem is the **second** of
  ``prediction.class_names`` (the last one in sorted order, as in scikit-learn);
* ``classif.f1``, ``classif.precision`` and ``classif.recall`` score the positive class on
  two-class problems and take the unweighted (macro) mean over the classes present in truth
  or response on multiclass problems;
* ``classif.auc`` is the ROC AUC of the positive class on two-class problems and the
  one-vs-rest macro mean on multiclass problems.

Undefined values (for example the AUC of a test set holding a single class) follow
scikit-learn: a warning and ``nan`` (AUC) or ``0.0`` (precision, recall, F1).

Classes the model never saw: a truth may hold a class missing from
``prediction.class_names`` (the model's classes), e.g. a rare class absent from the training
rows of a resampling iteration. Every classification measure scores such a prediction as one
whose model knows that class but never predicts it: its probability is 0 in every row and no
row's response is that class. The class counts like any other, so a two-class model scored on
three classes is scored as a three-class problem (multiclass AUC, macro F1, ...), never as a
two-class one; the log loss of a row whose true class has probability 0 is that of
scikit-learn's clipped probability. A truth whose labels cannot be compared with the model's
classes (numbers against strings) raises :class:`~mlrpy.errors.DataError`, as does any data a
scoring function rejects, naming the measure and the classes.

Example:
    >>> from mlrpy.measures import msr
    >>> from mlrpy.prediction import PredictionRegr
    >>> pred = PredictionRegr([0, 1, 2], truth=[1.0, 2.0, 3.0], response=[1.0, 2.0, 5.0])
    >>> msr("regr.mae").score(pred)
    0.6666666666666666
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics

from mlrpy.dictionary import Dictionary, duplicated, suggest
from mlrpy.errors import DataError, MlrpyError, ParameterError
from mlrpy.prediction import Prediction, PredictionClassif

__all__ = [
    "Measure",
    "as_measure",
    "as_measures",
    "default_measure",
    "mlr_measures",
    "msr",
    "msrs",
    "score_prediction",
]

_TASK_TYPES = ("classif", "regr")
_PREDICT_TYPES = ("response", "prob")


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

    def __repr__(self) -> str:
        direction = "minimize" if self.minimize else "maximize"
        return (
            f"<Measure:{self.id}> {self.label} "
            f"(task_type={self.task_type}, predict_type={self.predict_type}, {direction}, "
            f"range=[{self.range[0]:g}, {self.range[1]:g}])"
        )


# -- scoring functions -------------------------------------------------------------------------
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
    return PredictionClassif(p.row_ids, p.truth, p.response, prob=prob, class_names=classes)


def _classes(p: PredictionClassif) -> list[Any]:
    return sorted(p.class_names)


def _positive(p: PredictionClassif) -> Any:
    return p.class_names[1]


def _is_binary(p: PredictionClassif) -> bool:
    return len(p.class_names) == 2


def _prob_matrix(p: PredictionClassif, labels: list[Any]) -> np.ndarray:
    prob = p.prob
    assert prob is not None
    missing = [c for c in labels if c not in prob.columns]
    if missing:
        raise DataError(
            f"The prediction's prob has no column for the classes {missing}; "
            f"it has columns {list(prob.columns)}"
        )
    return prob[labels].to_numpy(dtype=float)


def _auc(p: PredictionClassif) -> float:
    if _is_binary(p):
        pos = _positive(p)
        score = _prob_matrix(p, [pos])[:, 0]
        return float(metrics.roc_auc_score(p.truth == pos, score))
    labels = _classes(p)
    return float(
        metrics.roc_auc_score(
            p.truth, _prob_matrix(p, labels), multi_class="ovr", average="macro", labels=labels
        )
    )


def _logloss(p: PredictionClassif) -> float:
    labels = _classes(p)
    return float(metrics.log_loss(p.truth, _prob_matrix(p, labels), labels=labels))


def _binary_or_macro(fn: Callable[..., float]) -> Callable[[PredictionClassif], float]:
    def score(p: PredictionClassif) -> float:
        if _is_binary(p):
            return float(fn(p.truth, p.response, average="binary", pos_label=_positive(p)))
        return float(fn(p.truth, p.response, average="macro"))

    return score


def _response(fn: Callable[..., float]) -> Callable[[Prediction], float]:
    def score(p: Prediction) -> float:
        return float(fn(p.truth, p.response))

    return score


_INF = math.inf

# id: (label, task_type, predict_type, fun, minimize, range)
_SPECS: dict[str, tuple[str, str, str, Callable[[Any], float], bool, tuple[float, float]]] = {
    "classif.acc": (
        "Classification Accuracy", "classif", "response",
        _response(metrics.accuracy_score), False, (0.0, 1.0),
    ),
    "classif.ce": (
        "Classification Error", "classif", "response",
        _response(metrics.zero_one_loss), True, (0.0, 1.0),
    ),
    "classif.bacc": (
        "Balanced Accuracy", "classif", "response",
        _response(metrics.balanced_accuracy_score), False, (0.0, 1.0),
    ),
    "classif.auc": (
        "Area Under the ROC Curve", "classif", "prob", _auc, False, (0.0, 1.0),
    ),
    "classif.logloss": (
        "Log Loss", "classif", "prob", _logloss, True, (0.0, _INF),
    ),
    "classif.f1": (
        "F1 Score", "classif", "response",
        _binary_or_macro(metrics.f1_score), False, (0.0, 1.0),
    ),
    "classif.precision": (
        "Precision", "classif", "response",
        _binary_or_macro(metrics.precision_score), False, (0.0, 1.0),
    ),
    "classif.recall": (
        "Recall", "classif", "response",
        _binary_or_macro(metrics.recall_score), False, (0.0, 1.0),
    ),
    "classif.mcc": (
        "Matthews Correlation Coefficient", "classif", "response",
        _response(metrics.matthews_corrcoef), False, (-1.0, 1.0),
    ),
    "regr.mse": (
        "Mean Squared Error", "regr", "response",
        _response(metrics.mean_squared_error), True, (0.0, _INF),
    ),
    "regr.rmse": (
        "Root Mean Squared Error", "regr", "response",
        _response(metrics.root_mean_squared_error), True, (0.0, _INF),
    ),
    "regr.mae": (
        "Mean Absolute Error", "regr", "response",
        _response(metrics.mean_absolute_error), True, (0.0, _INF),
    ),
    "regr.rsq": (
        "R Squared", "regr", "response",
        _response(metrics.r2_score), False, (-_INF, 1.0),
    ),
    "regr.medae": (
        "Median Absolute Error", "regr", "response",
        _response(metrics.median_absolute_error), True, (0.0, _INF),
    ),
}

_SETTABLE = ("id", "label")


def _factory(key: str) -> Callable[..., Measure]:
    label, task_type, predict_type, fun, minimize, rng = _SPECS[key]

    def make(**kwargs: Any) -> Measure:
        unknown = [k for k in kwargs if k not in _SETTABLE]
        if unknown:
            raise ParameterError(
                f"Measure '{key}': unknown argument '{unknown[0]}'."
                f"{suggest(unknown[0], _SETTABLE)} Settable: {', '.join(_SETTABLE)}"
            )
        return Measure(
            id=kwargs.get("id", key),
            task_type=task_type,
            predict_type=predict_type,
            fun=fun,
            minimize=minimize,
            range=rng,
            label=kwargs.get("label", label),
        )

    make.__doc__ = f"A fresh '{key}' measure ({label})."
    return make


def _describe_measure(key: str, m: Measure) -> dict[str, Any]:
    return {
        "label": m.label,
        "task_type": m.task_type,
        "predict_type": m.predict_type,
        "minimize": m.minimize,
    }


mlr_measures: Dictionary[Measure] = Dictionary("mlr_measures", describe=_describe_measure)
"""The registry of measures; ``mlr_measures.as_frame()`` lists them."""

for _key in _SPECS:
    mlr_measures.add(_key, _factory(_key))


# -- sugar -----------------------------------------------------------------------------------
def msr(key: str, **kwargs: Any) -> Measure:
    """A fresh measure from :data:`mlr_measures`; ``id`` and ``label`` may be overridden.

    Example:
        >>> from mlrpy.measures import msr
        >>> msr("classif.acc")
        <Measure:classif.acc> Classification Accuracy (task_type=classif, \
predict_type=response, maximize, range=[0, 1])
        >>> msr("regr.rmse", id="rmse").id
        'rmse'
    """
    return mlr_measures.get(key, **kwargs)


def msrs(keys: Sequence[str]) -> list[Measure]:
    """Several fresh measures from :data:`mlr_measures`.

    Example:
        >>> from mlrpy.measures import msrs
        >>> [m.id for m in msrs(["classif.acc", "classif.auc"])]
        ['classif.acc', 'classif.auc']
    """
    if isinstance(keys, str):
        keys = [keys]
    return mlr_measures.mget(keys)


def as_measure(x: str | Measure) -> Measure:
    """Turn a registry key or a :class:`Measure` into a :class:`Measure`.

    A :class:`Measure` is returned as is (not copied).

    Example:
        >>> from mlrpy.measures import as_measure, msr
        >>> as_measure("regr.mse").id
        'regr.mse'
        >>> m = msr("regr.mae")
        >>> as_measure(m) is m
        True
    """
    if isinstance(x, Measure):
        return x
    if isinstance(x, str):
        return msr(x)
    raise TypeError(f"Expected a measure key (str) or a Measure, got {type(x).__name__} {x!r}")


def as_measures(
    x: str | Measure | Sequence[str | Measure] | None, task_type: str | None = None
) -> list[Measure]:
    """Turn ``None``, a key, a :class:`Measure` or a list of them into a list of measures.

    ``None`` gives ``[default_measure(task_type)]`` if ``task_type`` is given, else ``[]``.

    Example:
        >>> from mlrpy.measures import as_measures, msr
        >>> [m.id for m in as_measures(["classif.acc", msr("classif.ce")])]
        ['classif.acc', 'classif.ce']
        >>> [m.id for m in as_measures(None, task_type="regr")]
        ['regr.mse']
        >>> as_measures(None)
        []
    """
    if x is None:
        return [default_measure(task_type)] if task_type is not None else []
    if isinstance(x, (str, Measure)):
        return [as_measure(x)]
    if isinstance(x, (list, tuple)):
        return [as_measure(m) for m in x]
    raise TypeError(
        "Expected a measure key, a Measure, a list of them or None, "
        f"got {type(x).__name__} {x!r}"
    )


def resolve_measures(
    measures: str | Measure | Sequence[str | Measure] | None, task_type: str, task_id: str = ""
) -> list[Measure]:
    """Measures for a task type: ``None`` (or ``[]``) gives the type's default measure.

    Raises:
        UnknownKeyError: an unknown measure key.
        ParameterError: a measure of another task type, or two measures with one id.

    Example:
        >>> from mlrpy.measures import resolve_measures
        >>> [m.id for m in resolve_measures(None, "regr")]
        ['regr.mse']
        >>> resolve_measures("classif.acc", "regr", "diabetes")
        Traceback (most recent call last):
        ...
        mlrpy.errors.ParameterError: Measure 'classif.acc' is for classif tasks, but task \
'diabetes' is a regr task; use a regr measure (e.g. 'regr.mse')
    """
    ms = as_measures(measures, task_type=task_type) or [default_measure(task_type)]
    for m in ms:
        if m.task_type != task_type:
            where = f"task '{task_id}'" if task_id else "the task"
            raise ParameterError(
                f"Measure '{m.id}' is for {m.task_type} tasks, but {where} is a {task_type} "
                f"task; use a {task_type} measure (e.g. '{default_measure(task_type).id}')"
            )
    dupes = duplicated(m.id for m in ms)
    if dupes:
        raise ParameterError(
            f"Measure ids must be unique, got {dupes[0]!r} more than once; give copies their "
            f"own id, e.g. msr('{dupes[0]}', id='{dupes[0]}_2')"
        )
    return ms


_DEFAULTS = {"classif": "classif.ce", "regr": "regr.mse"}


def default_measure(task_type: str) -> Measure:
    """mlr3's default measure of a task type: ``classif.ce`` or ``regr.mse``.

    Example:
        >>> from mlrpy.measures import default_measure
        >>> default_measure("classif").id
        'classif.ce'
    """
    if task_type not in _DEFAULTS:
        raise ParameterError(
            f"No default measure for task type {task_type!r}; "
            f"known task types: {', '.join(_DEFAULTS)}"
        )
    return msr(_DEFAULTS[task_type])


def score_prediction(
    prediction: Prediction, measures: str | Measure | Sequence[str | Measure] | None = None
) -> dict[str, float]:
    """Score ``prediction`` with each measure; returns ``{measure id: score}``.

    With ``measures=None`` the task type's :func:`default_measure` is used. This is what
    ``Prediction.score()`` calls.

    Example:
        >>> import pandas as pd
        >>> from mlrpy.measures import score_prediction
        >>> from mlrpy.prediction import PredictionClassif
        >>> prob = pd.DataFrame({"neg": [0.9, 0.4, 0.3, 0.2], "pos": [0.1, 0.6, 0.7, 0.8]})
        >>> pred = PredictionClassif([0, 1, 2, 3], truth=["neg", "neg", "pos", "pos"],
        ...                          response=["neg", "pos", "pos", "pos"], prob=prob,
        ...                          class_names=["neg", "pos"])
        >>> score_prediction(pred)
        {'classif.ce': 0.25}
        >>> score_prediction(pred, ["classif.acc", "classif.auc"])
        {'classif.acc': 0.75, 'classif.auc': 1.0}
    """
    if not isinstance(prediction, Prediction):
        raise TypeError(f"score_prediction() needs a Prediction, got {type(prediction).__name__}")
    ms = resolve_measures(measures, prediction.task_type)
    return {m.id: m.score(prediction) for m in ms}
