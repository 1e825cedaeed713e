"""The callback registry ``mlr_callbacks`` and the ways to get callbacks out of it.

Every built-in registers itself at the bottom of its own module
(``mlr_callbacks.add(TorchCallback(...))``), as mlr3torch does, so adding a built-in touches
one module and its test file. :func:`as_torch_callbacks` turns what users pass as a learner's
``callbacks`` (keys, ``TorchCallback`` objects, ``CallbackSet`` subclasses) into descriptors.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback, callback_id_of, describe_callback
from mlrpy.dictionary import Dictionary
from mlrpy.errors import ParameterError

__all__ = ["as_torch_callback", "as_torch_callbacks", "mlr_callbacks", "t_clbk", "t_clbks"]

#: The callback registry: ``t_clbk(key)`` returns a fresh copy of an entry.
mlr_callbacks: Dictionary[TorchCallback] = Dictionary("mlr_callbacks", describe=describe_callback)

_ACCEPTED = (
    "a registry key (see mlr_callbacks.keys()), a TorchCallback (t_clbk(...), torch_callback(...)) "
    "or a CallbackSet subclass"
)

# one descriptor per bare CallbackSet subclass: inferring its schema once, not at every lookup
_wrapped: weakref.WeakKeyDictionary[type, TorchCallback] = weakref.WeakKeyDictionary()


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
    """Accept a registry key, a :class:`TorchCallback` or a ``CallbackSet`` subclass.

    A subclass is wrapped in a ``TorchCallback`` whose id is its class name without the
    ``CallbackSet`` prefix, in snake case (``CallbackSetMyLogger`` → ``"my_logger"``).
    A ``CallbackSet`` *instance* is refused: every run needs a fresh one.

    Example:
        >>> from mlrpy import CallbackSet
        >>> from mlrpy.callbacks import as_torch_callback
        >>> class CallbackSetMyLogger(CallbackSet):
        ...     def on_epoch_end(self):
        ...         pass
        >>> as_torch_callback(CallbackSetMyLogger).id
        'my_logger'
    """
    if isinstance(x, TorchCallback):
        return x
    if isinstance(x, str):
        return t_clbk(x)
    if isinstance(x, type) and issubclass(x, CallbackSet):
        if x not in _wrapped:
            _wrapped[x] = TorchCallback(callback_id_of(x), x)
        return _wrapped[x].clone()
    if isinstance(x, CallbackSet):
        cls = type(x).__name__
        raise ParameterError(
            f"A callback must be {_ACCEPTED}; got an instance of {cls}. Pass the class ({cls}) or "
            f"a TorchCallback wrapping it, because every training run builds a fresh instance"
        )
    raise ParameterError(f"A callback must be {_ACCEPTED}; got {type(x).__name__}: {x!r}")


def as_torch_callbacks(xs: Any) -> list[TorchCallback]:
    """Accept ``None``, one callback (see :func:`as_torch_callback`), or a list or tuple of them.

    Example:
        >>> from mlrpy.callbacks import as_torch_callbacks
        >>> [tc.id for tc in as_torch_callbacks(["history", "progress"])]
        ['history', 'progress']
    """
    if xs is None:
        return []
    if isinstance(xs, (list, tuple)):
        return [as_torch_callback(x) for x in xs]
    if isinstance(xs, (str, TorchCallback, type, CallbackSet)):
        return [as_torch_callback(xs)]
    raise ParameterError(
        f"callbacks must be None, one callback or a list of callbacks, where a callback is "
        f"{_ACCEPTED}; got {type(xs).__name__}: {xs!r}"
    )
