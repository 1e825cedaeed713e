"""Mini-batches by slicing in-memory tensors.

A tabular data set already sits in memory as one tensor, so a batch is a slice (or, when
shuffling, one gather with a permutation) instead of a per-row ``Dataset.__getitem__`` and a
collate step: the per-batch cost no longer grows with the batch size in Python.

The gather is ``index_select`` rather than ``x[index]``: the same rows, but without the
generic advanced-indexing machinery (2-4x faster on the CPU for these shapes; see
``benchmarks/README.md``).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from mlrpy.callbacks.context import Batch

__all__ = ["TensorLoader"]


class TensorLoader:
    """Iterates ``Batch(x, y, index)`` over tensors already on the target device.

    Args:
        x: inputs, first dimension is rows.
        y: targets aligned with ``x`` (``None`` for prediction).
        batch_size: rows per batch; the last batch may be smaller.
        shuffle: draw a fresh permutation (from torch's global RNG) every epoch, exactly
            one ``torch.randperm(len(x))`` per pass, as a hand-written loop does.

    Example:
        >>> import torch
        >>> from mlrpy.learners.data import TensorLoader
        >>> loader = TensorLoader(torch.arange(10.0).reshape(5, 2), torch.arange(5), batch_size=2)
        >>> [batch.index.tolist() for batch in loader]
        [[0, 1], [2, 3], [4]]
        >>> len(loader)
        3
    """

    def __init__(
        self, x: torch.Tensor, y: torch.Tensor | None, batch_size: int, shuffle: bool = False
    ) -> None:
        self.x = x
        self.y = y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        # row positions of unshuffled batches, made on first use: a shuffled loader never needs them
        self._positions: torch.Tensor | None = None

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    @property
    def n_rows(self) -> int:
        return len(self.x)

    def __iter__(self) -> Iterator[Batch]:
        x, y, bs = self.x, self.y, self.batch_size
        n = len(x)
        if self.shuffle:
            order = torch.randperm(n, device=x.device)
            for start in range(0, n, bs):
                index = order[start : start + bs]
                yield Batch(
                    x.index_select(0, index), None if y is None else y.index_select(0, index), index
                )
        else:
            if self._positions is None:
                self._positions = torch.arange(n, device=x.device)
            positions = self._positions
            for start in range(0, n, bs):
                stop = start + bs
                yield Batch(x[start:stop], None if y is None else y[start:stop], positions[start:stop])
