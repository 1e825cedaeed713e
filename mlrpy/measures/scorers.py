"""scikit-learn scorers as measures: ``msr("sklearn", scorer=...)``.

A scikit-learn scorer is called as ``scorer(estimator, X, y)``, but a measure only sees a
:class:`~mlrpy.prediction.Prediction`. :class:`MeasureSklearn` bridges the two by handing the
scorer a stand-in estimator that replays the prediction: its ``predict`` returns the
prediction's response and its ``predict_proba`` the class probabilities (columns in the
order of ``class_names``, the estimator's ``classes_``). Any scorer works this way, named
(``"neg_log_loss"``, ``"f1_macro"``, see :func:`sklearn.metrics.get_scorer_names`) or made
with :func:`sklearn.metrics.make_scorer`.

Scores keep scikit-learn's sign: greater is better, so ``"neg_log_loss"`` is the negated log
loss and the measure is maximised.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import get_scorer, get_scorer_names

from mlrpy.dictionary import suggest
from mlrpy.errors import ParameterError
from mlrpy.measures.base import Measure
from mlrpy.prediction import Prediction, PredictionClassif, PredictionRegr

__all__ = ["MeasureSklearn", "is_scorer_name"]


def is_scorer_name(name: Any) -> bool:
    """Whether ``name`` is one of scikit-learn's scorer names.

    Example:
        >>> from mlrpy.measures.scorers import is_scorer_name
        >>> is_scorer_name("neg_log_loss"), is_scorer_name("classif.acc")
        (True, False)
    """
    return isinstance(name, str) and name in get_scorer_names()


class _Replay(BaseEstimator):
    """A fitted stand-in estimator whose outputs are those of a stored prediction."""

    def __init__(self, prediction: Prediction) -> None:
        self.prediction = prediction
        self.calls: list[str] = []

    def predict(self, X: Any) -> np.ndarray:
        self.calls.append("predict")
        return np.asarray(self.prediction.response)


class _ReplayRegr(RegressorMixin, _Replay):
    pass


class _ReplayClassif(ClassifierMixin, _Replay):
    def __init__(self, prediction: PredictionClassif) -> None:
        super().__init__(prediction)
        self.classes_ = np.asarray(prediction.class_names)

    def predict_proba(self, X: Any) -> np.ndarray:
        self.calls.append("predict_proba")
        prob = getattr(self.prediction, "prob", None)
        if prob is None:
            raise ParameterError(
                "the scorer needs predicted probabilities, but the prediction only has a "
                "response; set predict_type=\"prob\" on the learner"
            )
        return prob[list(self.classes_)].to_numpy(dtype=float)


def _replay(prediction: Prediction) -> _Replay:
    if isinstance(prediction, PredictionClassif):
        return _ReplayClassif(prediction)
    return _ReplayRegr(prediction)


def _call(scorer: Any, prediction: Prediction) -> tuple[float, list[str]]:
    replay = _replay(prediction)
    weights = {} if prediction.weights is None else {"sample_weight": prediction.weights}
    value = scorer(replay, np.zeros((len(prediction), 1)), prediction.truth, **weights)
    return float(value), replay.calls


def _probe(scorer: Any, prediction: Prediction) -> list[str] | None:
    """The methods ``scorer`` calls on a replay of ``prediction``; ``None`` if it fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a scorer that only warns on this data does not fit it
        try:
            return _call(scorer, prediction)[1]
        except Exception:
            return None


_REGR_PROBE = PredictionRegr(range(6), [0.5, 1.0, 2.0, 3.5, 4.0, 5.5], [0.6, 1.2, 1.8, 3.0, 4.4, 5.0])
_CLASSIF_PROBES = (
    PredictionClassif(
        range(6), [0, 1, 0, 1, 0, 1], [0, 1, 1, 1, 0, 0],
        prob=pd.DataFrame({0: [0.8, 0.3, 0.4, 0.2, 0.6, 0.55], 1: [0.2, 0.7, 0.6, 0.8, 0.4, 0.45]}),
        class_names=[0, 1],
    ),
    PredictionClassif(  # for scorers that need more than two classes (top_k_accuracy)
        range(6), [0, 1, 2, 0, 1, 2], [0, 1, 1, 0, 2, 2],
        prob=pd.DataFrame({
            0: [0.6, 0.2, 0.1, 0.5, 0.3, 0.2],
            1: [0.3, 0.5, 0.5, 0.3, 0.3, 0.2],
            2: [0.1, 0.3, 0.4, 0.2, 0.4, 0.6],
        }),
        class_names=[0, 1, 2],
    ),
)


def _infer_types(scorer: Any, shown: str, task_type: str | None) -> tuple[str, str]:
    """``(task_type, predict_type)`` of ``scorer``, found by scoring small example predictions."""
    if task_type is None and _probe(scorer, _REGR_PROBE) is not None:
        return "regr", "response"
    if task_type == "regr":
        return "regr", "response"
    calls = None
    for probe in _CLASSIF_PROBES:
        calls = _probe(scorer, probe)
        if calls is not None:
            break
    if calls is None:
        if task_type == "classif":
            return "classif", "response"
        raise ParameterError(
            f"Measure 'sklearn': cannot tell whether scorer {shown} is for classification or "
            f"regression; pass task_type='classif' or task_type='regr'"
        )
    return "classif", "prob" if "predict_proba" in calls else "response"


def _scorer_name(scorer: Any) -> str:
    func = getattr(scorer, "_score_func", None)  # set by make_scorer
    return getattr(func, "__name__", None) or getattr(scorer, "__name__", None) or "scorer"


class MeasureSklearn(Measure):
    """A :class:`~mlrpy.measures.Measure` computed by a scikit-learn scorer (see the module).

    ``msr("sklearn", scorer=...)`` builds one. ``task_type`` and whether the scorer needs
    probabilities are found by trying the scorer on small example predictions; give
    ``task_type`` for a scorer that fits neither example.

    Args:
        scorer: a scorer name (:func:`sklearn.metrics.get_scorer_names`) or a callable
            ``scorer(estimator, X, y)``, e.g. from :func:`sklearn.metrics.make_scorer`.
        task_type: ``"classif"``, ``"regr"`` or ``None`` (found from the scorer).
        id: default ``"sklearn.<scorer name>"``.
        label: a human readable name.

    Attributes:
        scorer: the scikit-learn scorer, ``scorer(estimator, X, y) -> float``.

    Example:
        >>> from mlrpy.measures import msr
        >>> from mlrpy.prediction import PredictionClassif
        >>> m = msr("sklearn", scorer="balanced_accuracy")
        >>> m.id, m.task_type, m.predict_type, m.minimize
        ('sklearn.balanced_accuracy', 'classif', 'response', False)
        >>> m.score(PredictionClassif([0, 1, 2, 3], ["a", "a", "a", "b"], ["a", "a", "b", "b"]))
        0.8333333333333333
    """

    def __init__(
        self,
        scorer: Any,
        task_type: str | None = None,
        id: str | None = None,
        label: str | None = None,
    ) -> None:
        name = scorer if isinstance(scorer, str) else _scorer_name(scorer)
        if isinstance(scorer, str):
            if not is_scorer_name(scorer):
                raise ParameterError(
                    f"Measure 'sklearn': unknown scorer '{scorer}'."
                    f"{suggest(scorer, get_scorer_names())} See sklearn.metrics.get_scorer_names()"
                )
            scorer = get_scorer(scorer)
        elif not callable(scorer):
            raise ParameterError(
                f"Measure 'sklearn': scorer must be a scorer name or a callable "
                f"scorer(estimator, X, y), got {type(scorer).__name__} {scorer!r}"
            )
        if task_type not in (None, "classif", "regr"):
            raise ParameterError(
                f"Measure 'sklearn': task_type must be 'classif', 'regr' or None, got {task_type!r}"
            )
        task_type, predict_type = _infer_types(scorer, repr(name), task_type)
        self.scorer = scorer
        super().__init__(
            id=id or f"sklearn.{name}",
            task_type=task_type,
            predict_type=predict_type,
            fun=self._score_with_scorer,
            minimize=False,
            range=(-math.inf, math.inf),
            label=label or f"scikit-learn scorer {name}",
        )

    def _score_with_scorer(self, prediction: Prediction) -> float:
        return _call(self.scorer, prediction)[0]

    def as_scorer(self) -> Any:
        """The scikit-learn scorer itself."""
        return self.scorer
