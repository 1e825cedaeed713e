"""The descriptor half of a callback: ``TorchCallback`` (id, generator class, parameter
schema, documentation) and ``torch_callback()``, which defines one from functions or from a
``CallbackSet`` subclass.

The parameter schema is inferred from the generator's ``__init__`` signature (or the
``initialize`` function): annotation → type, default → default, and bounds and a description
from ``typing.Annotated[..., pydantic.Field(...)]``. The signature is the only place a
parameter is declared; ``man``, printing and ``docs/callbacks.md`` render it from the schema.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel

from mlrpy.callbacks._man import parameter_lines, render_man
from mlrpy.callbacks.base import (
    RESERVED_PARAMS,
    CallbackSet,
    callback_set,
    caller_module,
    check_stage,
    check_weight,
)
from mlrpy.errors import CallbackDefinitionError, CallbackStageError, ParameterError
from mlrpy.params import Configurable, check_identifier, defaults_of

__all__ = ["TorchCallback", "callback_id_of", "describe_callback", "torch_callback"]


def _camel(id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"_+", id) if part)


def callback_id_of(cls: type) -> str:
    """The id a bare ``CallbackSet`` subclass gets: its name without the ``CallbackSet``
    prefix, in snake case.

    Example:
        >>> from mlrpy.callbacks.descriptor import callback_id_of
        >>> class CallbackSetMyLogger: ...
        >>> class LRWarmup: ...
        >>> callback_id_of(CallbackSetMyLogger), callback_id_of(LRWarmup)
        ('my_logger', 'lr_warmup')
    """
    name = cls.__name__.removeprefix("CallbackSet") or cls.__name__
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", name)
    return "_".join(w.lower() for w in words) or name.lower()


class TorchCallback(Configurable):
    """The descriptor users pass around: an id, a ``CallbackSet`` class and its parameters.

    Args:
        id: unique name; its parameters become ``cb.<id>.<param>`` on learners.
        generator: the :class:`CallbackSet` subclass to instantiate for every run.
        param_set: a pydantic model class for the constructor parameters; inferred from
            ``generator.__init__`` when omitted.
        label: a short human readable name.
        man: documentation prose (defaults to the generator's docstring); :attr:`man` adds
            a "Parameters" section rendered from ``param_set``.
        packages: import names needed at run time; missing ones raise ``ImportError``.
        weight: ordering override (higher runs later, ``float("inf")`` last); the
            generator's ``weight`` when ``None``. Checked whenever it is set.

    Example:
        >>> from mlrpy import t_clbk
        >>> cb = t_clbk("history")
        >>> cb.id, cb.generator.__name__
        ('history', 'CallbackSetHistory')
        >>> type(cb.generate()).__name__
        'CallbackSetHistory'
        >>> print(t_clbk("progress", digits=2))  # doctest: +NORMALIZE_WHITESPACE
        <TorchCallback:progress> Progress
        * Generator: CallbackSetProgress
        * Parameters: digits=2, bars=True
            digits (int, default 3, in [0, 16]): decimals shown for losses and scores
            bars (bool, default True): draw tqdm bars (hidden anyway when stderr is not a terminal)
        * Packages: mlrpy,torch,tqdm
    """

    kind = "callback"
    _shared_attrs = ("param_set", "_param_source", "generator", "_functional")
    _weight: float | None = None
    _man: str = ""

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
            if name in RESERVED_PARAMS:
                raise CallbackDefinitionError(
                    f"Callback '{id}': parameter '{name}' is reserved; rename it"
                )
            check_identifier(name, f"Callback '{id}': parameter")
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
    def weight(self) -> float | None:
        """Ordering override: higher runs later; ``None`` uses the generator's ``weight``."""
        return self._weight

    @weight.setter
    def weight(self, value: Any) -> None:
        self._weight = None if value is None else check_weight(self.id, value)

    @property
    def man(self) -> str:
        """The documentation: prose, the parameters (rendered from ``param_set``) and an
        example."""
        return render_man(self._man, self.param_set)

    @man.setter
    def man(self, text: str | None) -> None:
        self._man = text or ""

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
        except (ValueError, TypeError) as err:  # ParameterError included: the values' fault
            raise ParameterError(f"Callback '{self.id}' could not be built: {err}") from err
        except Exception as err:
            raise CallbackStageError(self.id, "__init__", err) from err
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
            *(f"    {line}" for line in parameter_lines(self.param_set)),
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
        check_stage(id, name, fn)
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
        module=caller_module(),
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
