"""Search spaces: what :func:`~mlrpy.tuning.tune` may try for each parameter.

A search space maps a parameter name to a list of choices, a ``(lower, upper[, "log"])``
range, ``"schema"`` / :func:`to_tune` (bounds or choices from the parameter's schema) or
``"internal"`` (``epochs`` found by early stopping). :func:`parse_search_space` checks it
against a learner and returns one :class:`SearchDim` per searched parameter.
"""

from __future__ import annotations

import ast
import math
import numbers
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union

import numpy as np

from mlrpy.dictionary import suggest
from mlrpy.errors import ParameterError, UnknownKeyError
from mlrpy.resample import clone_learner

__all__ = ["SearchDim", "TuneToken", "is_int", "parse_search_space", "to_tune"]


# -- search space values ------------------------------------------------------------------------
@dataclass(frozen=True)
class TuneToken:
    """A search-space value whose missing parts come from the parameter's schema.

    Build it with :func:`to_tune`.
    """

    lower: Any = None
    upper: Any = None
    levels: tuple[Any, ...] | None = None
    log: bool = False
    internal: bool = False


def to_tune(
    lower: Any = None,
    upper: Any = None,
    *,
    levels: Sequence[Any] | None = None,
    log: bool = False,
    internal: bool = False,
) -> TuneToken:
    """Mark a parameter for tuning (mlr3's ``to_tune()``).

    * ``to_tune()``: the range or choices of the parameter's schema;
    * ``to_tune(lower, upper, log=...)``: a range; a missing bound comes from the schema;
    * ``to_tune([a, b])`` or ``to_tune(levels=[a, b])``: choices;
    * ``to_tune(internal=True)`` (``epochs`` only): tuned by early stopping; ``upper`` is the
      maximum number of epochs (default: the learner's ``epochs``).

    Example:
        >>> from mlrpy.tuning import to_tune
        >>> to_tune(1e-4, 1e-1, log=True)
        TuneToken(lower=0.0001, upper=0.1, levels=None, log=True, internal=False)
        >>> to_tune(["relu", "tanh"]).levels
        ('relu', 'tanh')
    """
    if isinstance(lower, (list, tuple, np.ndarray)) and upper is None and levels is None:
        levels, lower = list(lower), None
    if levels is not None:
        if lower is not None or upper is not None or log:
            raise ParameterError("to_tune(): give either levels or lower/upper (and log), not both")
        levels = tuple(levels)
    if internal and (lower is not None or levels is not None or log):
        raise ParameterError(
            "to_tune(internal=True) takes only upper= (the maximum number of epochs); "
            f"got lower={lower!r}, levels={levels!r}, log={log!r}"
        )
    return TuneToken(lower=lower, upper=upper, levels=levels, log=bool(log), internal=bool(internal))


@dataclass
class SearchDim:
    """One searched parameter: a list of choices or a numeric range."""

    name: str
    choices: list[Any] | None = None
    lower: float = 0.0
    upper: float = 0.0
    integer: bool = False
    log: bool = False

    def grid(self, resolution: int) -> list[Any]:
        if self.choices is not None:
            return list(self.choices)
        space = np.geomspace if self.log else np.linspace
        points = space(self.lower, self.upper, resolution)
        if self.integer:
            return sorted({round(float(x)) for x in points})
        return [float(x) for x in points]

    def sample(self, rng: np.random.Generator) -> Any:
        if self.choices is not None:
            return self.choices[int(rng.integers(len(self.choices)))]
        if self.integer:
            if self.log:
                x = math.exp(rng.uniform(math.log(self.lower), math.log(self.upper + 1)))
                return int(min(max(math.floor(x), self.lower), self.upper))
            return int(rng.integers(int(self.lower), int(self.upper) + 1))
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.lower), math.log(self.upper))))
        return float(rng.uniform(self.lower, self.upper))


def is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _range_dim(key: str, lower: Any, upper: Any, log: bool, integer: bool | None = None) -> SearchDim:
    for which, v in (("lower", lower), ("upper", upper)):
        if not _is_number(v) or not math.isfinite(float(v)):
            raise ParameterError(
                f"Search space '{key}': the {which} bound must be a finite number, got {v!r}"
            )
    if not lower < upper:
        raise ParameterError(
            f"Search space '{key}': empty range ({lower!r}, {upper!r}); lower must be < upper"
        )
    if log and lower <= 0:
        raise ParameterError(
            f"Search space '{key}': a log range needs lower > 0, got ({lower!r}, {upper!r}, 'log')"
        )
    if integer is None:
        integer = is_int(lower) and is_int(upper)
    return SearchDim(key, lower=float(lower), upper=float(upper), integer=integer, log=log)


def _choice_dim(key: str, choices: Sequence[Any]) -> SearchDim:
    choices = list(choices)
    if not choices:
        raise ParameterError(f"Search space '{key}': the list of choices is empty")
    return SearchDim(key, choices=choices)


# -- schemas ------------------------------------------------------------------------------------
def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _strip_optional(text: str) -> str:
    """``"X"`` from ``"X | None"``, ``"None | X"`` or ``"Optional[X]"``; else ``text``."""
    text = text.strip()
    if text.startswith("Optional[") and text.endswith("]"):
        return text[len("Optional["):-1].strip()
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    kept = [p for p in parts if p != "None"]
    return kept[0] if len(kept) == 1 else text


def _annotation_kind(annotation: Any) -> tuple[str, list[Any] | None]:
    """``(kind, choices)`` of a type annotation: kind is ``bool``/``int``/``float``/``choice``
    or the type's name."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return str(annotation).replace("typing.", ""), None
            annotation = members[0]
        elif origin is Literal:
            return "choice", list(typing.get_args(annotation))
        else:
            break
    if annotation in (bool, int, float):
        return annotation.__name__, None
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", ""), None


def _type_kind(type_value: Any) -> tuple[str | None, list[Any] | None]:
    """``(kind, choices)`` from the ``type`` column of ``learner.param_set``.

    The column holds a type name such as ``"float"``, ``"bool | None"`` or
    ``"Literal['mean', 'sum']"``, or the annotation itself; ``None`` kind: no type given.
    """
    if _missing(type_value):
        return None, None
    if not isinstance(type_value, str):
        return _annotation_kind(type_value)
    text = _strip_optional(type_value)
    if text.startswith("Literal[") and text.endswith("]"):
        try:
            choices = ast.literal_eval(f"[{text[len('Literal['):-1]}]")
        except (ValueError, SyntaxError):
            return "Literal", None
        return "choice", list(choices)
    return text, None


def _schema(learner: Any, key: str) -> tuple[str | None, list[Any] | None, Any, Any]:
    """``(kind, choices, lower, upper)`` of parameter ``key`` from ``learner.param_set``."""
    table = learner.param_set
    found = table[table["id"] == key]
    row: dict[str, Any] = found.iloc[0].to_dict() if len(found) else {}
    levels = row.get("levels")
    kind, choices = _type_kind(row.get("type"))
    if isinstance(levels, (list, tuple)) and levels:
        kind, choices = "choice", list(levels)
    if kind in ("Literal", "Optional", "Union") and "." in key:
        # param_set writes these types without their arguments (a Literal's values), so the
        # choices come from the annotation in the descriptor's schema
        prefix, _, name = key.rpartition(".")
        field = learner.deep_descriptors()[prefix + "."].param_set.model_fields[name]
        kind, choices = _annotation_kind(field.annotation)
    lower, upper = row.get("lower"), row.get("upper")
    return kind, choices, None if _missing(lower) else lower, None if _missing(upper) else upper


def _admits(learner: Any, key: str, value: Any) -> bool:
    try:
        clone_learner(learner).set_params(**{key: value}).check_params()
    except ParameterError:
        return False
    return True


def _inside(learner: Any, key: str, bound: Any, integer: bool, direction: float) -> Any:
    """``bound``, or the next value inward when the parameter excludes the bound itself."""
    if _admits(learner, key, bound):
        return bound
    inward = bound + int(direction) if integer else float(np.nextafter(bound, direction))
    return inward if _admits(learner, key, inward) else bound


def _schema_dim(learner: Any, key: str, token: TuneToken) -> SearchDim:
    if token.levels is not None:
        return _choice_dim(key, token.levels)
    kind, choices, lower, upper = _schema(learner, key)
    shown = kind or "unknown"
    if token.lower is None and token.upper is None:
        if kind == "bool":
            return SearchDim(key, choices=[False, True])
        if kind == "choice" and choices:
            return SearchDim(key, choices=choices)
    if kind not in ("int", "float"):
        raise ParameterError(
            f"Search space '{key}': cannot derive values from its schema (type {shown}); "
            f"give a list of choices or a (lower, upper) range"
        )
    integer = kind == "int"
    if token.lower is None and lower is not None:
        lower = _inside(learner, key, lower, integer, math.inf)
    if token.upper is None and upper is not None:
        upper = _inside(learner, key, upper, integer, -math.inf)
    lower = token.lower if token.lower is not None else lower
    upper = token.upper if token.upper is not None else upper
    if lower is None or upper is None:
        missing = " and ".join(n for n, v in (("lower", lower), ("upper", upper)) if v is None)
        raise ParameterError(
            f"Search space '{key}': its schema ({shown}, bounds [{lower}, {upper}]) has no "
            f"{missing} bound; give a range such as (lower, upper) or to_tune(lower, upper)"
        )
    return _range_dim(key, lower, upper, token.log, integer=integer and is_int(lower) and is_int(upper))


# -- parsing ------------------------------------------------------------------------------------
def _is_internal(value: Any) -> bool:
    return (isinstance(value, str) and value == "internal") or (
        isinstance(value, TuneToken) and value.internal
    )


def parse_search_space(learner: Any, search_space: Mapping[str, Any]) -> tuple[list[SearchDim], Any]:
    """Check ``search_space`` against ``learner``'s parameters.

    Returns the searched dimensions and, for an internally tuned ``epochs``, its
    :class:`TuneToken` (``None`` otherwise).

    Raises:
        UnknownKeyError: a key that is not a parameter of the learner.
        ParameterError: an empty or invalid range or choice list.
    """
    if not isinstance(search_space, Mapping) or not search_space:
        raise ParameterError(
            f"tune(): search_space must be a non-empty dict of parameter name -> values, "
            f"got {search_space!r}"
        )
    valid = list(learner.get_params(deep=True))
    dims: list[SearchDim] = []
    internal: TuneToken | None = None
    for key, value in search_space.items():
        if key not in valid:
            raise UnknownKeyError(
                f"Search space key '{key}' is not a parameter of learner '{learner.id}'."
                f"{suggest(str(key), valid)} Valid names: {', '.join(valid)}"
            )
        if _is_internal(value):
            if key != "epochs":
                raise ParameterError(
                    f"Search space '{key}': only 'epochs' can be tuned internally (by early "
                    f"stopping), got {value!r}"
                )
            internal = value if isinstance(value, TuneToken) else TuneToken(internal=True)
        elif isinstance(value, TuneToken):
            dims.append(_schema_dim(learner, key, value))
        elif isinstance(value, str) and value == "schema":
            dims.append(_schema_dim(learner, key, TuneToken()))
        elif isinstance(value, tuple):
            if len(value) == 2:
                dims.append(_range_dim(key, value[0], value[1], log=False))
            elif len(value) == 3 and value[2] == "log":
                dims.append(_range_dim(key, value[0], value[1], log=True))
            else:
                raise ParameterError(
                    f"Search space '{key}': a range is (lower, upper) or (lower, upper, 'log'), "
                    f"got {value!r}; use a list for choices"
                )
        elif isinstance(value, (list, np.ndarray, range)):
            dims.append(_choice_dim(key, list(value)))
        else:
            raise ParameterError(
                f"Search space '{key}': got {value!r}; give a list of choices, a (lower, upper) "
                f"or (lower, upper, 'log') range, 'schema', 'internal' (epochs) or to_tune(...)"
            )
    return dims, internal
