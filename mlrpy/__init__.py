"""mlrpy: PyTorch learners in an mlr3-style framework with a parameterised callback registry.

Every learner is also a scikit-learn estimator. README.md gives a tour; docs/design.md
describes the architecture, the training loop stage by stage, and how to extend mlrpy.
"""

from mlrpy.benchmark import BenchmarkResult, benchmark, benchmark_grid
from mlrpy.callbacks import (
    PREDICT_STAGES,
    STAGES,
    Batch,
    CallbackSet,
    ContextTorch,
    TorchCallback,
    as_lr_scheduler,
    callback_set,
    mlr_callbacks,
    select_all,
    select_grep,
    select_invert,
    select_name,
    select_none,
    t_clbk,
    t_clbks,
    torch_callback,
)
from mlrpy.conversions import as_learner, as_resampling, as_task
from mlrpy.dictionary import Dictionary
from mlrpy.errors import (
    CallbackDefinitionError,
    CallbackStageError,
    CheckpointError,
    DataError,
    DivergenceError,
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
from mlrpy.measures import Measure, mlr_measures, msr, msrs
from mlrpy.persistence import IncompatibleFileError, load
from mlrpy.plotting import plot_history
from mlrpy.prediction import Prediction, PredictionClassif, PredictionRegr
from mlrpy.resample import ResampleResult, resample
from mlrpy.resampling import Resampling, mlr_resamplings, rsmp, rsmps
from mlrpy.sklearn_learner import LearnerSklearn
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
from mlrpy.tuning import AutoTuner, TuningResult, auto_tuner, to_tune, tune

__version__ = "0.1.0"

__all__ = [
    "AutoTuner",
    "BenchmarkResult",
    "LearnerSklearn",
    "Measure",
    "ResampleResult",
    "Resampling",
    "TuningResult",
    "as_learner",
    "as_resampling",
    "auto_tuner",
    "as_task",
    "benchmark",
    "benchmark_grid",
    "mlr_measures",
    "mlr_resamplings",
    "msr",
    "msrs",
    "plot_history",
    "resample",
    "rsmp",
    "rsmps",
    "to_tune",
    "tune",
    "PREDICT_STAGES",
    "STAGES",
    "Batch",
    "CallbackDefinitionError",
    "CallbackSet",
    "CallbackStageError",
    "CheckpointError",
    "ContextTorch",
    "DataError",
    "DivergenceError",
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
    "as_lr_scheduler",
    "select_all",
    "select_grep",
    "select_invert",
    "select_name",
    "select_none",
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
