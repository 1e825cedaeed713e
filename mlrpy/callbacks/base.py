"""The behaviour half of a callback: ``CallbackSet``, ``callback_set()`` and the ordering of
a run's callbacks (the descriptor, ``TorchCallback``, lives in
:mod:`mlrpy.callbacks.descriptor`).

Every definition is checked when it is made, so a misspelled stage or a stage method with an
argument fails at import time of the user's script, not silently during training.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any, ClassVar

from mlrpy.callbacks.context import ContextTorch
from mlrpy.callbacks.stages import ALL_STAGES, PREDICT_STAGES, STAGES
from mlrpy.dictionary import duplicated, suggest
from mlrpy.errors import CallbackDefinitionError, ParameterError
from mlrpy.params import check_identifier

__all__ = [
    "ALL_STAGES",
    "PREDICT_STAGES",
    "STAGES",
    "CallbackSet",
    "callback_set",
    "check_weight",
    "sort_callbacks",
]

# The stage names (STAGES, PREDICT_STAGES, ALL_STAGES), their order and what a callback may
# read and change at each one (STAGE_DOCS) live in mlrpy.callbacks.stages; the definition
# checks below validate every ``on_*`` name against them.

RESERVED_PARAMS = ("ctx", "weight")
_STATE_METHODS = ("state_dict", "load_state_dict")


def check_stage(owner: str, name: str, fn: Any) -> None:
    """A stage must be a known name and a function of ``self`` alone."""
    if name not in ALL_STAGES:
        raise CallbackDefinitionError(
            f"Callback '{owner}': '{name}' is not a stage.{suggest(name, ALL_STAGES)} "
            f"Stages: {', '.join(ALL_STAGES)}"
        )
    if not callable(fn):
        raise CallbackDefinitionError(
            f"Callback '{owner}': stage '{name}' must be a function, got {type(fn).__name__}"
        )
    params = list(inspect.signature(fn).parameters.values())
    if len(params) != 1 or params[0].kind not in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        others = [p.name for p in params[1:]] if params else []
        raise CallbackDefinitionError(
            f"Callback '{owner}': stage '{name}' must take only 'self' (read and write "
            f"self.ctx instead); it takes {'no arguments' if not params else others or params[0].name}"
        )


def check_weight(owner: str, weight: Any) -> float:
    """``weight`` as a float; a real number (``inf`` allowed) or :class:`ParameterError`."""
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or math.isnan(weight):
        raise ParameterError(
            f"Callback '{owner}': weight must be a real number (higher runs later, float('inf') "
            f"runs last), got {weight!r}"
        )
    return float(weight)


def _check_init_params(owner: str, init: Callable[..., Any]) -> None:
    for name, p in inspect.signature(init).parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if name in RESERVED_PARAMS:
            raise CallbackDefinitionError(
                f"Callback '{owner}': parameter '{name}' is reserved "
                f"({', '.join(RESERVED_PARAMS)} are set by mlrpy); rename it"
            )
        try:
            check_identifier(name, f"Callback '{owner}': parameter")
        except ParameterError as err:
            raise CallbackDefinitionError(str(err)) from None


class CallbackSet:
    """The behaviour of a callback: ``on_<stage>()`` methods that read and write ``self.ctx``.

    Subclass it, define the stages you need (see :data:`STAGES` and :data:`PREDICT_STAGES`),
    and optionally ``state_dict()`` / ``load_state_dict(state)`` (both or neither). A fresh
    instance is made for every run, so per-run state belongs in ``__init__``.

    Attributes:
        ctx: the run's :class:`ContextTorch`; ``None`` outside a run.
        id: the id of the :class:`TorchCallback` that built this instance.
        weight: ordering key; higher runs later (default 0).
        reads, writes: the ``ctx`` fields the callback reads and changes (documentation, and
            checked by :class:`mlrpy.CallbackList`: a field it reads must not be ``None``
            where the training loop would have filled it). A callback that sets
            ``ctx.stop_epoch`` must list it in ``writes``: a data-parallel run then lets one
            rank end an epoch before the others (and refuses an undeclared early stop).
        rank_zero_only: in data-parallel training (``strategy="ddp"``) the callback exists on
            rank 0 only, so its files and printed lines appear once. Set it on callbacks that
            write or print; leave it ``False`` on callbacks whose decisions every rank must
            take (they then see the same, reduced scores on every rank).

    Example:
        >>> from mlrpy import CallbackSet
        >>> class CallbackSetCount(CallbackSet):
        ...     def __init__(self):
        ...         self.batches = 0
        ...     def on_batch_end(self):
        ...         self.batches += 1
        ...     def state_dict(self):
        ...         return self.batches
        ...     def load_state_dict(self, state):
        ...         self.batches = state
        >>> CallbackSetCount().stages()
        ['on_batch_end']
    """

    weight: ClassVar[float] = 0.0
    #: the ``ctx`` fields this callback needs the loop to fill (a hand-written loop driving it
    #: through :class:`mlrpy.CallbackList` is told which one it forgot) ...
    reads: ClassVar[tuple[str, ...]] = ()
    #: ... and those it changes
    writes: ClassVar[tuple[str, ...]] = ()
    #: True for the checkpoint callback: it saves the other callbacks' states, so anything with
    #: state that runs after it at the end of an epoch would be saved stale.
    saves_other_states: ClassVar[bool] = False
    #: True for callbacks with side effects (files, printing): in data-parallel training only
    #: rank 0 runs them
    rank_zero_only: ClassVar[bool] = False
    #: typed as always present for the benefit of stage methods; ``None`` outside a run
    ctx: ContextTorch = None  # type: ignore[assignment]
    id: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        owner = cls.__name__
        for name, fn in vars(cls).items():
            if name.startswith("on_"):
                check_stage(owner, name, fn)
        has = [m for m in _STATE_METHODS if cls._overrides(m)]
        if len(has) == 1:
            missing = next(m for m in _STATE_METHODS if m not in has)
            raise CallbackDefinitionError(
                f"Callback '{owner}': defines '{has[0]}' but not '{missing}'; "
                f"define both so saved state can be restored"
            )
        if "__init__" in vars(cls):
            _check_init_params(owner, cls.__init__)
        if "weight" in vars(cls):
            try:
                check_weight(owner, cls.weight)
            except ParameterError as err:
                raise CallbackDefinitionError(str(err)) from None

    @classmethod
    def _overrides(cls, method: str) -> bool:
        return getattr(cls, method) is not getattr(CallbackSet, method)

    @classmethod
    def stages(cls) -> list[str]:
        """The stages this class implements, in firing order."""
        return [s for s in ALL_STAGES if hasattr(cls, s)]

    @classmethod
    def has_state(cls) -> bool:
        return cls._overrides("state_dict")

    def state_dict(self) -> Any:
        """State worth keeping after training (stored in ``model.callbacks[id]``); ``None``
        means nothing to keep."""
        return None

    def load_state_dict(self, state: Any) -> None:
        """Restore what :meth:`state_dict` returned (warm start, resume, prediction)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}:{self.id or '?'}>"

def caller_module(depth: int = 2) -> str:
    frame = inspect.currentframe()
    for _ in range(depth):
        frame = frame.f_back if frame is not None else None
    return frame.f_globals.get("__name__", __name__) if frame is not None else __name__

def callback_set(
    classname: str,
    *,
    initialize: Callable[..., None] | None = None,
    state_dict: Callable[[Any], Any] | None = None,
    load_state_dict: Callable[[Any, Any], None] | None = None,
    parent: type[CallbackSet] = CallbackSet,
    weight: float | None = None,
    module: str | None = None,
    **stages: Callable[[Any], None],
) -> type[CallbackSet]:
    """Build a :class:`CallbackSet` subclass from functions (mlr3torch's ``callback_set``).

    Args:
        classname: the class name, e.g. ``"CallbackSetCustomLogger"``.
        initialize: becomes ``__init__``; its parameters become the callback's parameters.
        state_dict, load_state_dict: both or neither.
        parent: the class to derive from.
        weight: ordering weight (higher runs later).
        module: the class's ``__module__`` (defaults to the caller's module).
        **stages: ``on_<stage>=fn`` where ``fn(self)`` reads and writes ``self.ctx``.

    Example:
        >>> from mlrpy import callback_set
        >>> def hello(self):
        ...     print("epoch", self.ctx.epoch)
        >>> Cls = callback_set("CallbackSetHello", on_epoch_end=hello)
        >>> Cls.stages()
        ['on_epoch_end']
    """
    if not classname.isidentifier():
        raise CallbackDefinitionError(f"callback_set: classname {classname!r} is not an identifier")
    for name, fn in stages.items():
        check_stage(classname, name, fn)
    ns: dict[str, Any] = dict(stages)
    if initialize is not None:
        if not callable(initialize):
            raise CallbackDefinitionError(f"Callback '{classname}': initialize must be a function")
        ns["__init__"] = initialize
    if state_dict is not None:
        ns["state_dict"] = state_dict
    if load_state_dict is not None:
        ns["load_state_dict"] = load_state_dict
    if weight is not None:
        ns["weight"] = weight
    ns["__qualname__"] = classname
    ns["__module__"] = module or caller_module()
    return type(classname, (parent,), ns)

def sort_callbacks(callbacks: list[CallbackSet]) -> list[CallbackSet]:
    """Stable sort by weight (higher runs later) and check nothing stateful runs after checkpointing."""
    dupes = duplicated(cb.id for cb in callbacks)
    if dupes:
        raise ParameterError(
            f"Callback ids must be unique within a learner; duplicated: {', '.join(dupes)} "
            f"(use a suffix, e.g. t_clbk('{dupes[0]}_2'))"
        )
    ordered = sorted(callbacks, key=lambda cb: cb.weight)
    seen_checkpoint: CallbackSet | None = None
    for cb in ordered:
        if seen_checkpoint is not None and type(cb).has_state():
            writes = [s for s in ("on_epoch_end", "on_end") if hasattr(cb, s)]
            if writes:
                raise CallbackDefinitionError(
                    f"Callback '{cb.id}' keeps state and updates it in {', '.join(writes)}, but runs "
                    f"after '{seen_checkpoint.id}' (weight {seen_checkpoint.weight}), so its "
                    f"checkpointed state would be stale; give it a lower weight"
                )
        if cb.saves_other_states:
            seen_checkpoint = cb
    return ordered
