"""Callbacks: the three objects of DESIGN section 2, the registry and the built-ins.

Each built-in lives in its own module and is registered in :data:`mlr_callbacks` here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mlrpy.callbacks.base import (
    ALL_STAGES,
    PREDICT_STAGES,
    STAGES,
    CallbackSet,
    TorchCallback,
    callback_set,
    describe_callback,
    sort_callbacks,
    torch_callback,
)
from mlrpy.callbacks.checkpoint import CallbackSetCheckpoint, checkpoint
from mlrpy.callbacks.context import Batch, ContextTorch
from mlrpy.callbacks.csv_logger import CallbackSetCSVLogger, csv_logger
from mlrpy.callbacks.early_stopping import CallbackSetEarlyStopping, early_stopping
from mlrpy.callbacks.ema import CallbackSetEMA, ema
from mlrpy.callbacks.gradient_clip import CallbackSetGradientClip, gradient_clip
from mlrpy.callbacks.history import CallbackSetHistory, history
from mlrpy.callbacks.lr_cosine_annealing import CallbackSetLRCosineAnnealing, lr_cosine_annealing
from mlrpy.callbacks.lr_lambda import CallbackSetLRLambda, lr_lambda
from mlrpy.callbacks.lr_monitor import CallbackSetLRMonitor, lr_monitor
from mlrpy.callbacks.lr_multiplicative import CallbackSetLRMultiplicative, lr_multiplicative
from mlrpy.callbacks.lr_one_cycle import CallbackSetLROneCycle, lr_one_cycle
from mlrpy.callbacks.lr_reduce_on_plateau import CallbackSetLRReduceOnPlateau, lr_reduce_on_plateau
from mlrpy.callbacks.lr_scheduler import CallbackSetLRScheduler, as_lr_scheduler
from mlrpy.callbacks.lr_step import CallbackSetLRStep, lr_step
from mlrpy.callbacks.mixed_precision import CallbackSetMixedPrecision, mixed_precision
from mlrpy.callbacks.progress import CallbackSetProgress, progress
from mlrpy.callbacks.stages import STAGE_DOCS
from mlrpy.callbacks.tb import CallbackSetTB, tb
from mlrpy.callbacks.terminate_on_nan import CallbackSetTerminateOnNaN, terminate_on_nan
from mlrpy.callbacks.time_limit import CallbackSetTimeLimit, time_limit
from mlrpy.callbacks.unfreeze import (
    CallbackSetUnfreeze,
    select_all,
    select_grep,
    select_invert,
    select_name,
    select_none,
    unfreeze,
)
from mlrpy.dictionary import Dictionary

__all__ = [
    "ALL_STAGES",
    "PREDICT_STAGES",
    "STAGES",
    "STAGE_DOCS",
    "Batch",
    "CallbackSet",
    "CallbackSetCSVLogger",
    "CallbackSetCheckpoint",
    "CallbackSetEMA",
    "CallbackSetEarlyStopping",
    "CallbackSetGradientClip",
    "CallbackSetHistory",
    "CallbackSetLRCosineAnnealing",
    "CallbackSetLRLambda",
    "CallbackSetLRMonitor",
    "CallbackSetLRMultiplicative",
    "CallbackSetLROneCycle",
    "CallbackSetLRReduceOnPlateau",
    "CallbackSetLRScheduler",
    "CallbackSetLRStep",
    "CallbackSetMixedPrecision",
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

#: The callback registry: ``t_clbk(key)`` returns a fresh copy of an entry.
mlr_callbacks: Dictionary[TorchCallback] = Dictionary("mlr_callbacks", describe=describe_callback)
for _tc in (
    early_stopping, history, progress, checkpoint, csv_logger, ema, gradient_clip, lr_cosine_annealing,
    lr_lambda, lr_monitor, lr_multiplicative, lr_one_cycle, lr_reduce_on_plateau, lr_step,
    mixed_precision, tb, terminate_on_nan, time_limit, unfreeze,
):
    mlr_callbacks.add(_tc)


def t_clbk(key: str, **values: Any) -> TorchCallback:
    """A fresh :class:`TorchCallback` from :data:`mlr_callbacks`; keywords set parameters.

    A suffix gives a second instance with its own id: ``t_clbk("history_2")``.

    Example:
        >>> from mlrpy import t_clbk
        >>> t_clbk("progress", digits=2).get_values()
        {'digits': 2, 'bars': True}
        >>> t_clbk("history_2").id
        'history_2'
    """
    return mlr_callbacks.get(key, **values)


def t_clbks(keys: Iterable[str]) -> list[TorchCallback]:
    """``[t_clbk(k) for k in keys]``.

    Example:
        >>> from mlrpy import t_clbks
        >>> [cb.id for cb in t_clbks(["history", "progress"])]
        ['history', 'progress']
    """
    return mlr_callbacks.mget(keys)


def as_torch_callback(x: Any) -> TorchCallback:
    """Accept a registry key or a :class:`TorchCallback`."""
    if isinstance(x, TorchCallback):
        return x
    if isinstance(x, str):
        return t_clbk(x)
    raise TypeError(
        f"A callback must be a TorchCallback or a registry key (see mlr_callbacks.keys()), "
        f"got {type(x).__name__}: {x!r}"
    )


def as_torch_callbacks(xs: Any) -> list[TorchCallback]:
    """Accept ``None``, one callback or key, or a list of them."""
    if xs is None:
        return []
    if isinstance(xs, (str, TorchCallback)):
        xs = [xs]
    return [as_torch_callback(x) for x in xs]
