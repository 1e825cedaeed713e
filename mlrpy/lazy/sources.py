"""Where a lazy tensor's elements come from, and how one element is loaded.

A source is indexed by position and loads one element at a time as a tensor; a
:class:`~mlrpy.lazy.tensor.LazyTensor` holds a source, the positions of its rows in it and the
functions to apply after loading. Sources never copy the data they are built on.

Image files are decoded with Pillow when loaded, to float32 tensors of shape
``(channels, height, width)`` with values in [0, 1] (8-bit values divided by 255). The image
mode decides the channels: ``"L"`` (grey) gives 1, ``"RGB"`` 3, ``"RGBA"`` 4; a black and
white ``"1"`` image is read as ``"L"`` and a palette ``"P"`` image as ``"RGB"`` (``"RGBA"``
when it has transparency). Other modes (16-bit, CMYK, ...) raise a :class:`DataError` naming
the file; convert such files first.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import torch

from mlrpy.errors import DataError

__all__ = ["DatasetItems", "Elements", "ImageFiles", "Source", "TensorRows", "as_element"]

#: image modes read as they are, with their number of channels
_MODE_CHANNELS = {"L": 1, "RGB": 3, "RGBA": 4}


class Source(Protocol):
    """What a lazy tensor needs of the data it refers to."""

    def __len__(self) -> int: ...

    def load(self, i: int) -> torch.Tensor:
        """Element ``i`` as a tensor."""
        ...

    def shape(self, i: int) -> tuple[int, ...] | None:
        """Element ``i``'s shape without loading it, when that is cheap; else ``None``."""
        ...

    def describe(self, i: int) -> str:
        """Element ``i`` in words, for error messages."""
        ...


def as_element(value: Any, where: str) -> torch.Tensor:
    """``value`` (a tensor, array or number) as a tensor; anything else is a :class:`DataError`."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic, int, float, bool)):
        return torch.as_tensor(value)
    raise DataError(
        f"{where} is a {type(value).__name__}; a lazy tensor's elements must be tensors or arrays"
    )


class TensorRows:
    """The rows of one tensor (first dimension = rows); element ``i`` is ``tensor[i]``."""

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor

    def __len__(self) -> int:
        return len(self.tensor)

    def load(self, i: int) -> torch.Tensor:
        return self.tensor[i]

    def shape(self, i: int) -> tuple[int, ...] | None:
        return tuple(self.tensor.shape[1:])

    def describe(self, i: int) -> str:
        return f"row {i} of a tensor"


class DatasetItems:
    """The items of a map-style ``torch.utils.data.Dataset``; of an ``(x, y)`` item, ``x``."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def load(self, i: int) -> torch.Tensor:
        item = self.dataset[i]
        if isinstance(item, (tuple, list)) and item:
            item = item[0]
        return as_element(item, f"Item {i} of the Dataset")

    def shape(self, i: int) -> tuple[int, ...] | None:
        return None

    def describe(self, i: int) -> str:
        return f"item {i} of the Dataset"


class Elements:
    """Tensors already in memory, one per row (``None`` for a missing one)."""

    def __init__(self, values: Sequence[torch.Tensor | None]) -> None:
        self.values = list(values)

    def __len__(self) -> int:
        return len(self.values)

    def load(self, i: int) -> torch.Tensor:
        value = self.values[i]
        if value is None:
            raise DataError(f"element {i} is missing")
        return value

    def shape(self, i: int) -> tuple[int, ...] | None:
        value = self.values[i]
        return None if value is None else tuple(value.shape)

    def describe(self, i: int) -> str:
        return f"element {i}"


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "Reading image files needs Pillow; install it with: pip install 'mlrpy[images]'"
        ) from None
    return Image


class ImageFiles:
    """Image files, decoded with Pillow when loaded (see the module's notes on modes)."""

    def __init__(self, paths: Sequence[str | os.PathLike[str]]) -> None:
        self.paths = [os.fspath(p) for p in paths]

    def __len__(self) -> int:
        return len(self.paths)

    def _open(self, i: int) -> Any:
        image_module = _pillow()
        path = self.paths[i]
        try:
            image = image_module.open(path)
        except FileNotFoundError as err:
            raise DataError(f"image file '{path}' does not exist") from err
        except (OSError, ValueError) as err:  # unreadable or not an image
            raise DataError(f"image file '{path}' cannot be read: {err}") from err
        mode = image.mode
        if mode == "1":
            mode = "L"
        elif mode == "P":
            mode = "RGBA" if "transparency" in image.info else "RGB"
        if mode not in _MODE_CHANNELS:
            raise DataError(
                f"image file '{path}' has mode '{image.mode}'; modes read are "
                f"{', '.join(_MODE_CHANNELS)}, '1' and 'P': convert the file first"
            )
        return image, mode

    def load(self, i: int) -> torch.Tensor:
        image, mode = self._open(i)
        with image:
            try:
                pixels = np.asarray(image.convert(mode) if mode != image.mode else image)
            except (OSError, ValueError) as err:  # a truncated or corrupt file fails here
                raise DataError(f"image file '{self.paths[i]}' cannot be decoded: {err}") from err
        tensor = torch.from_numpy(pixels.astype(np.float32) / 255.0)
        return tensor.unsqueeze(0) if tensor.ndim == 2 else tensor.permute(2, 0, 1).contiguous()

    def shape(self, i: int) -> tuple[int, ...] | None:
        image, mode = self._open(i)  # Pillow reads the header only
        with image:
            width, height = image.size
        return (_MODE_CHANNELS[mode], height, width)

    def describe(self, i: int) -> str:
        return f"image file '{self.paths[i]}'"
