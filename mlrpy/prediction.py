"""Predictions returned by ``Learner.predict(task)`` (mlr3's ``PredictionClassif/Regr``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlrpy.errors import ParameterError

__all__ = ["Prediction", "PredictionClassif", "PredictionRegr", "combine_predictions", "with_task_info"]


class Prediction:
    """Predictions for a set of rows, with the truth when it is known.

    Attributes:
        row_ids: the task's ids of the predicted rows.
        truth: the true target values (``None`` when unknown).
        response: the predicted labels (classification) or values (regression).
        weights: the rows' sample weights, from the task's ``weight`` column (``None``
            without one); measures that :mod:`sklearn.metrics` can weight use them.
    """

    task_type: str = ""

    def __init__(
        self, row_ids: Sequence[Any], truth: Any, response: Any, weights: Any = None
    ) -> None:
        self.row_ids = list(row_ids)
        self.truth = None if truth is None else np.asarray(truth)
        self.response = np.asarray(response)
        self.weights = None if weights is None else np.asarray(weights, dtype=float)

    @property
    def predict_types(self) -> list[str]:
        return ["response"]

    def __len__(self) -> int:
        return len(self.row_ids)

    def as_frame(self) -> pd.DataFrame:
        """One row per prediction: ``row_ids``, ``truth``, ``response`` (and ``prob.<class>``,
        ``weights`` when there are some)."""
        df = pd.DataFrame({"row_ids": self.row_ids, "truth": self.truth, "response": self.response})
        if self.weights is not None:
            df["weights"] = self.weights
        return df

    def score(self, measures: Any = None) -> dict[str, float]:
        """Score with one or several measures (keys or ``Measure`` objects)."""
        from mlrpy.measures import score_prediction

        return score_prediction(self, measures)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}> for {len(self)} observations:\n{self.as_frame().head(6)}"


class PredictionRegr(Prediction):
    task_type = "regr"


class PredictionClassif(Prediction):
    """Classification predictions; ``prob`` is a DataFrame with one column per class.

    ``positive`` is the positive class of a two-class task (``task.positive``), which the
    two-class measures score; ``None`` leaves it to the measures' default, the second class.
    """

    task_type = "classif"

    def __init__(
        self,
        row_ids: Sequence[Any],
        truth: Any,
        response: Any,
        prob: pd.DataFrame | None = None,
        class_names: Sequence[Any] | None = None,
        weights: Any = None,
        positive: Any = None,
    ) -> None:
        super().__init__(row_ids, truth, response, weights)
        self.prob = prob
        self.positive = positive
        self.class_names = list(class_names) if class_names is not None else (
            list(prob.columns) if prob is not None else sorted(pd.unique(self.response).tolist())
        )

    @property
    def predict_types(self) -> list[str]:
        return ["response", "prob"] if self.prob is not None else ["response"]

    def as_frame(self) -> pd.DataFrame:
        df = super().as_frame()
        if self.prob is not None:
            for c in self.prob.columns:
                df[f"prob.{c}"] = self.prob[c].to_numpy()
        return df

    def confusion(self) -> pd.DataFrame:
        """Confusion matrix: rows are predicted, columns the true classes (mlr3's layout)."""
        return pd.crosstab(
            pd.Series(self.response, name="response"), pd.Series(self.truth, name="truth")
        )


def combine_predictions(predictions: Sequence[Prediction]) -> Prediction:
    """One prediction holding the rows of all ``predictions``, in order.

    Class probabilities of classes a part lacks are 0.

    Raises:
        ParameterError: ``predictions`` is empty.

    Example:
        >>> from mlrpy.prediction import PredictionRegr, combine_predictions
        >>> p = combine_predictions([PredictionRegr([0], [1.0], [1.5]),
        ...                          PredictionRegr([1], [2.0], [2.5])])
        >>> p.row_ids, p.response.tolist()
        ([0, 1], [1.5, 2.5])
    """
    if not predictions:
        raise ParameterError("combine_predictions() needs at least one prediction")
    first = predictions[0]
    row_ids = [r for p in predictions for r in p.row_ids]
    truth = (
        None if any(p.truth is None for p in predictions)
        else np.concatenate([np.asarray(p.truth) for p in predictions])
    )
    response = np.concatenate([np.asarray(p.response) for p in predictions])
    weights = (
        None if any(p.weights is None for p in predictions)
        else np.concatenate([p.weights for p in predictions if p.weights is not None])
    )
    if isinstance(first, PredictionClassif):
        parts = [p for p in predictions if isinstance(p, PredictionClassif)]
        classes: list[Any] = []
        for p in parts:
            classes += [c for c in p.class_names if c not in classes]
        classes = sorted(classes)
        prob: pd.DataFrame | None = None
        if all(p.prob is not None for p in parts) and len(parts) == len(predictions):
            prob = pd.concat([p.prob for p in parts], ignore_index=True)
            prob = prob.reindex(columns=classes).fillna(0.0)
        return PredictionClassif(
            row_ids, truth, response, prob=prob, class_names=classes, weights=weights,
            positive=first.positive,
        )
    return type(first)(row_ids, truth, response, weights)


def with_task_info(prediction: Prediction, task: Any, row_ids: Sequence[Any]) -> Prediction:
    """``prediction`` of ``task``'s ``row_ids`` with the task's sample weights of those rows and,
    for classification, its positive class; returns the prediction.

    Example:
        >>> import pandas as pd
        >>> from mlrpy import as_task_classif
        >>> from mlrpy.prediction import PredictionClassif, with_task_info
        >>> df = pd.DataFrame({"x": [1.0, 2, 3, 4], "w": [1.0, 2, 1, 2], "y": ["a", "b"] * 2})
        >>> task = as_task_classif(df, target="y", positive="a").set_col_roles("w", "weight")
        >>> p = with_task_info(PredictionClassif([1, 2], ["b", "a"], ["b", "b"]), task, [1, 2])
        >>> p.weights.tolist(), p.positive
        ([2.0, 1.0], 'a')
    """
    weight_values = getattr(task, "weight_values", None)
    if weight_values is not None:
        prediction.weights = weight_values(list(row_ids))
    if isinstance(prediction, PredictionClassif):
        prediction.positive = getattr(task, "positive", None)
    return prediction
