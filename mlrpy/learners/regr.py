"""Regression learners: one numeric target, one network output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import RegressorMixin

from mlrpy.errors import DataError
from mlrpy.learners.base import LearnerTorch
from mlrpy.prediction import Prediction, PredictionRegr

__all__ = ["LearnerTorchRegr"]


class LearnerTorchRegr(RegressorMixin, LearnerTorch):
    """Regression with a single numeric target (float32 on the network's side)."""

    task_type = "regr"
    _default_loss = "mse"

    def _encode_target(self, y: np.ndarray, fit: bool) -> torch.Tensor:
        try:
            y = np.asarray(y, dtype=np.float32)
        except (TypeError, ValueError) as err:
            raise DataError(f"Learner '{self.id}': regression targets must be numeric: {err}") from None
        if y.ndim != 1:
            raise DataError(f"Learner '{self.id}': y must be 1-dimensional, got shape {y.shape}")
        if not np.isfinite(y).all():
            raise DataError(f"Learner '{self.id}': y contains NaN or infinite values")
        return torch.from_numpy(y).reshape(-1, 1)

    def _n_outputs(self) -> int:
        return 1

    def _decode_response(self, output: torch.Tensor) -> np.ndarray:
        return output.reshape(-1).numpy().astype(np.float64)

    def _make_prediction(
        self, rows: Sequence[Any], truth: Any, output: torch.Tensor, with_prob: bool = False
    ) -> Prediction:
        return PredictionRegr(rows, truth, self._decode_response(output))

    def _decode_target(self, target: torch.Tensor) -> np.ndarray:
        return target.reshape(-1).numpy().astype(np.float64)
