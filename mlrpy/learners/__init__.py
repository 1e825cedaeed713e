"""Learners: the torch learner families, the learner registry and its sugar."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mlrpy.dictionary import Dictionary
from mlrpy.learners.base import LearnerTorch, LearnerTorchClassif, LearnerTorchRegr, TorchModel
from mlrpy.learners.featureless import (
    LearnerTorchClassifFeatureless,
    LearnerTorchRegrFeatureless,
)
from mlrpy.learners.mlp import LearnerTorchClassifMLP, LearnerTorchRegrMLP
from mlrpy.learners.module import LearnerTorchClassifModule, LearnerTorchRegrModule
from mlrpy.learners.torch_objects import (
    TorchLoss,
    TorchOptimizer,
    mlr_losses,
    mlr_optimizers,
    t_loss,
    t_opt,
)

__all__ = [
    "LearnerTorch",
    "LearnerTorchClassif",
    "LearnerTorchClassifFeatureless",
    "LearnerTorchClassifMLP",
    "LearnerTorchClassifModule",
    "LearnerTorchRegr",
    "LearnerTorchRegrFeatureless",
    "LearnerTorchRegrMLP",
    "LearnerTorchRegrModule",
    "TorchLoss",
    "TorchModel",
    "TorchOptimizer",
    "lrn",
    "lrns",
    "mlr_learners",
    "mlr_losses",
    "mlr_optimizers",
    "t_loss",
    "t_opt",
]


def _factory(cls: type[LearnerTorch]) -> Any:
    def make(**params: Any) -> LearnerTorch:
        plain = {k: v for k, v in params.items() if "." not in k}
        dotted = {k: v for k, v in params.items() if "." in k}
        learner = cls(**plain)
        if dotted:
            learner.set_params(**dotted)
        return learner

    make.__name__ = f"make_{cls.__name__}"
    return make


def _describe(key: str, learner: LearnerTorch) -> dict[str, Any]:
    return {
        "class": type(learner).__name__,
        "task_type": learner.task_type,
        "predict_types": ",".join(learner._predict_types),
    }


mlr_learners: Dictionary[LearnerTorch] = Dictionary("mlr_learners", describe=_describe)
for _cls in (
    LearnerTorchClassifMLP,
    LearnerTorchRegrMLP,
    LearnerTorchClassifModule,
    LearnerTorchRegrModule,
    LearnerTorchClassifFeatureless,
    LearnerTorchRegrFeatureless,
):
    mlr_learners.add(_cls._key, _factory(_cls))


def lrn(key: str, **params: Any) -> LearnerTorch:
    """A fresh learner from :data:`mlr_learners`; keywords set plain and dotted parameters.

    Example:
        >>> from mlrpy import lrn
        >>> learner = lrn("classif.mlp", epochs=5, **{"opt.lr": 0.01})
        >>> learner.get_params()["opt.lr"], learner.epochs
        (0.01, 5)
    """
    return mlr_learners.get(key, **params)


def lrns(keys: Iterable[str], **params: Any) -> list[LearnerTorch]:
    """Several learners, each configured with ``params``."""
    return mlr_learners.mget(keys, **params)
