"""``classif.torch_featureless`` / ``regr.torch_featureless``: a baseline that ignores X.

The network is a single learned output vector, trained by the same loop (so callbacks and
validation behave as for any learner); it converges to the log class frequencies or the mean.
"""

from __future__ import annotations

from typing import Any

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


class LearnerTorchFeatureless(LearnerTorch):
    __doc__ = f"""A featureless baseline trained with torch.
{COMMON_PARAMS_DOC}
    Example:
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("regr.torch_featureless", epochs=50, random_state=0,
        ...               **{{"opt.lr": 0.5}})
        >>> _ = learner.train(tsk("diabetes"))
        >>> bool(abs(learner.predict(tsk("diabetes")).response[0] - 152.1) < 5)
        True
    """

    def __init__(
        self,
        *,
        epochs: int = 20,
        batch_size: int = 32,
        optimizer: Any = "adam",
        loss: Any = None,
        callbacks: Any = None,
        device: str = "auto",
        num_threads: int = 1,
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
    ) -> None:
        store_params(self, locals())

    def _build_network(self, n_features: int, n_outputs: int) -> nn.Module:
        return Featureless(n_outputs)


@register_learner
class LearnerTorchClassifFeatureless(LearnerTorchClassif, LearnerTorchFeatureless):
    _key = "classif.torch_featureless"


@register_learner
class LearnerTorchRegrFeatureless(LearnerTorchRegr, LearnerTorchFeatureless):
    _key = "regr.torch_featureless"
