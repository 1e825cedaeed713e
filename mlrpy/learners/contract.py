"""The extension contract of a learner: the hooks a subclass defines.

``LearnerTorch``'s docstring ("Inheriting") explains them; a missing one raises
:class:`ExtensionError` naming it, instead of a bare ``NotImplementedError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from mlrpy.learners.common import SHARED_CONSTRAINTS
from mlrpy.learners.constraints import Constraint
from mlrpy.learners.dotted import DottedParams
from mlrpy.prediction import Prediction

__all__ = ["ExtensionError", "LearnerContract"]


class ExtensionError(NotImplementedError):
    """A learner subclass lacks a piece of the extension contract."""


class LearnerContract(DottedParams):
    """The hooks every learner has; the task-type classes and learner families fill them in."""

    _key: ClassVar[str] = ""
    task_type: ClassVar[str] = ""
    _default_loss: ClassVar[str] = ""
    _predict_types: ClassVar[tuple[str, ...]] = ("response",)
    _parameter_constraints: ClassVar[dict[str, Constraint]] = SHARED_CONSTRAINTS

    def _missing(self, what: str) -> ExtensionError:
        return ExtensionError(
            f"Learner class {type(self).__name__} does not define {what}; see the 'Inheriting' "
            f"section of LearnerTorch's documentation"
        )

    def _build_network(self, n_features: int, n_outputs: int) -> torch.nn.Module:
        raise self._missing("_build_network(n_features, n_outputs) -> torch.nn.Module")

    def _init_network(self, network: torch.nn.Module, y_train: torch.Tensor) -> None:
        """Optionally set a freshly built network's weights from the training targets.

        Called once per fit on a network from ``_build_network`` (not when continuing a
        model with ``warm_start``), after the random initialisation and before the first
        epoch; ``y_train`` is the encoded target on the training device. The default does
        nothing.
        """

    def _encode_target(self, y: np.ndarray, fit: bool) -> torch.Tensor:
        raise self._missing("a task type: derive from LearnerTorchClassif or LearnerTorchRegr")

    def _n_outputs(self) -> int:
        raise self._missing("a task type: derive from LearnerTorchClassif or LearnerTorchRegr")

    def _decode_response(self, output: torch.Tensor) -> np.ndarray:
        raise self._missing("a task type: derive from LearnerTorchClassif or LearnerTorchRegr")

    def _decode_target(self, target: torch.Tensor) -> np.ndarray:
        raise self._missing("a task type: derive from LearnerTorchClassif or LearnerTorchRegr")

    def _make_prediction(
        self, rows: Sequence[Any], truth: Any, output: torch.Tensor, with_prob: bool = False
    ) -> Prediction:
        raise self._missing("a task type: derive from LearnerTorchClassif or LearnerTorchRegr")
