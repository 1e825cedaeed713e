"""``LazyTensor``: rows of tensors that are loaded only when used (mlr3torch's ``lazy_tensor``).

A lazy tensor is three things at once:

- a reference to data elsewhere (a tensor, a Dataset or image files, see
  :mod:`mlrpy.lazy.sources`) plus the positions of its rows there, and the functions
  :meth:`LazyTensor.map` added, applied in order when an element is loaded;
- a map-style ``torch.utils.data.Dataset``: ``lt[i]`` loads row ``i``, so a DataLoader reads
  it batch by batch;
- a pandas extension array (dtype ``"lazy_tensor"``), so it can be a DataFrame column and a
  task feature. Taking rows (``lt[1:3]``, ``lt[[0, 2]]``, a boolean mask, ``df.iloc``) copies
  positions, never data: every subset refers to the same source object.

A missing row (pandas' ``NA``, e.g. from a reindex) is position ``-1``; loading it is an error.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from pandas.api.extensions import ExtensionArray, ExtensionDtype, register_extension_dtype, take
from pandas.api.indexers import check_array_indexer

from mlrpy.errors import DataError
from mlrpy.lazy.sources import Elements, Source, as_element

__all__ = ["LazyTensor", "LazyTensorDtype"]

_MISSING = -1


@register_extension_dtype
class LazyTensorDtype(ExtensionDtype):
    """The pandas dtype of a :class:`LazyTensor` column, named ``"lazy_tensor"``.

    Example:
        >>> import pandas as pd
        >>> from mlrpy import as_lazy_tensor
        >>> df = pd.DataFrame({"x": as_lazy_tensor([[1.0, 2.0], [3.0, 4.0]])})
        >>> str(df["x"].dtype)
        'lazy_tensor'
    """

    name = "lazy_tensor"
    type = torch.Tensor  # type: ignore[assignment]
    kind = "O"
    na_value = None

    @classmethod
    def construct_array_type(cls) -> builtins.type[LazyTensor]:
        return LazyTensor


@contextlib.contextmanager
def _naming_row(row: int) -> Iterator[None]:
    """A source's error (which names the file or item) also names the lazy tensor's row."""
    try:
        yield
    except DataError as err:
        raise DataError(f"Lazy tensor row {row}: {err}") from err.__cause__ or err


class _Concatenated:
    """The rows of several lazy tensors one after the other (of ``pd.concat`` and the like)."""

    def __init__(self, parts: Sequence[LazyTensor]) -> None:
        self.parts = list(parts)
        self.starts = np.cumsum([0, *(len(p) for p in self.parts)])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def _locate(self, i: int) -> tuple[LazyTensor, int]:
        k = int(np.searchsorted(self.starts, i, side="right")) - 1
        return self.parts[k], i - int(self.starts[k])

    def load(self, i: int) -> torch.Tensor:
        part, j = self._locate(i)
        return part[j]

    def shape(self, i: int) -> tuple[int, ...] | None:
        part, j = self._locate(i)
        return part[j : j + 1].shape

    def describe(self, i: int) -> str:
        part, j = self._locate(i)
        return part._source.describe(int(part._index[j]))


class LazyTensor(ExtensionArray, torch.utils.data.Dataset):
    """Rows of tensors, loaded when used; build one with :func:`~mlrpy.lazy.as_lazy_tensor`.

    ``len(lt)`` is the number of rows; ``lt.shape`` the shape of one element (``None`` when
    the elements' shapes differ); ``lt[i]`` loads element ``i`` as a tensor; ``lt[rows]``
    (a slice, positions or a boolean mask) is a lazy tensor over the same source.

    Args:
        source: what the elements are loaded from (see :mod:`mlrpy.lazy.sources`).
        index: the position in ``source`` of each row, ``-1`` for a missing row; default
            every element of ``source`` in order.
        maps: functions applied in order to each element when it is loaded.

    Example:
        >>> import torch
        >>> from mlrpy import as_lazy_tensor
        >>> lt = as_lazy_tensor(torch.arange(12.0).reshape(4, 3))
        >>> len(lt), lt.shape
        (4, (3,))
        >>> lt[1]
        tensor([3., 4., 5.])
        >>> doubled = lt[[0, 2]].map(lambda x: 2 * x)
        >>> doubled.materialize()
        tensor([[ 0.,  2.,  4.],
                [12., 14., 16.]])
        >>> doubled.source is lt.source
        True
    """

    _dtype = LazyTensorDtype()

    def __init__(
        self, source: Source, index: np.ndarray | None = None, maps: tuple[Callable[..., Any], ...] = ()
    ) -> None:
        self._source = source
        self._index = np.arange(len(source), dtype=np.int64) if index is None else index
        self._maps = tuple(maps)
        self._shape_cache: list[tuple[int, ...] | None] = []

    # -- what it refers to ------------------------------------------------------------------
    @property
    def source(self) -> Source:
        """The object the rows refer to; shared by every subset, copy and map of this tensor."""
        return self._source

    @property
    def maps(self) -> tuple[Callable[..., Any], ...]:
        """The functions applied, in order, to each element when it is loaded."""
        return self._maps

    def _like(self, index: np.ndarray, maps: tuple[Callable[..., Any], ...] | None = None) -> LazyTensor:
        return LazyTensor(self._source, index, self._maps if maps is None else maps)

    def map(  # type: ignore[override]  # pandas' map of values: the same, done lazily
        self, fn: Callable[[torch.Tensor], torch.Tensor], na_action: Any = None
    ) -> LazyTensor:
        """A new lazy tensor that applies ``fn`` to each element when loaded, after the
        functions already added; this one is unchanged.

        ``fn`` takes and returns one element (e.g. an augmentation). A random ``fn`` draws
        anew at every load, so each epoch sees other variants; seed torch for repeatability.
        pandas' ``Series.map(fn)`` on a lazy column calls this, so it stays lazy; missing
        rows are never loaded, whatever ``na_action`` says.

        Example:
            >>> import torch
            >>> from mlrpy import as_lazy_tensor
            >>> lt = as_lazy_tensor(torch.ones(2, 2))
            >>> lt.map(lambda x: x + 1).map(lambda x: x * 10)[0]
            tensor([20., 20.])
            >>> lt[0]
            tensor([1., 1.])
        """
        if not callable(fn):
            raise DataError(f"LazyTensor.map needs a function of one element, got {fn!r}")
        return self._like(self._index.copy(), (*self._maps, fn))

    # -- loading -----------------------------------------------------------------------------
    def _load(self, row: int) -> torch.Tensor:
        position = int(self._index[row])
        if position == _MISSING:
            raise DataError(f"Lazy tensor row {row} is missing (NA); there is no element to load")
        with _naming_row(row):
            element = self._source.load(position)
        for fn in self._maps:
            element = fn(element)
        return element

    def materialize(self, rows: Sequence[int] | np.ndarray | None = None) -> torch.Tensor:
        """Load ``rows`` (positions, default all) and stack them into one tensor.

        Raises :class:`DataError` naming two rows whose shapes differ.

        Example:
            >>> import torch
            >>> from mlrpy import as_lazy_tensor
            >>> as_lazy_tensor(torch.arange(6).reshape(3, 2)).materialize([2, 0])
            tensor([[4, 5],
                    [0, 1]])
        """
        positions = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64).reshape(-1)
        tensor = getattr(self._source, "tensor", None)
        index = self._index[positions]
        if tensor is not None and not self._maps and (index != _MISSING).all():
            return tensor[torch.from_numpy(index)]  # rows of one tensor: one indexing step
        elements = [self._load(int(r)) for r in positions]
        shapes = [tuple(e.shape) for e in elements]
        for row, shape in zip(positions[1:], shapes[1:]):
            if shape != shapes[0]:
                raise DataError(
                    f"Lazy tensor rows {int(positions[0])} and {int(row)} have different shapes "
                    f"{shapes[0]} and {shape}; only elements of one shape stack into a tensor"
                )
        if not elements:
            return torch.empty((0, *(self.shape or ())))
        return torch.stack(elements)

    @property
    def shape(self) -> tuple[int, ...] | None:  # type: ignore[override]
        """The shape of one element, or ``None`` when the elements' shapes differ.

        Known without loading for tensors and image files (from their headers); a Dataset's
        first item, and with :meth:`map` the first element once mapped, are loaded to find it.
        """
        if not self._shape_cache:
            self._shape_cache.append(self._find_shape())
        return self._shape_cache[0]

    def _find_shape(self) -> tuple[int, ...] | None:
        present = np.flatnonzero(self._index != _MISSING)
        if len(present) == 0:  # no element of its own: those of the source tell
            return LazyTensor(self._source, maps=self._maps)[:1].shape if len(self._source) else None
        shapes = {self._element_shape(int(row)) for row in present}
        if len(shapes) > 1:
            return None
        if self._maps or shapes == {None}:
            return tuple(self._load(int(present[0])).shape)
        return shapes.pop()

    def _element_shape(self, row: int) -> tuple[int, ...] | None:
        with _naming_row(row):
            return self._source.shape(int(self._index[row]))

    # pandas' arrays have ``shape == (len,)``; here ``shape`` is the element's, so the
    # dimensions pandas relies on are given explicitly
    @property
    def ndim(self) -> int:
        return 1

    @property
    def size(self) -> int:
        return len(self)

    # -- the pandas extension array --------------------------------------------------------
    @property
    def dtype(self) -> LazyTensorDtype:
        return self._dtype

    def __len__(self) -> int:
        return len(self._index)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, (int, np.integer)):
            row = int(key)
            if not -len(self) <= row < len(self):
                raise IndexError(f"index {row} is out of bounds for axis 0 with size {len(self)}")
            row %= len(self)
            return None if self._index[row] == _MISSING else self._load(row)
        if isinstance(key, tuple) and len(key) == 1:
            key = key[0]
        if not isinstance(key, slice):
            key = check_array_indexer(self, key)
        return self._like(self._index[key])

    def __setitem__(self, key: Any, value: Any) -> None:
        """Rows can be set to rows of a lazy tensor over the same source with the same maps
        (references again), or to ``None`` (missing)."""
        if not isinstance(key, (int, np.integer, slice)):
            key = check_array_indexer(self, key)
        if value is None or (np.ndim(value) == 0 and not isinstance(value, torch.Tensor) and pd.isna(value)):
            self._index[key] = _MISSING
        elif isinstance(value, LazyTensor) and value._source is self._source and value._maps == self._maps:
            one_row = isinstance(key, (int, np.integer)) and len(value) == 1
            self._index[key] = value._index[0] if one_row else value._index
        else:
            raise DataError(
                "a lazy tensor's rows can only be set to missing (None) or to rows of a lazy "
                f"tensor over the same source with the same maps, got a {type(value).__name__}"
            )
        self._shape_cache.clear()

    @classmethod
    def _from_sequence(cls, scalars: Any, *, dtype: Any = None, copy: bool = False) -> LazyTensor:
        if isinstance(scalars, LazyTensor):
            return scalars.copy() if copy else scalars
        values = [
            None if v is None or (np.ndim(v) == 0 and pd.isna(v)) else as_element(v, f"Element {i}")
            for i, v in enumerate(scalars)
        ]
        index = np.array([_MISSING if v is None else i for i, v in enumerate(values)], dtype=np.int64)
        return cls(Elements(values), index)

    @classmethod
    def _from_factorized(cls, values: np.ndarray, original: LazyTensor) -> LazyTensor:
        return original._like(values.astype(np.int64))

    def _values_for_factorize(self) -> tuple[np.ndarray, int]:
        # an element is identified by its position in the source: no loading
        return self._index.copy(), _MISSING

    def isna(self) -> np.ndarray:
        return self._index == _MISSING

    def take(self, indices: Any, *, allow_fill: bool = False, fill_value: Any = None) -> LazyTensor:
        if allow_fill and not (fill_value is None or (np.ndim(fill_value) == 0 and pd.isna(fill_value))):
            raise DataError("a lazy tensor can only be filled with missing values (None)")
        taken = take(self._index, indices, allow_fill=allow_fill, fill_value=_MISSING)
        return self._like(np.asarray(taken, dtype=np.int64))

    def copy(self) -> LazyTensor:
        return self._like(self._index.copy())

    @classmethod
    def _concat_same_type(cls, to_concat: Sequence[LazyTensor]) -> LazyTensor:
        index = np.concatenate([t._index for t in to_concat])
        present = [t for t in to_concat if not t.isna().all()]  # all-missing parts refer to nothing
        first = present[0] if present else to_concat[0]
        if all(t._source is first._source and t._maps == first._maps for t in present):
            return first._like(index)
        positions = np.arange(len(index), dtype=np.int64)
        positions[index == _MISSING] = _MISSING
        return cls(_Concatenated(to_concat), positions)

    @property
    def nbytes(self) -> int:
        return int(self._index.nbytes)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        """Row by row: ``True`` where both refer to the same element of the same source with
        the same maps (references are compared, values are never loaded)."""
        if isinstance(other, (pd.Series, pd.Index, pd.DataFrame)):
            return NotImplemented
        if not isinstance(other, LazyTensor):
            return np.zeros(len(self), dtype=bool)
        if len(other) != len(self):
            raise ValueError(f"Lengths must match to compare: {len(self)} vs {len(other)}")
        if other._source is not self._source or other._maps != self._maps:
            return np.zeros(len(self), dtype=bool)
        return (self._index == other._index) & ~self.isna()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.empty(len(self), dtype=object)
        for row in range(len(self)):  # filled one by one: numpy would unpack tensors
            out[row] = self[row]
        return out

    def _formatter(self, boxed: bool = False) -> Callable[[Any], str]:
        return _format_element

    def __repr__(self) -> str:
        try:
            shape = "x".join(map(str, self.shape)) if self.shape is not None else "varying"
        except DataError:  # a file that cannot be read must not break printing
            shape = "unknown"
        return f"<LazyTensor: {len(self)} rows, element shape {shape}>"


def _format_element(value: Any) -> str:
    if value is None:
        return "NA"
    return f"<tnsr[{'x'.join(map(str, value.shape))}]>"
