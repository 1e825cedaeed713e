"""The built-in classification measures, all computed by :mod:`sklearn.metrics`.

See :mod:`mlrpy.measures` for the conventions (positive class, multiclass averaging,
classes the model never saw).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import metrics

from mlrpy.errors import DataError
from mlrpy.measures.base import MeasureSpec, score_response
from mlrpy.prediction import PredictionClassif

__all__ = ["CLASSIF_SPECS"]


def _classes(p: PredictionClassif) -> list[Any]:
    return sorted(p.class_names)


def _positive(p: PredictionClassif) -> Any:
    if p.positive is not None and p.positive in p.class_names:
        return p.positive
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
        return float(metrics.roc_auc_score(p.truth == pos, score, sample_weight=p.weights))
    labels = _classes(p)
    return float(
        metrics.roc_auc_score(
            p.truth, _prob_matrix(p, labels), multi_class="ovr", average="macro", labels=labels,
            sample_weight=p.weights,
        )
    )


def _logloss(p: PredictionClassif) -> float:
    labels = _classes(p)
    return float(metrics.log_loss(p.truth, _prob_matrix(p, labels), labels=labels, sample_weight=p.weights))


def _binary_or_macro(fn: Callable[..., float]) -> Callable[[PredictionClassif], float]:
    def score(p: PredictionClassif) -> float:
        if _is_binary(p):
            return float(
                fn(p.truth, p.response, average="binary", pos_label=_positive(p), sample_weight=p.weights)
            )
        return float(fn(p.truth, p.response, average="macro", sample_weight=p.weights))

    return score


#: id: (label, task_type, predict_type, fun, minimize, range)
CLASSIF_SPECS: dict[str, MeasureSpec] = {
    "classif.acc": (
        "Classification Accuracy", "classif", "response",
        score_response(metrics.accuracy_score), False, (0.0, 1.0),
    ),
    "classif.ce": (
        "Classification Error", "classif", "response",
        score_response(metrics.zero_one_loss), True, (0.0, 1.0),
    ),
    "classif.bacc": (
        "Balanced Accuracy", "classif", "response",
        score_response(metrics.balanced_accuracy_score), False, (0.0, 1.0),
    ),
    "classif.auc": (
        "Area Under the ROC Curve", "classif", "prob", _auc, False, (0.0, 1.0),
    ),
    "classif.logloss": (
        "Log Loss", "classif", "prob", _logloss, True, (0.0, math.inf),
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
        score_response(metrics.matthews_corrcoef), False, (-1.0, 1.0),
    ),
}
