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
from mlrpy.callbacks.context import Batch, ContextTorch
from mlrpy.callbacks.history import CallbackSetHistory, history
from mlrpy.callbacks.progress import CallbackSetProgress, progress
from mlrpy.dictionary import Dictionary

__all__ = [
    "ALL_STAGES",
    "PREDICT_STAGES",
    "STAGES",
    "Batch",
    "CallbackSet",
    "CallbackSetHistory",
    "CallbackSetProgress",
    "ContextTorch",
    "TorchCallback",
    "as_torch_callback",
    "as_torch_callbacks",
    "callback_set",
    "mlr_callbacks",
    "sort_callbacks",
    "t_clbk",
    "t_clbks",
    "torch_callback",
]

#: The callback registry: ``t_clbk(key)`` returns a fresh copy of an entry.
mlr_callbacks: Dictionary[TorchCallback] = Dictionary("mlr_callbacks", describe=describe_callback)
for _tc in (history, progress):
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
