"""mlrpy: PyTorch learners in an mlr3-style framework with a parameterised callback registry.

Every learner is also a scikit-learn estimator. See README.md and DESIGN.md.
"""

from mlrpy.callbacks import (
    PREDICT_STAGES,
    STAGES,
    Batch,
    CallbackSet,
    ContextTorch,
    TorchCallback,
    callback_set,
    mlr_callbacks,
    t_clbk,
    t_clbks,
    torch_callback,
)
from mlrpy.dictionary import Dictionary
from mlrpy.errors import (
    CallbackDefinitionError,
    CallbackStageError,
    CheckpointError,
    DataError,
    MlrpyError,
    NotFittedError,
    ParameterError,
    UnknownKeyError,
)
from mlrpy.learners import (
    LearnerTorch,
    LearnerTorchClassif,
    LearnerTorchRegr,
    TorchLoss,
    TorchModel,
    TorchOptimizer,
    lrn,
    lrns,
    mlr_learners,
    mlr_losses,
    mlr_optimizers,
    t_loss,
    t_opt,
)
from mlrpy.persistence import IncompatibleFileError, load
from mlrpy.prediction import Prediction, PredictionClassif, PredictionRegr
from mlrpy.tasks import (
    Task,
    TaskClassif,
    TaskRegr,
    as_task_classif,
    as_task_regr,
    mlr_tasks,
    tsk,
    tsks,
)

__version__ = "0.1.0"

__all__ = [
    "PREDICT_STAGES",
    "STAGES",
    "Batch",
    "CallbackDefinitionError",
    "CallbackSet",
    "CallbackStageError",
    "CheckpointError",
    "ContextTorch",
    "DataError",
    "IncompatibleFileError",
    "Dictionary",
    "LearnerTorch",
    "LearnerTorchClassif",
    "LearnerTorchRegr",
    "MlrpyError",
    "NotFittedError",
    "ParameterError",
    "Prediction",
    "PredictionClassif",
    "PredictionRegr",
    "Task",
    "TaskClassif",
    "TaskRegr",
    "TorchCallback",
    "TorchLoss",
    "TorchModel",
    "TorchOptimizer",
    "UnknownKeyError",
    "__version__",
    "as_task_classif",
    "as_task_regr",
    "callback_set",
    "load",
    "lrn",
    "lrns",
    "mlr_callbacks",
    "mlr_learners",
    "mlr_losses",
    "mlr_optimizers",
    "mlr_tasks",
    "t_clbk",
    "t_clbks",
    "t_loss",
    "t_opt",
    "torch_callback",
    "tsk",
    "tsks",
]
