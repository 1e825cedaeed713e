"""Parameter constraints as data, in the manner of scikit-learn's ``_parameter_constraints``.

A learner class maps each plain constructor parameter to a constraint. One table serves three
purposes: ``fit`` validates with it, ``learner.param_set`` shows its type and bounds, and
``to_tune()`` takes its search bounds from there.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from mlrpy.errors import ParameterError

__all__ = [
    "AnyValue", "Boolean", "Constraint", "Device", "Interval", "OneOf", "Options", "check_constraints"
]


class Constraint:
    """What a parameter accepts: :meth:`check` raises :class:`ParameterError` otherwise."""

    type_name = "any"
    lower: Any = None
    upper: Any = None
    levels: tuple[Any, ...] | None = None

    def accepts(self, value: Any) -> bool:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError(f"{type(self).__name__} must define accepts()")

    def describe(self) -> str:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError(f"{type(self).__name__} must define describe()")

    def check(self, name: str, value: Any) -> None:
        if not self.accepts(value):
            raise ParameterError(f"'{name}' must be {self.describe()}, got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


@dataclass(frozen=True)
class Interval(Constraint):
    """An integer or real number in ``[lower, upper]``; open ends with ``closed``.

    Example:
        >>> from mlrpy.learners.constraints import Interval
        >>> Interval(int, 1).check("batch_size", 0)
        Traceback (most recent call last):
        ...
        mlrpy.errors.ParameterError: 'batch_size' must be an integer >= 1, got 0
    """

    kind: type
    lower: Any = None
    upper: Any = None
    closed: str = "both"  # "both", "left", "right" or "neither"

    @property
    def type_name(self) -> str:  # type: ignore[override]
        return "int" if self.kind is int else "float"

    def accepts(self, value: Any) -> bool:
        if not (_is_int(value) if self.kind is int else _is_real(value)):
            return False
        if self.kind is not int and math.isnan(value):
            return False
        left_closed = self.closed in ("both", "left")
        right_closed = self.closed in ("both", "right")
        if self.lower is not None and (value < self.lower if left_closed else value <= self.lower):
            return False
        return not (self.upper is not None and (value > self.upper if right_closed else value >= self.upper))

    def describe(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        bounds = []
        if self.lower is not None:
            bounds.append(f"{'>=' if self.closed in ('both', 'left') else '>'} {self.lower}")
        if self.upper is not None:
            bounds.append(f"{'<=' if self.closed in ('both', 'right') else '<'} {self.upper}")
        return f"{what} {' and '.join(bounds)}".strip()


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of values."""

    values: tuple[Any, ...]
    type_name: str = "choice"  # type: ignore[misc]

    @property
    def levels(self) -> tuple[Any, ...]:  # type: ignore[override]
        return self.values

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (str, type(None))) and value in self.values

    def describe(self) -> str:
        return f"one of {self.values}"


@dataclass(frozen=True)
class Boolean(Constraint):
    """``True`` or ``False`` (numpy booleans included)."""

    type_name: str = "bool"  # type: ignore[misc]

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    def describe(self) -> str:
        return "True or False"

    def check(self, name: str, value: Any) -> None:
        if not self.accepts(value):
            raise ParameterError(f"'{name}' must be True or False, got {value!r}")


@dataclass(frozen=True)
class AnyValue(Constraint):
    """Anything; checked later by the object that uses it (a descriptor, a registry)."""

    description: str = "any value"
    type_name: str = "any"  # type: ignore[misc]

    def accepts(self, value: Any) -> bool:
        return True

    def describe(self) -> str:
        return self.description


@dataclass(frozen=True)
class OneOf(Constraint):
    """Any of several constraints; ``None`` too when ``none_ok``. Type and bounds of the first."""

    options: Sequence[Constraint]
    description: str = ""
    none_ok: bool = False
    extra: Callable[[Any], bool] | None = field(default=None)

    @property
    def type_name(self) -> str:  # type: ignore[override]
        return self.options[0].type_name if self.options else "any"

    @property
    def lower(self) -> Any:  # type: ignore[override]
        return self.options[0].lower if self.options else None

    @property
    def upper(self) -> Any:  # type: ignore[override]
        return self.options[0].upper if self.options else None

    @property
    def levels(self) -> tuple[Any, ...] | None:  # type: ignore[override]
        found = [lv for o in self.options if o.levels for lv in o.levels]
        return tuple(found) or None

    def accepts(self, value: Any) -> bool:
        if value is None and self.none_ok:
            return True
        if self.extra is not None and self.extra(value):
            return True
        return any(o.accepts(value) for o in self.options)

    def describe(self) -> str:
        if self.description:
            return self.description
        parts = [o.describe() for o in self.options] + (["None"] if self.none_ok else [])
        return " or ".join(parts)


@dataclass(frozen=True)
class Device(Constraint):
    """A device: one of ``values``, ``"cuda:N"`` or a ``torch.device``.

    Whether the device exists is checked when a run starts, not here: a learner configured
    for a GPU can be built, cloned and loaded on a machine without one.

    Example:
        >>> import torch
        >>> from mlrpy.learners.constraints import Device
        >>> d = Device(("auto", "cpu", "cuda", "mps"))
        >>> d.accepts("cuda:1"), d.accepts(torch.device("cpu")), d.accepts("gpu")
        (True, True, False)
    """

    values: tuple[str, ...]
    type_name: str = "choice"  # type: ignore[misc]

    @property
    def levels(self) -> tuple[Any, ...]:  # type: ignore[override]
        return self.values

    def accepts(self, value: Any) -> bool:
        if isinstance(value, torch.device):
            return True
        if not isinstance(value, str):
            return False
        kind, _, index = value.partition(":")
        return value in self.values or (kind == "cuda" and index.isdigit())

    def describe(self) -> str:
        return f"one of {self.values}, 'cuda:N' or a torch.device"


def is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def check_constraints(constraints: dict[str, Constraint], values: dict[str, Any]) -> None:
    """Check every value that has a constraint; the first violation raises."""
    for name, constraint in constraints.items():
        if name in values:
            constraint.check(name, values[name])
