"""The generic registry (mlr3's ``Dictionary``) and its sugar helpers.

One class serves every registry: learners, tasks, measures, resamplings, callbacks,
optimizers and losses. A registry maps a key to a *factory* (a callable taking keyword
arguments) or to a prototype object that has a ``clone()`` method; ``get()`` always
returns a fresh object, so nothing a user does to it leaks back into the registry.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

import pandas as pd

from mlrpy.errors import UnknownKeyError

T = TypeVar("T")

_SUFFIX = re.compile(r"^(?P<base>.+)_(?P<n>\d+)$")


def duplicated(ids: Iterable[str]) -> list[str]:
    """The ids that occur more than once, sorted.

    Example:
        >>> from mlrpy.dictionary import duplicated
        >>> duplicated(["a", "b", "a"])
        ['a']
    """
    ids = list(ids)
    return sorted({i for i in ids if ids.count(i) > 1})


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> str:
    """Return a ``" Did you mean 'x'?"`` hint for ``name`` among ``candidates`` ('' if none)."""
    matches = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.6)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"


class Dictionary(Generic[T]):
    """A registry of objects retrievable by key.

    Args:
        name: the registry's own name, used in error messages (e.g. ``"mlr_callbacks"``).
        describe: maps ``(key, fresh object)`` to a dict of columns for :meth:`as_frame`.

    Example:
        >>> from mlrpy.dictionary import Dictionary
        >>> reg = Dictionary("my_registry")
        >>> reg.add("pair", lambda a=1, b=2: (a, b))
        >>> reg.get("pair", b=5)
        (1, 5)
        >>> reg.keys()
        ['pair']
    """

    def __init__(
        self,
        name: str,
        describe: Callable[[str, Any], dict[str, Any]] | None = None,
    ) -> None:
        self.name = name
        self._items: dict[str, Any] = {}
        self._describe = describe

    # -- registration ---------------------------------------------------------------------
    def add(self, key: Any, value: Any = None) -> None:
        """Register ``value`` under ``key``; ``add(obj)`` uses ``obj.id`` as the key."""
        if value is None:
            value, key = key, getattr(key, "id", None)
            if not isinstance(key, str):
                raise TypeError(
                    f"{self.name}.add(obj) needs an object with a string 'id'; "
                    f"got {type(value).__name__}"
                )
        if not isinstance(key, str) or not key:
            raise TypeError(f"{self.name}: a key must be a non-empty string, got {key!r}")
        self._items[key] = value

    def remove(self, key: str) -> None:
        """Remove ``key``; unknown keys raise :class:`UnknownKeyError`."""
        self._resolve(key)
        del self._items[key]

    # -- lookup ---------------------------------------------------------------------------
    def keys(self) -> list[str]:
        """All registered keys, sorted."""
        return sorted(self._items)

    def has(self, key: str) -> bool:
        return key in self._items

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def _resolve(self, key: str) -> tuple[str, str | None]:
        """Return ``(registered key, new id or None)``; handles mlr3's ``_2`` suffix."""
        if not isinstance(key, str):
            raise TypeError(f"{self.name}: keys are strings, got {type(key).__name__} {key!r}")
        if key in self._items:
            return key, None
        m = _SUFFIX.match(key)
        if m and m.group("base") in self._items:
            return m.group("base"), key
        raise UnknownKeyError(
            f"Element with key '{key}' not found in {self.name}."
            f"{suggest(key, self._items)} Available: {', '.join(self.keys())}"
        )

    def get(self, key: str, **kwargs: Any) -> T:
        """A fresh object for ``key``; keyword arguments configure it.

        A key ``"<registered>_<n>"`` gives a fresh object whose ``id`` is that key, so two
        instances of one item can live side by side (mlr3's convention).
        """
        base, new_id = self._resolve(key)
        item = self._items[base]
        if hasattr(item, "clone"):
            obj = item.clone()
            if kwargs:
                obj.set_values(**kwargs)
        else:
            obj = item(**kwargs)
        if new_id is not None:
            obj.id = new_id
        return obj

    def mget(self, keys: Iterable[str], **kwargs: Any) -> list[T]:
        """``[get(k, **kwargs) for k in keys]``."""
        return [self.get(k, **kwargs) for k in keys]

    def as_frame(self) -> pd.DataFrame:
        """One row per key, with the columns the registry's ``describe`` function provides."""
        rows = []
        for key in self.keys():
            row: dict[str, Any] = {"key": key}
            if self._describe is not None:
                row.update(self._describe(key, self.get(key)))
            rows.append(row)
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        keys = self.keys()
        shown = ", ".join(keys[:20]) + (", ..." if len(keys) > 20 else "")
        return f"<Dictionary {self.name}> with {len(keys)} stored values\nKeys: {shown}"
