"""Lazy tensors: rows of tensors loaded when used, as task columns and torch Datasets.

:func:`as_lazy_tensor` builds a :class:`LazyTensor` from a tensor or array, a map-style
Dataset or image files; :mod:`mlrpy.lazy.tensor` describes what it is and
:mod:`mlrpy.lazy.sources` how elements are loaded (image modes included).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
import torch

from mlrpy.errors import DataError
from mlrpy.lazy.sources import DatasetItems, ImageFiles, TensorRows
from mlrpy.lazy.tensor import LazyTensor, LazyTensorDtype

__all__ = ["LazyTensor", "LazyTensorDtype", "as_lazy_tensor"]


def as_lazy_tensor(obj: Any) -> LazyTensor:
    """A :class:`LazyTensor` over ``obj``, which is not copied or read now:

    - a tensor or array (first dimension = rows): element ``i`` is ``obj[i]``;
    - a map-style ``torch.utils.data.Dataset``: element ``i`` is item ``i`` (of an ``(x, y)``
      item, ``x``);
    - a list of image file paths (``str`` or ``pathlib.Path``): element ``i`` is file ``i``
      decoded with Pillow (extra ``images``) to a float tensor ``(channels, height, width)``
      in [0, 1]; mode ``"L"`` has 1 channel, ``"RGB"`` 3, ``"RGBA"`` 4. A missing or broken
      file raises :class:`~mlrpy.errors.DataError` naming the file and the row when loaded.

    A :class:`LazyTensor`, or a pandas Series holding one, gives that lazy tensor.

    Example:
        >>> import numpy as np
        >>> from mlrpy import as_lazy_tensor
        >>> lt = as_lazy_tensor(np.zeros((5, 1, 8, 8), dtype=np.float32))
        >>> len(lt), lt.shape
        (5, (1, 8, 8))
        >>> as_lazy_tensor(["a.png", "b.png"])  # doctest: +ELLIPSIS
        <LazyTensor: 2 rows, element shape unknown>
    """
    if isinstance(obj, pd.Series) and isinstance(obj.array, LazyTensor):
        obj = obj.array
    if isinstance(obj, LazyTensor):
        return obj
    if isinstance(obj, torch.Tensor):
        return _rows(obj)
    if isinstance(obj, torch.utils.data.Dataset):
        if not hasattr(obj, "__len__"):
            raise DataError(
                f"as_lazy_tensor needs a map-style Dataset with a length; {type(obj).__name__} has none"
            )
        return LazyTensor(DatasetItems(obj))
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(p, (str, os.PathLike)) for p in obj):
        return LazyTensor(ImageFiles(obj))
    if isinstance(obj, (str, os.PathLike)):
        raise DataError(f"as_lazy_tensor needs a list of image files, got the single path {obj!r}")
    try:
        array = np.asarray(obj)
    except (TypeError, ValueError) as err:
        raise DataError(f"as_lazy_tensor cannot use a {type(obj).__name__}: {err}") from None
    if array.dtype.kind not in "biuf":
        raise DataError(
            f"as_lazy_tensor takes a tensor, an array of numbers, a map-style Dataset or a list "
            f"of image file paths; got a {type(obj).__name__} of dtype {array.dtype}"
        )
    return _rows(torch.from_numpy(array if array.flags.writeable else array.copy()))


def _rows(tensor: torch.Tensor) -> LazyTensor:
    if tensor.ndim == 0:
        raise DataError("as_lazy_tensor needs at least one dimension (the rows), got a scalar")
    return LazyTensor(TensorRows(tensor))
