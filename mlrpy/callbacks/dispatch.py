"""``StageCaller``: calls one stage on every callback that defines it, in order.

Shared by the learner's training, evaluation and prediction loops and by
:class:`mlrpy.CallbackList` for hand-written loops.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

from mlrpy.callbacks.base import CallbackSet
from mlrpy.errors import CallbackStageError

__all__ = ["StageCaller", "collect_states"]


class StageCaller:
    """Calls one stage on every callback that defines it, in order.

    The dispatch lists are built once per run: per stage, a tuple of the bound stage methods.
    ``call`` (also reachable by calling the instance) is a plain closure over them, so a
    stage no callback implements costs one function call, one dict lookup and an empty loop,
    and each implemented stage one call of the bound method. A callback with a
    ``wrap_stage(callback_id, stage, method)`` method (``profiler``) gets every other
    callback's stage methods here and returns what is called instead. An exception in a stage is
    re-raised naming the callback and the stage; ``KeyboardInterrupt`` passes through
    untouched.
    """

    def __init__(self, callbacks: Iterable[CallbackSet], stages: Iterable[str]) -> None:
        callbacks = list(callbacks)
        self.dispatch: dict[str, list[tuple[str, Callable[[], Any]]]] = {
            stage: [(cb.id, getattr(cb, stage)) for cb in callbacks if hasattr(cb, stage)]
            for stage in stages
        }
        # a callback that measures the others (profiler) wraps their stage methods here, as
        # the lists are fixed before its first stage runs
        for wrapper in callbacks:
            wrap = getattr(wrapper, "wrap_stage", None)
            if wrap is not None:
                for stage, pairs in self.dispatch.items():
                    pairs[:] = [(cid, m if cid == wrapper.id else wrap(cid, stage, m)) for cid, m in pairs]
        dispatch = self.dispatch
        methods = {stage: tuple(m for _, m in pairs) for stage, pairs in dispatch.items()}

        def call(stage: str) -> None:
            method = None
            try:
                for method in methods[stage]:
                    method()
            except Exception as err:
                if method is None:  # an unknown stage: not a callback's fault
                    raise
                owner = next(cid for cid, m in dispatch[stage] if m is method)
                raise CallbackStageError(owner, stage, err) from err

        #: ``call("on_<stage>")``: the per-batch hot path of the training loop.
        self.call: Callable[[str], None] = call

    def __call__(self, stage: str) -> None:
        self.call(stage)

    def call_all(self, stage: str) -> CallbackStageError | None:
        """Call ``stage`` on every callback even if some fail; return the first failure."""
        first: CallbackStageError | None = None
        for callback_id, method in self.dispatch[stage]:
            try:
                method()
            except Exception as err:
                wrapped = CallbackStageError(callback_id, stage, err)
                wrapped.__cause__ = err
                if first is None:
                    first = wrapped
                else:
                    warnings.warn(str(wrapped), RuntimeWarning, stacklevel=2)
        return first


def collect_states(callbacks: Iterable[CallbackSet]) -> dict[str, Any]:
    """Each callback's ``state_dict()`` by id, leaving out ``None``."""
    states = {}
    for cb in callbacks:
        try:
            state = cb.state_dict()
        except Exception as err:
            raise CallbackStageError(cb.id, "state_dict", err) from err
        if state is not None:
            states[cb.id] = state
    return states
