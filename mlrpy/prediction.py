"""Predictions returned by ``Learner.predict(task)`` (mlr3's ``PredictionClassif/Regr``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Prediction", "PredictionClassif", "PredictionRegr"]


class Prediction:
    """Predictions for a set of rows, with the truth when it is known.

    Attributes:
        row_ids: the task's ids of the predicted rows.
        truth: the true target values (``None`` when unknown).
        response: the predicted labels (classification) or values (regression).
    """

    task_type: str = ""

    def __init__(self, row_ids: Sequence[Any], truth: Any, response: Any) -> None:
        self.row_ids = list(row_ids)
        self.truth = None if truth is None else np.asarray(truth)
        self.response = np.asarray(response)

    @property
    def predict_types(self) -> list[str]:
        return ["response"]

    def __len__(self) -> int:
        return len(self.row_ids)

    def as_frame(self) -> pd.DataFrame:
        """One row per prediction: ``row_ids``, ``truth``, ``response`` (and ``prob.<class>``)."""
        return pd.DataFrame({"row_ids": self.row_ids, "truth": self.truth, "response": self.response})

    def score(self, measures: Any = None) -> dict[str, float]:
        """Score with one or several measures (keys or ``Measure`` objects)."""
        from mlrpy.measures import score_prediction

        return score_prediction(self, measures)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}> for {len(self)} observations:\n{self.as_frame().head(6)}"


class PredictionRegr(Prediction):
    task_type = "regr"


class PredictionClassif(Prediction):
    """Classification predictions; ``prob`` is a DataFrame with one column per class."""

    task_type = "classif"

    def __init__(
        self,
        row_ids: Sequence[Any],
        truth: Any,
        response: Any,
        prob: pd.DataFrame | None = None,
        class_names: Sequence[Any] | None = None,
    ) -> None:
        super().__init__(row_ids, truth, response)
        self.prob = prob
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
