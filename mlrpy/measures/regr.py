"""The built-in regression measures, all computed by :mod:`sklearn.metrics`."""

from __future__ import annotations

import math

from sklearn import metrics

from mlrpy.measures.base import MeasureSpec, score_response

__all__ = ["REGR_SPECS"]

#: id: (label, task_type, predict_type, fun, minimize, range)
REGR_SPECS: dict[str, MeasureSpec] = {
    "regr.mse": (
        "Mean Squared Error", "regr", "response",
        score_response(metrics.mean_squared_error), True, (0.0, math.inf),
    ),
    "regr.rmse": (
        "Root Mean Squared Error", "regr", "response",
        score_response(metrics.root_mean_squared_error), True, (0.0, math.inf),
    ),
    "regr.mae": (
        "Mean Absolute Error", "regr", "response",
        score_response(metrics.mean_absolute_error), True, (0.0, math.inf),
    ),
    "regr.rsq": (
        "R Squared", "regr", "response",
        score_response(metrics.r2_score), False, (-math.inf, 1.0),
    ),
    "regr.medae": (
        "Median Absolute Error", "regr", "response",
        score_response(metrics.median_absolute_error), True, (0.0, math.inf),
    ),
}
