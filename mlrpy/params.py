"""Pydantic parameter sets: inference from signatures, validation, and dotted names.

A *parameter set* is a pydantic model class whose fields are the constructor parameters of
a callback, optimizer, loss or module. Values are validated one at a time when they are set
(so the error names the exact key) and all together when an object is built from them.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterable
from typing import Annotated, Any, ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model
from pydantic_core import PydanticUndefined

from mlrpy.dictionary import suggest
from mlrpy.errors import ParameterError, UnknownKeyError

__all__ = [
    "Configurable",
    "ParamModel",
    "check_identifier",
    "infer_param_set",
    "param_table",
]


class ParamModel(BaseModel):
    """Base of every parameter set: unknown names are errors, arbitrary types are allowed."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, validate_default=False)


def check_identifier(name: str, what: str) -> None:
    """Raise :class:`ParameterError` unless ``name`` can be used in a dotted key.

    Ids and parameter names end up in keys like ``cb.<id>.<param>`` and in scikit-learn's
    ``step__param`` routing, so they must be identifiers without ``__`` or ``.``.
    """
    if not isinstance(name, str) or not name.isidentifier() or "__" in name or "." in name:
        raise ParameterError(
            f"{what} {name!r} is not valid: use a Python identifier without '__' or '.' "
            f"(it becomes part of dotted parameter names such as 'cb.<id>.<param>')"
        )


def infer_param_set(
    fn: Callable[..., Any],
    model_name: str,
    *,
    skip: Iterable[str] = ("self",),
) -> type[ParamModel]:
    """Build a parameter set from ``fn``'s signature.

    Annotation → type, default → default, no default → required, no annotation → ``Any``.
    ``*args`` / ``**kwargs`` are ignored.

    Example:
        >>> from mlrpy.params import infer_param_set
        >>> def init(self, alpha: float = 0.1, name="x"): ...
        >>> PS = infer_param_set(init, "Demo")
        >>> PS.model_fields["alpha"].default, PS.model_fields["alpha"].annotation
        (0.1, <class 'float'>)
    """
    skip = set(skip)
    try:
        hints = inspect.get_annotations(fn, eval_str=True)
    except Exception:  # unresolvable forward references: fall back to the raw annotations
        hints = dict(getattr(fn, "__annotations__", {}))
    fields: dict[str, Any] = {}
    for name, p in inspect.signature(fn).parameters.items():
        if name in skip or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        annotation = hints.get(name, Any)
        if annotation is inspect.Parameter.empty:
            annotation = Any
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[name] = (annotation, default)
    return create_model(model_name, __base__=ParamModel, **fields)


def _field_adapter(param_set: type[BaseModel], name: str) -> TypeAdapter[Any]:
    cache: dict[str, TypeAdapter[Any]] = param_set.__dict__.get("_mlrpy_adapters") or {}
    if "_mlrpy_adapters" not in param_set.__dict__:
        type.__setattr__(param_set, "_mlrpy_adapters", cache)
    if name not in cache:
        field = param_set.model_fields[name]
        annotated: Any = Annotated[field.annotation, field]  # type: ignore[name-defined]
        cache[name] = TypeAdapter(annotated, config=ConfigDict(arbitrary_types_allowed=True))
    return cache[name]


def _reason(err: ValidationError) -> str:
    return "; ".join(e["msg"] for e in err.errors())


def validate_value(param_set: type[BaseModel], name: str, value: Any, prefix: str = "") -> Any:
    """Validate one value; errors name the full key (``prefix + name``), the value and the reason."""
    key = prefix + name
    if name not in param_set.model_fields:
        valid = [prefix + n for n in param_set.model_fields]
        raise UnknownKeyError(
            f"'{key}' is not a parameter.{suggest(key, valid)} "
            f"Valid: {', '.join(valid) if valid else '(none)'}"
        )
    try:
        return _field_adapter(param_set, name).validate_python(value)
    except ValidationError as err:
        raise ParameterError(f"Invalid value for '{key}': {value!r}. {_reason(err)}") from None


def validate_all(param_set: type[BaseModel], values: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Validate a complete set of values (required ones present, model validators run).

    Returns the explicitly set values plus defaults, ready to pass to a constructor.
    """
    try:
        model = param_set.model_validate(values)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            loc = ".".join(str(p) for p in e["loc"])
            key = f"{prefix}{loc}" if loc else prefix.rstrip(".")
            shown = "" if e["type"] == "missing" else f" = {e.get('input')!r}"
            problems.append(f"'{key}'{shown}: {e['msg']}")
        raise ParameterError("Invalid parameters: " + "; ".join(problems)) from None
    return {name: getattr(model, name) for name in param_set.model_fields}


def defaults_of(param_set: type[BaseModel]) -> dict[str, Any]:
    """Defaults of the fields that have one (required fields are absent)."""
    out = {}
    for name, field in param_set.model_fields.items():
        if field.default is not PydanticUndefined:
            out[name] = field.default
        elif field.default_factory is not None:
            out[name] = field.default_factory()  # type: ignore[call-arg]
    return out


def _type_name(annotation: Any) -> str:
    if annotation is Any:
        return "any"
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def param_table(param_set: type[BaseModel], values: dict[str, Any]) -> pd.DataFrame:
    """mlr3-style table: id, type, lower, upper, default, value."""
    rows = []
    for name, field in param_set.model_fields.items():
        lower = upper = None
        for m in field.metadata:
            lower = getattr(m, "ge", getattr(m, "gt", lower))
            upper = getattr(m, "le", getattr(m, "lt", upper))
        default = field.default if field.default is not PydanticUndefined else "<required>"
        rows.append(
            {
                "id": name,
                "type": _type_name(field.annotation),
                "lower": lower,
                "upper": upper,
                "default": default,
                "value": values.get(name, ""),
            }
        )
    # object columns keep ints as ints next to None (pandas would turn them into floats)
    return pd.DataFrame(rows, columns=["id", "type", "lower", "upper", "default", "value"], dtype=object)


class Configurable:
    """Shared behaviour of the descriptors (callbacks, optimizers, losses).

    Subclasses set ``id``, ``param_set`` and ``param_values`` and name their dotted prefix
    with :attr:`key_prefix` (``"cb.<id>."``, ``"opt."``, ``"loss."``).
    """

    kind: ClassVar[str] = "object"
    id: str
    param_set: type[BaseModel]
    param_values: dict[str, Any]
    #: where an inferred ``param_set`` came from: (class or function, model name, skipped names).
    #: Inferred models are built at run time and cannot be pickled by name, so pickling drops
    #: them and unpickling infers them again.
    _param_source: tuple[Any, str, tuple[str, ...]] | None = None
    #: attributes shared, not copied, by ``clone()`` / ``deepcopy`` (classes and functions)
    _shared_attrs: ClassVar[tuple[str, ...]] = ("param_set", "_param_source")

    def _infer_param_set(self, source: Any, model_name: str, skip: Iterable[str] = ("self",)) -> None:
        """Set ``param_set`` from ``source``'s signature (a class's ``__init__`` or a function)."""
        skip = tuple(skip)
        fn = source.__init__ if isinstance(source, type) else source  # type: ignore[misc]
        self.param_set = infer_param_set(fn, model_name, skip=skip)
        self._param_source = (source, model_name, skip)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if state.get("_param_source") is not None:
            state.pop("param_set", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "param_set" not in state and state.get("_param_source") is not None:
            self._infer_param_set(*state["_param_source"])

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        new = object.__new__(type(self))
        memo[id(self)] = new
        new.__dict__ = {
            k: v if k in self._shared_attrs else copy.deepcopy(v, memo) for k, v in self.__dict__.items()
        }
        return new

    @property
    def key_prefix(self) -> str:
        return f"{self.id}."

    def set_values(self, **values: Any) -> Configurable:
        """Validate and set parameter values in place; returns ``self``.

        Each value is validated as it is set; an invalid one raises :class:`ParameterError`
        naming the full dotted key, and nothing is changed.
        """
        validated = {
            name: validate_value(self.param_set, name, value, self.key_prefix)
            for name, value in values.items()
        }
        self.param_values = {**self.param_values, **validated}
        return self

    def get_values(self, include_defaults: bool = True) -> dict[str, Any]:
        """The parameter values; with defaults filled in unless ``include_defaults=False``."""
        if not include_defaults:
            return dict(self.param_values)
        return {**defaults_of(self.param_set), **self.param_values}

    def validated_values(self) -> dict[str, Any]:
        """All values, checked together (required ones present); used when building."""
        return validate_all(self.param_set, self.param_values, self.key_prefix)

    def clone(self) -> Any:
        """A deep copy: changing the copy's values never touches the original."""
        return copy.deepcopy(self)

    def param_frame(self) -> pd.DataFrame:
        return param_table(self.param_set, self.param_values)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__  # type: ignore[union-attr]

    __hash__ = None  # type: ignore[assignment]


def bounded(annotation: Any, **constraints: Any) -> Any:
    """``Annotated[annotation, Field(**constraints)]``: a typed, bounded parameter."""
    return Annotated[annotation, Field(**constraints)]
