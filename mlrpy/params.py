"""Pydantic parameter sets: inference from signatures, validation, and dotted names.

A *parameter set* is a pydantic model class whose fields are the constructor parameters of
a callback, optimizer, loss or module. Values are validated one at a time when they are set
(so the error names the exact key) and all together when an object is built from them.
"""

from __future__ import annotations

import collections.abc
import copy
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from typing import Annotated, Any, ClassVar, Literal, Union

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from mlrpy.dictionary import suggest
from mlrpy.errors import ParameterError, UnknownKeyError

__all__ = [
    "Configurable",
    "ParamModel",
    "bounds_label",
    "check_identifier",
    "describe_parameters",
    "infer_param_set",
    "param_table",
    "type_label",
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
    ``*args`` / ``**kwargs`` are ignored. Bounds and a description go into the annotation as
    ``typing.Annotated[int, pydantic.Field(ge=1, description="...")]``, so the signature is
    the one place a parameter is declared; defaults stay in the signature.

    Example:
        >>> from typing import Annotated
        >>> from pydantic import Field
        >>> from mlrpy.params import infer_param_set
        >>> def init(self, alpha: Annotated[float, Field(gt=0, description="step")] = 0.1, name="x"): ...
        >>> PS = infer_param_set(init, "Demo")
        >>> alpha = PS.model_fields["alpha"]
        >>> alpha.default, alpha.annotation, alpha.description, alpha.metadata
        (0.1, <class 'float'>, 'step', [Gt(gt=0)])
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
        if _field_default_of(annotation) is not PydanticUndefined:
            raise ParameterError(
                f"{model_name}: parameter '{name}' states its default inside Annotated[..., "
                f"Field(...)]; write it in the signature instead ({name}: ... = <default>)"
            )
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[name] = (annotation, default)
    return create_model(model_name, __base__=ParamModel, **fields)


def _field_default_of(annotation: Any) -> Any:
    """The default a ``Field(...)`` inside a top-level ``Annotated`` states, if any."""
    if typing.get_origin(annotation) is not Annotated:
        return PydanticUndefined
    for meta in typing.get_args(annotation)[1:]:
        if isinstance(meta, FieldInfo) and (
            meta.default is not PydanticUndefined or meta.default_factory is not None
        ):
            return meta.default
    return PydanticUndefined


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
    defaults = {name: _default_of(field) for name, field in param_set.model_fields.items()}
    return {name: d for name, d in defaults.items() if d is not PydanticUndefined}


def _default_of(field: FieldInfo) -> Any:
    """The field's default (``default_factory`` called), or ``PydanticUndefined`` if required."""
    if field.default is not PydanticUndefined:
        return field.default
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return PydanticUndefined


_BOUND_SIGNS = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))


def _flat_metadata(metadata: Iterable[Any]) -> list[Any]:
    """Constraint objects, with those of nested ``Field(...)`` objects pulled out."""
    out: list[Any] = []
    for m in metadata:
        out.extend(_flat_metadata(m.metadata) if isinstance(m, FieldInfo) else [m])
    return out


def _bounds(metadata: Iterable[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for m in _flat_metadata(metadata):
        for attr in ("gt", "ge", "lt", "le", "min_length", "max_length"):
            if getattr(m, attr, None) is not None:
                found[attr] = getattr(m, attr)
    return found


def bounds_label(metadata: Iterable[Any]) -> str:
    """The constraints in pydantic metadata as text: ``">= 1"``, ``"in (0, 1)"``, ``""``.

    Example:
        >>> from pydantic import Field
        >>> from mlrpy.params import bounds_label
        >>> bounds_label(Field(gt=0, lt=1).metadata), bounds_label(Field(ge=1).metadata)
        ('in (0, 1)', '>= 1')
    """
    b = _bounds(metadata)
    lower = next(((k, b[k]) for k in ("gt", "ge") if k in b), None)
    upper = next(((k, b[k]) for k in ("lt", "le") if k in b), None)
    parts = []
    if lower and upper:
        opening, closing = "(" if lower[0] == "gt" else "[", ")" if upper[0] == "lt" else "]"
        parts.append(f"in {opening}{lower[1]!r}, {upper[1]!r}{closing}")
    else:
        parts += [f"{sign} {b[k]!r}" for k, sign in _BOUND_SIGNS if k in b]
    if "min_length" in b:
        parts.append("non-empty" if b["min_length"] == 1 else f"length >= {b['min_length']}")
    if "max_length" in b:
        parts.append(f"length <= {b['max_length']}")
    return ", ".join(parts)


def type_label(annotation: Any) -> str:
    """A short, readable name of a type annotation (bounds of nested ``Annotated`` types in
    parentheses).

    Example:
        >>> from typing import Annotated, Literal
        >>> from pydantic import Field
        >>> from mlrpy.params import type_label
        >>> type_label(int | None), type_label(Literal["min", "max"])
        ('int | None', "'min' | 'max'")
        >>> type_label(Annotated[float, Field(gt=0)] | list[Annotated[float, Field(gt=0)]])
        'float (> 0) | list[float (> 0)]'
    """
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return "any"
    if annotation is None or annotation is type(None):
        return "None"
    if origin is Annotated:
        bounds = bounds_label(args[1:])
        return f"{type_label(args[0])} ({bounds})" if bounds else type_label(args[0])
    if origin in (Union, types.UnionType):
        return " | ".join(type_label(a) for a in args)
    if origin is Literal:
        return " | ".join(repr(a) for a in args)
    if origin is collections.abc.Callable or annotation is collections.abc.Callable:
        return "callable"
    if origin is not None and args:
        inner = ", ".join("..." if a is Ellipsis else type_label(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def describe_parameters(param_set: type[BaseModel]) -> list[dict[str, Any]]:
    """One dict per parameter: ``name``, ``type``, ``required``, ``default``, ``bounds`` and
    ``description``, for documentation and printing.

    Example:
        >>> from mlrpy import t_clbk
        >>> from mlrpy.params import describe_parameters
        >>> describe_parameters(t_clbk("progress").param_set)[0]["bounds"]
        'in [0, 16]'
    """
    rows = []
    for name, field in param_set.model_fields.items():
        default = _default_of(field)
        rows.append(
            {
                "name": name,
                "type": type_label(field.annotation),
                "required": default is PydanticUndefined,
                "default": None if default is PydanticUndefined else default,
                "bounds": bounds_label(field.metadata),
                "description": field.description or "",
            }
        )
    return rows


def _type_name(annotation: Any) -> str:
    """The ``type`` column of :func:`param_table` (what tuning reads; bare ``Literal`` /
    ``Optional`` names send it to the annotation itself)."""
    if annotation is Any:
        return "any"
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def param_table(param_set: type[BaseModel], values: dict[str, Any]) -> pd.DataFrame:
    """mlr3-style table: id, type, lower, upper, default, value, description."""
    rows = []
    for name, field in param_set.model_fields.items():
        b = _bounds(field.metadata)
        default = _default_of(field)
        rows.append(
            {
                "id": name,
                "type": _type_name(field.annotation),
                "lower": b.get("ge", b.get("gt")),
                "upper": b.get("le", b.get("lt")),
                "default": "<required>" if default is PydanticUndefined else default,
                "value": values.get(name, ""),
                "description": field.description or "",
            }
        )
    columns = ["id", "type", "lower", "upper", "default", "value", "description"]
    # object columns keep ints as ints next to None (pandas would turn them into floats)
    return pd.DataFrame(rows, columns=columns, dtype=object)


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
