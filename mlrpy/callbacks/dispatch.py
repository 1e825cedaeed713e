"""``StageCaller``: calls one stage on every callback that defines it, in order.

Shared by the learner's training, evaluation and prediction loops and by
:class:`mlrpy.CallbackList` for hand-written loops.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from mlrpy.callbacks.base import CallbackSet
from mlrpy.errors import CallbackStageError

__all__ = ["StageCaller", "collect_states"]


class StageCaller:
    """Calls one stage on every callback that defines it, in order.

    The dispatch lists are built once per run: per stage, a tuple of the bound stage methods.
    ``call`` (also reachable by calling the instance) reads the stage as an attribute of an
    object made for the run: a stage no callback implements is a class attribute ``None``,
    so calling it runs no Python code at all (a third of the cost of a Python function
    call, and the loop calls five stages per batch); an implemented stage is a property that
    calls each bound method in turn. A callback with a
    ``wrap_stage(callback_id, stage, method)`` method (``profiler``) gets every other
    callback's stage methods here and returns what is called instead. An exception in a stage is
    re-raised naming the callback and the stage; ``KeyboardInterrupt`` passes through
    untouched.
    """

    def __init__(self, callbacks: Iterable[CallbackSet], stages: Iterable[str]) -> None:
        callbacks = list(callbacks)
        self.dispatch: dict[str, list[tuple[str, Callable[[], Any]]]] = {
            stage: [(cb.id, getattr(cb, stage)) for cb in callbacks if hasattr(cb, stage)] for stage in stages
        }
        # a callback that measures the others (profiler) wraps their stage methods here, as
        # the lists are fixed before its first stage runs
        for wrapper in callbacks:
            wrap = getattr(wrapper, "wrap_stage", None)
            if wrap is not None:
                for stage, pairs in self.dispatch.items():
                    pairs[:] = [(cid, m if cid == wrapper.id else wrap(cid, stage, m)) for cid, m in pairs]
        stage_calls: dict[str, Any] = {
            stage: property(partial(_run_stage, stage, tuple(pairs), tuple(m for _, m in pairs)))
            if pairs
            else None
            for stage, pairs in self.dispatch.items()
        }
        calls = type("StageCalls", (_StageCalls,), {"__slots__": (), **stage_calls})()

        #: ``call("on_<stage>")``: the per-batch hot path of the training loop.
        self.call: Callable[[str], None] = partial(getattr, calls)

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


class _StageCalls:
    """The base of the per-run object whose attributes ``StageCaller.call`` reads."""

    __slots__ = ()

    def __getattr__(self, stage: str) -> None:
        if stage.startswith("__"):  # copy and pickle probe for optional special methods
            raise AttributeError(stage)
        raise KeyError(stage)  # an unknown stage: not a callback's fault


def _run_stage(
    stage: str,
    pairs: tuple[tuple[str, Callable[[], Any]], ...],
    methods: tuple[Callable[[], Any], ...],
    _calls: Any,
) -> None:
    """Call the bound ``methods`` of ``stage`` in order; a failure is re-raised naming its
    callback, found in ``pairs`` of (callback id, method) (``KeyboardInterrupt`` passes
    through untouched)."""
    method = None
    try:
        for method in methods:
            method()
    except Exception as err:
        owner = next(cid for cid, m in pairs if m is method)
        raise CallbackStageError(owner, stage, err) from err


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
