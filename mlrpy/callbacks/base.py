"""The callback objects (DESIGN section 2): ``CallbackSet``, ``TorchCallback`` and the
``torch_callback()`` / ``callback_set()`` constructors.

Every definition is checked when it is made, so a misspelled stage or a stage method with an
argument fails at import time of the user's script, not silently during training.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from pydantic import BaseModel

from mlrpy.callbacks.context import ContextTorch
from mlrpy.callbacks.stages import ALL_STAGES, PREDICT_STAGES, STAGES
from mlrpy.dictionary import duplicated, suggest
from mlrpy.errors import CallbackDefinitionError, ParameterError
from mlrpy.params import Configurable, check_identifier, defaults_of

__all__ = [
    "ALL_STAGES",
    "PREDICT_STAGES",
    "STAGES",
    "CallbackSet",
    "TorchCallback",
    "callback_set",
    "sort_callbacks",
    "torch_callback",
]

# The stage names (STAGES, PREDICT_STAGES, ALL_STAGES), their order and what a callback may
# read and change at each one (STAGE_DOCS) live in mlrpy.callbacks.stages; the definition
# checks below validate every ``on_*`` name against them.

_RESERVED_PARAMS = ("ctx", "weight")
_STATE_METHODS = ("state_dict", "load_state_dict")


def _check_stage(owner: str, name: str, fn: Any) -> None:
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


def _check_init_params(owner: str, init: Callable[..., Any]) -> None:
    for name, p in inspect.signature(init).parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if name in _RESERVED_PARAMS:
            raise CallbackDefinitionError(
                f"Callback '{owner}': parameter '{name}' is reserved "
                f"({', '.join(_RESERVED_PARAMS)} are set by mlrpy); rename it"
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
    #: True for the checkpoint callback: it saves the other callbacks' states, so anything with
    #: state that runs after it at the end of an epoch would be saved stale.
    saves_other_states: ClassVar[bool] = False
    #: typed as always present for the benefit of stage methods; ``None`` outside a run
    ctx: ContextTorch = None  # type: ignore[assignment]
    id: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        owner = cls.__name__
        for name, fn in vars(cls).items():
            if name.startswith("on_"):
                _check_stage(owner, name, fn)
        has = [m for m in _STATE_METHODS if cls._overrides(m)]
        if len(has) == 1:
            missing = next(m for m in _STATE_METHODS if m not in has)
            raise CallbackDefinitionError(
                f"Callback '{owner}': defines '{has[0]}' but not '{missing}'; "
                f"define both so saved state can be restored"
            )
        if "__init__" in vars(cls):
            _check_init_params(owner, cls.__init__)
        w = vars(cls).get("weight", 0.0)
        if not isinstance(w, (int, float)) or isinstance(w, bool) or w != w:
            raise CallbackDefinitionError(f"Callback '{owner}': weight must be a number, got {w!r}")

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


def _camel(id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"_+", id) if part)


class TorchCallback(Configurable):
    """The descriptor users pass around: an id, a ``CallbackSet`` class and its parameters.

    Args:
        id: unique name; its parameters become ``cb.<id>.<param>`` on learners.
        generator: the :class:`CallbackSet` subclass to instantiate for every run.
        param_set: a pydantic model class for the constructor parameters; inferred from
            ``generator.__init__`` when omitted.
        label: a short human readable name.
        man: documentation (defaults to the generator's docstring).
        packages: import names needed at run time; missing ones raise ``ImportError``.
        weight: ordering override (higher runs later); the generator's ``weight`` otherwise.

    Example:
        >>> from mlrpy import t_clbk
        >>> cb = t_clbk("history")
        >>> cb.id, cb.generator.__name__
        ('history', 'CallbackSetHistory')
        >>> type(cb.generate()).__name__
        'CallbackSetHistory'
    """

    kind = "callback"
    _shared_attrs = ("param_set", "_param_source", "generator", "_functional")

    def __init__(
        self,
        id: str,
        generator: type[CallbackSet],
        param_set: type[BaseModel] | None = None,
        label: str | None = None,
        man: str | None = None,
        packages: Iterable[str] = ("mlrpy", "torch"),
        weight: float | None = None,
        extra: str | None = None,
    ) -> None:
        check_identifier(id, "Callback id")
        if not (isinstance(generator, type) and issubclass(generator, CallbackSet)):
            raise CallbackDefinitionError(
                f"Callback '{id}': generator must be a CallbackSet subclass, got {generator!r}"
            )
        if param_set is None:
            self._infer_param_set(generator, f"{generator.__name__}Params")
            param_set = self.param_set
        elif not (isinstance(param_set, type) and issubclass(param_set, BaseModel)):
            raise CallbackDefinitionError(
                f"Callback '{id}': param_set must be a pydantic model class, got {param_set!r}"
            )
        for name in param_set.model_fields:
            if name in _RESERVED_PARAMS:
                raise CallbackDefinitionError(
                    f"Callback '{id}': parameter '{name}' is reserved; rename it"
                )
            check_identifier(name, f"Callback '{id}': parameter")
        if weight is not None and (not isinstance(weight, (int, float)) or weight != weight):
            raise CallbackDefinitionError(f"Callback '{id}': weight must be a number, got {weight!r}")
        self.id = id
        self.generator = generator
        self.param_set = param_set
        self.param_values: dict[str, Any] = {}
        self.label = label or id.replace("_", " ").capitalize()
        self.man = man if man is not None else inspect.getdoc(generator) or ""
        self.packages = tuple(packages)
        self.weight = weight
        self.extra = extra
        self._functional: dict[str, Any] | None = None

    @property
    def key_prefix(self) -> str:
        return f"cb.{self.id}."

    @property
    def stages(self) -> list[str]:
        """The stages the generator implements, in firing order."""
        return self.generator.stages()

    @property
    def effective_weight(self) -> float:
        return float(self.generator.weight if self.weight is None else self.weight)

    def _check_packages(self) -> None:
        for pkg in self.packages:
            if importlib.util.find_spec(pkg) is None:
                hint = f" (install it with: pip install 'mlrpy[{self.extra}]')" if self.extra else ""
                raise ImportError(f"Callback '{self.id}' needs the package '{pkg}'{hint}")

    def generate(self) -> CallbackSet:
        """A fresh :class:`CallbackSet` built from the current parameter values."""
        self._check_packages()
        values = self.validated_values()
        try:
            cbs = self.generator(**values)
        except (ParameterError, ValueError, TypeError) as err:
            raise ParameterError(f"Callback '{self.id}' could not be built: {err}") from err
        cbs.id = self.id
        if self.weight is not None:
            cbs.weight = self.weight  # type: ignore[misc]
        cbs.ctx = None  # type: ignore[assignment]
        return cbs

    def __repr__(self) -> str:
        values = self.get_values()
        params = ", ".join(f"{k}={v!r}" for k, v in values.items()) or "list()"
        lines = [
            f"<TorchCallback:{self.id}> {self.label}",
            f"* Generator: {self.generator.__name__}",
            f"* Parameters: {params}",
            f"* Packages: {','.join(self.packages)}",
        ]
        if self.weight is not None or self.generator.weight:
            lines.append(f"* Weight: {self.effective_weight:g}")
        return "\n".join(lines)

    def __reduce__(self) -> Any:
        if self._functional is not None:
            # The class was built at run time and cannot be found by name: rebuild it from the
            # (picklable) functions it was made of.
            dropped = ("generator", "param_set", "_param_source")
            state = {k: v for k, v in self.__dict__.items() if k not in dropped}
            return (_rebuild_functional, (self._functional, state))
        return super().__reduce__()


def _rebuild_functional(spec: dict[str, Any], state: dict[str, Any]) -> TorchCallback:
    tc = _functional_callback(**spec)
    tc.__dict__.update(state)
    return tc


def _caller_module(depth: int = 2) -> str:
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
        _check_stage(classname, name, fn)
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
    ns["__module__"] = module or _caller_module()
    return type(classname, (parent,), ns)


def torch_callback(
    id: str,
    *,
    initialize: Callable[..., None] | None = None,
    state_dict: Callable[[Any], Any] | None = None,
    load_state_dict: Callable[[Any, Any], None] | None = None,
    param_set: type[BaseModel] | None = None,
    label: str | None = None,
    man: str | None = None,
    packages: Iterable[str] = ("mlrpy", "torch"),
    weight: float | None = None,
    parent: type[CallbackSet] = CallbackSet,
    **stages: Any,
) -> Any:
    """Define a callback, as functions or as a decorator over a ``CallbackSet`` subclass.

    With stage functions (or ``initialize``) it returns a :class:`TorchCallback` directly;
    with none it returns a decorator that turns a ``CallbackSet`` subclass into one.

    Args:
        id: the callback's id; its parameters appear on learners as ``cb.<id>.<param>``.
        initialize: constructor ``fn(self, <params>)``; parameters are inferred from it
            (annotation → type, default → default, no default → required).
        state_dict, load_state_dict: save and restore state (both or neither).
        param_set: a pydantic model class to use instead of inference.
        label, man, packages: descriptive fields (see :class:`TorchCallback`).
        weight: ordering weight; higher runs later, ``float("inf")`` last.
        **stages: ``on_<stage>=fn(self)``.

    Example:
        >>> from mlrpy import torch_callback
        >>> def init(self, alpha: float = 0.1):
        ...     self.alpha = alpha
        ...     self.moving_loss = None
        >>> def on_batch_end(self):
        ...     loss = self.ctx.last_loss
        ...     self.moving_loss = loss if self.moving_loss is None else (
        ...         self.alpha * loss + (1 - self.alpha) * self.moving_loss)
        >>> logger = torch_callback("custom_logger", initialize=init, on_batch_end=on_batch_end)
        >>> logger.get_values()
        {'alpha': 0.1}
        >>> @torch_callback("counter")
        ... class CallbackSetCounter(CallbackSet):
        ...     def on_epoch_end(self):
        ...         pass
        >>> CallbackSetCounter.id
        'counter'
    """
    check_identifier(id, "Callback id")
    for name, fn in stages.items():
        _check_stage(id, name, fn)
    descriptive: dict[str, Any] = dict(
        param_set=param_set, label=label, man=man, packages=packages, weight=weight
    )

    if not stages and initialize is None and state_dict is None and load_state_dict is None:

        def decorate(cls: type[CallbackSet]) -> TorchCallback:
            if not (isinstance(cls, type) and issubclass(cls, CallbackSet)):
                raise CallbackDefinitionError(
                    f"@torch_callback('{id}') decorates a CallbackSet subclass, got {cls!r}"
                )
            tc = TorchCallback(id, cls, **descriptive)
            # The module-level name now holds the TorchCallback; point the class's qualified
            # name at tc.generator so pickle can still find the class by reference.
            cls.__qualname__ = f"{cls.__qualname__}.generator"
            return tc

        return decorate

    return _functional_callback(
        id=id,
        initialize=initialize,
        state_dict=state_dict,
        load_state_dict=load_state_dict,
        parent=parent,
        module=_caller_module(),
        **descriptive,
        **stages,
    )


def _functional_callback(
    id: str,
    initialize: Any,
    state_dict: Any,
    load_state_dict: Any,
    parent: type[CallbackSet],
    module: str,
    param_set: Any,
    label: Any,
    man: Any,
    packages: Any,
    weight: Any,
    **stages: Any,
) -> TorchCallback:
    spec = dict(locals())
    spec.update(spec.pop("stages"))
    classname = f"CallbackSet{_camel(id)}"
    try:
        cls = callback_set(
            classname,
            initialize=initialize,
            state_dict=state_dict,
            load_state_dict=load_state_dict,
            parent=parent,
            module=module,
            **stages,
        )
    except CallbackDefinitionError as err:
        raise CallbackDefinitionError(str(err).replace(classname, id)) from None
    tc = TorchCallback(
        id, cls, param_set=param_set, label=label, man=man, packages=packages, weight=weight
    )
    tc._functional = spec
    return tc


def sort_callbacks(callbacks: list[CallbackSet]) -> list[CallbackSet]:
    """Stable sort by weight (DESIGN 2.3) and check nothing stateful runs after checkpointing."""
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


def describe_callback(key: str, tc: TorchCallback) -> dict[str, Any]:
    """Row of ``mlr_callbacks.as_frame()``."""
    defaults = defaults_of(tc.param_set)
    params = [
        f"{n}={defaults[n]!r}" if n in defaults else f"{n} (required)" for n in tc.param_set.model_fields
    ]
    return {
        "label": tc.label,
        "stages": ", ".join(tc.stages),
        "parameters": ", ".join(params),
        "packages": ",".join(tc.packages),
        "weight": tc.effective_weight,
    }
