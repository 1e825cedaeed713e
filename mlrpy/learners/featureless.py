"""``classif.torch_featureless`` / ``regr.torch_featureless``: a baseline that ignores X.

The network is a single learned output vector, trained by the same loop (so callbacks and
validation behave as for any learner). It starts at the optimum of the default loss, the
log class frequencies (cross-entropy) or the target's mean (squared error), so even a short
run predicts what a baseline should: the class priors or the mean, as scikit-learn's
``DummyClassifier(strategy="prior")`` and ``DummyRegressor()`` do.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn

from mlrpy.learners.base import LearnerTorch
from mlrpy.learners.classif import LearnerTorchClassif
from mlrpy.learners.common import COMMON_PARAMS_DOC, store_params
from mlrpy.learners.registry import register_learner
from mlrpy.learners.regr import LearnerTorchRegr


class Featureless(nn.Module):
    """Returns the same learned vector for every row."""

    def __init__(self, n_outputs: int) -> None:
        super().__init__()
        self.output = nn.Parameter(torch.zeros(n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output.expand(x.shape[0], -1)

    def start_at(self, value: torch.Tensor) -> None:
        """Set the output vector (before training)."""
        with torch.no_grad():
            self.output.copy_(value.to(self.output))


class LearnerTorchFeatureless(LearnerTorch):
    __doc__ = f"""A featureless baseline trained with torch.
{COMMON_PARAMS_DOC}
    Example:
        >>> from mlrpy import lrn, tsk
        >>> task = tsk("diabetes")
        >>> learner = lrn("regr.torch_featureless", epochs=1, random_state=0).train(task)
        >>> round(float(learner.predict(task).response[0]), 1), round(float(task.truth().mean()), 1)
        (152.1, 152.1)
    """

    def __init__(
        self,
        *,
        epochs: int = 20,
        batch_size: int = 32,
        optimizer: Any = "adam",
        loss: Any = None,
        callbacks: Any = None,
        device: str | torch.device = "auto",
        num_threads: int | None = None,
        random_state: Any = None,
        shuffle: bool = True,
        eval_freq: int = 1,
        predict_type: str = "response",
        validate: Any = None,
        measures_train: Any = None,
        measures_valid: Any = None,
        patience: int = 0,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
        warm_start: bool = False,
        resume: Any = None,
        on_nonfinite: str = "raise",
        num_workers: int = 0,
        pin_memory: bool = False,
        drop_last: bool = False,
        batch_size_predict: int | None = None,
        strategy: str | None = None,
        devices: int = 1,
        backend: str | None = None,
    ) -> None:
        store_params(self, locals())

    def _build_network(self, n_features: int, n_outputs: int) -> nn.Module:
        return Featureless(n_outputs)


@register_learner
class LearnerTorchClassifFeatureless(LearnerTorchClassif, LearnerTorchFeatureless):
    _key = "classif.torch_featureless"

    def _init_network(self, network: nn.Module, y_train: torch.Tensor) -> None:
        """Start at the log class frequencies: the softmax then gives the class priors."""
        counts = torch.bincount(y_train.reshape(-1), minlength=self._n_outputs()).double()
        # every class occurs in y_train (classes come from it), so no log(0)
        cast(Featureless, network).start_at(torch.log(counts / counts.sum()))


@register_learner
class LearnerTorchRegrFeatureless(LearnerTorchRegr, LearnerTorchFeatureless):
    _key = "regr.torch_featureless"

    def _init_network(self, network: nn.Module, y_train: torch.Tensor) -> None:
        """Start at the target's mean."""
        cast(Featureless, network).start_at(y_train.double().mean(dim=0))
