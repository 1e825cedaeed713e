"""Tables with lazy tensor columns as the Dataset a network trains on.

A learner that accepts the feature type ``lazy_tensor`` (the ``module`` learners) reads such a
table through the DataLoader path: one lazy column is itself the Dataset (``batch.x`` is its
tensor); several lazy columns, or an ``ingress`` (forward argument name → columns), give dict
items and the network is called ``network(**batch.x)``. Numeric columns can join a lazy column
only through an ingress, which says which argument they feed; they are stacked into one
float32 tensor in memory, the lazy columns stay lazy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from mlrpy.errors import DataError
from mlrpy.lazy.tensor import LazyTensor, LazyTensorDtype

__all__ = ["LazyColumns", "frame_dataset", "has_lazy_columns"]


def has_lazy_columns(X: Any) -> bool:
    """Whether ``X`` is a DataFrame with at least one lazy tensor column."""
    return isinstance(X, pd.DataFrame) and any(isinstance(d, LazyTensorDtype) for d in X.dtypes)


class LazyColumns(torch.utils.data.Dataset):  # type: ignore[type-arg]
    """Several inputs of equal length as one Dataset; item ``i`` is ``{name: input[i]}``.

    Example:
        >>> import torch
        >>> from mlrpy import as_lazy_tensor
        >>> from mlrpy.lazy.frames import LazyColumns
        >>> ds = LazyColumns({"image": as_lazy_tensor(torch.zeros(3, 1, 2, 2)), "num": torch.ones(3, 2)})
        >>> len(ds), {k: tuple(v.shape) for k, v in ds[0].items()}
        (3, {'image': (1, 2, 2), 'num': (2,)})
    """

    def __init__(self, inputs: Mapping[str, LazyTensor | torch.Tensor]) -> None:
        self.inputs = dict(inputs)

    def __len__(self) -> int:
        return len(next(iter(self.inputs.values())))

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {name: values[i] for name, values in self.inputs.items()}


def _lazy(frame: pd.DataFrame, column: str) -> LazyTensor:
    values = frame[column].array
    assert isinstance(values, LazyTensor)
    missing = np.flatnonzero(values.isna())
    if len(missing):
        raise DataError(
            f"lazy tensor column '{column}' has missing values at positions {missing[:5].tolist()}; "
            f"a network needs every element"
        )
    return values


def _entry(frame: pd.DataFrame, name: str, columns: Sequence[str], where: str) -> LazyTensor | torch.Tensor:
    lazy = [c for c in columns if isinstance(frame[c].dtype, LazyTensorDtype)]
    if not lazy:
        other = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
        if other:
            raise DataError(
                f"{where}: ingress '{name}' needs numeric or lazy tensor columns, but {other} are not"
            )
        return torch.from_numpy(frame[list(columns)].to_numpy(dtype=np.float32, copy=True))
    if len(columns) > 1:
        raise DataError(
            f"{where}: ingress '{name}' mixes the lazy tensor column '{lazy[0]}' with other "
            f"columns {[c for c in columns if c != lazy[0]]}; a lazy column feeds a forward argument alone"
        )
    return _lazy(frame, lazy[0])


def frame_dataset(frame: pd.DataFrame, ingress: Mapping[str, Sequence[str]] | None, where: str) -> Any:
    """The Dataset of ``frame`` (see the module notes); ``where`` starts error messages."""
    if ingress is not None:
        return LazyColumns({name: _entry(frame, name, cols, where) for name, cols in ingress.items()})
    columns = [str(c) for c in frame.columns]
    plain = [c for c in columns if not isinstance(frame[c].dtype, LazyTensorDtype)]
    if plain:
        raise DataError(
            f"{where}: the columns {plain} are not lazy tensors; with lazy tensor columns, set "
            f"'ingress' to say which forward argument each column feeds"
        )
    try:
        if len(columns) == 1:
            return _lazy(frame, columns[0])
        return LazyColumns({c: _lazy(frame, c) for c in columns})
    except DataError as err:
        raise DataError(f"{where}: {err}") from None
