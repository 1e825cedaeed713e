"""Learners: the torch learner families, the learner registry and its sugar.

Importing this package imports every built-in learner module, each of which registers itself
in :data:`mlr_learners`.
"""

from __future__ import annotations

from mlrpy.learners.base import LearnerTorch
from mlrpy.learners.classif import LearnerTorchClassif
from mlrpy.learners.common import SHARED_CONSTRAINTS
from mlrpy.learners.contract import ExtensionError
from mlrpy.learners.featureless import (
    LearnerTorchClassifFeatureless,
    LearnerTorchRegrFeatureless,
)
from mlrpy.learners.ft_transformer import (
    LearnerTorchClassifFTTransformer,
    LearnerTorchRegrFTTransformer,
)
from mlrpy.learners.lr_find import LRFindResult
from mlrpy.learners.mlp import LearnerTorchClassifMLP, LearnerTorchRegrMLP
from mlrpy.learners.model import TorchModel
from mlrpy.learners.module import LearnerTorchClassifModule, LearnerTorchRegrModule
from mlrpy.learners.registry import lrn, lrns, mlr_learners, register_learner
from mlrpy.learners.regr import LearnerTorchRegr
from mlrpy.learners.tab_resnet import LearnerTorchClassifTabResNet, LearnerTorchRegrTabResNet
from mlrpy.learners.tabm import LearnerTorchClassifTabM, LearnerTorchRegrTabM
from mlrpy.learners.torch_objects import (
    TorchLoss,
    TorchOptimizer,
    mlr_losses,
    mlr_optimizers,
    t_loss,
    t_opt,
)
from mlrpy.learners.vision import (
    LearnerTorchClassifMobileNetV3Small,
    LearnerTorchClassifResNet18,
    LearnerTorchClassifVision,
)

__all__ = [
    "SHARED_CONSTRAINTS",
    "ExtensionError",
    "LRFindResult",
    "LearnerTorch",
    "LearnerTorchClassif",
    "LearnerTorchClassifFTTransformer",
    "LearnerTorchClassifFeatureless",
    "LearnerTorchClassifMLP",
    "LearnerTorchClassifMobileNetV3Small",
    "LearnerTorchClassifModule",
    "LearnerTorchClassifResNet18",
    "LearnerTorchClassifTabM",
    "LearnerTorchClassifTabResNet",
    "LearnerTorchClassifVision",
    "LearnerTorchRegr",
    "LearnerTorchRegrFTTransformer",
    "LearnerTorchRegrFeatureless",
    "LearnerTorchRegrMLP",
    "LearnerTorchRegrModule",
    "LearnerTorchRegrTabM",
    "LearnerTorchRegrTabResNet",
    "TorchLoss",
    "TorchModel",
    "TorchOptimizer",
    "lrn",
    "lrns",
    "mlr_learners",
    "mlr_losses",
    "mlr_optimizers",
    "register_learner",
    "t_loss",
    "t_opt",
]
