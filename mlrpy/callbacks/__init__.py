"""Callbacks: ``CallbackSet`` (behaviour), ``TorchCallback`` (descriptor), ``ContextTorch``
(a run's state), the registry ``mlr_callbacks`` and the built-ins.

Each built-in lives in its own module and registers itself at the bottom of it; this module
only imports them.
"""

from __future__ import annotations

from mlrpy.callbacks.base import ALL_STAGES, PREDICT_STAGES, STAGES, CallbackSet, callback_set, sort_callbacks
from mlrpy.callbacks.callback_list import CallbackList
from mlrpy.callbacks.checkpoint import CallbackSetCheckpoint
from mlrpy.callbacks.context import Batch, ContextTorch
from mlrpy.callbacks.csv_logger import CallbackSetCSVLogger
from mlrpy.callbacks.descriptor import TorchCallback, torch_callback
from mlrpy.callbacks.early_stopping import CallbackSetEarlyStopping
from mlrpy.callbacks.ema import CallbackSetEMA
from mlrpy.callbacks.grad_accumulation import CallbackSetGradAccumulation
from mlrpy.callbacks.gradient_clip import CallbackSetGradientClip
from mlrpy.callbacks.history import CallbackSetHistory
from mlrpy.callbacks.lr_cosine_annealing import CallbackSetLRCosineAnnealing
from mlrpy.callbacks.lr_finder import CallbackSetLRFinder
from mlrpy.callbacks.lr_lambda import CallbackSetLRLambda
from mlrpy.callbacks.lr_monitor import CallbackSetLRMonitor
from mlrpy.callbacks.lr_multiplicative import CallbackSetLRMultiplicative
from mlrpy.callbacks.lr_one_cycle import CallbackSetLROneCycle
from mlrpy.callbacks.lr_reduce_on_plateau import CallbackSetLRReduceOnPlateau
from mlrpy.callbacks.lr_scheduler import CallbackSetLRScheduler, as_lr_scheduler
from mlrpy.callbacks.lr_step import CallbackSetLRStep
from mlrpy.callbacks.mixed_precision import CallbackSetMixedPrecision
from mlrpy.callbacks.mixup import CallbackSetMixup
from mlrpy.callbacks.mlflow import CallbackSetMLflow
from mlrpy.callbacks.monitor import CallbackSetMonitor
from mlrpy.callbacks.profiler import CallbackSetProfiler
from mlrpy.callbacks.progress import CallbackSetProgress
from mlrpy.callbacks.registry import as_torch_callback, as_torch_callbacks, mlr_callbacks, t_clbk, t_clbks
from mlrpy.callbacks.stages import EVALUATE_STAGES, STAGE_DOCS
from mlrpy.callbacks.tb import CallbackSetTB
from mlrpy.callbacks.terminate_on_nan import CallbackSetTerminateOnNaN
from mlrpy.callbacks.time_limit import CallbackSetTimeLimit
from mlrpy.callbacks.unfreeze import (
    CallbackSetUnfreeze,
    select_all,
    select_grep,
    select_invert,
    select_name,
    select_none,
)

__all__ = [
    "ALL_STAGES",
    "EVALUATE_STAGES",
    "PREDICT_STAGES",
    "STAGES",
    "STAGE_DOCS",
    "Batch",
    "CallbackList",
    "CallbackSet",
    "CallbackSetCSVLogger",
    "CallbackSetCheckpoint",
    "CallbackSetEMA",
    "CallbackSetEarlyStopping",
    "CallbackSetGradAccumulation",
    "CallbackSetGradientClip",
    "CallbackSetHistory",
    "CallbackSetLRCosineAnnealing",
    "CallbackSetLRFinder",
    "CallbackSetLRLambda",
    "CallbackSetLRMonitor",
    "CallbackSetLRMultiplicative",
    "CallbackSetLROneCycle",
    "CallbackSetLRReduceOnPlateau",
    "CallbackSetLRScheduler",
    "CallbackSetLRStep",
    "CallbackSetMLflow",
    "CallbackSetMixedPrecision",
    "CallbackSetMixup",
    "CallbackSetMonitor",
    "CallbackSetProfiler",
    "CallbackSetProgress",
    "CallbackSetTB",
    "CallbackSetTerminateOnNaN",
    "CallbackSetTimeLimit",
    "CallbackSetUnfreeze",
    "ContextTorch",
    "TorchCallback",
    "as_lr_scheduler",
    "as_torch_callback",
    "as_torch_callbacks",
    "callback_set",
    "mlr_callbacks",
    "select_all",
    "select_grep",
    "select_invert",
    "select_name",
    "select_none",
    "sort_callbacks",
    "t_clbk",
    "t_clbks",
    "torch_callback",
]
