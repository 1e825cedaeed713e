"""The loaders of a run (:func:`make_loader`), and the DataLoader path: mini-batches from a
map-style ``torch.utils.data.Dataset``.

Data that does not sit in memory as one tensor (images read from files, a LazyTensor
column, any user ``Dataset``) is read item by item by a ``torch.utils.data.DataLoader``,
optionally in worker processes (``num_workers``). The training loop sees the same
``Batch(x, y, index, weight)`` as on the in-memory path:

- ``x``: the collated inputs (a tensor, or a dict of tensors for a multi-input network);
- ``index``: the row positions of the batch in the data being iterated;
- ``y`` and ``weight``: looked up by ``index`` in tensors held by the main process, so the
  workers only load inputs and the targets are encoded once, not per item.

Reproducibility: the sampler draws from a ``torch.Generator`` seeded with the run's seed,
and every worker seeds numpy, ``random`` and torch from the worker seed torch derives from
that generator, so the same ``random_state`` gives the same batches with any
``num_workers`` (and the same ones with 0 and with 2 workers for a deterministic Dataset).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, default_collate

from mlrpy.callbacks.context import Batch
from mlrpy.errors import DataError
from mlrpy.learners.data import TensorLoader
from mlrpy.learners.parallel import SingleProcess

__all__ = [
    "DatasetLoader",
    "IndexedDataset",
    "is_dataset",
    "make_loader",
    "predict_batch_size",
    "seed_worker",
    "split_item",
    "to_device",
]


def is_dataset(X: Any) -> bool:
    """Whether ``X`` goes through the DataLoader path: a torch ``Dataset`` with a length.

    Example:
        >>> import torch
        >>> from mlrpy.learners.loaders import is_dataset
        >>> is_dataset(torch.utils.data.TensorDataset(torch.zeros(3, 2))), is_dataset([1, 2])
        (True, False)
    """
    return isinstance(X, Dataset) and hasattr(X, "__len__")


def split_item(item: Any) -> tuple[Any, Any]:
    """An item's ``(x, y)``: a pair (tuple or list of two) is ``(x, y)``, anything else is
    ``x`` alone (``y`` is then ``None``)."""
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return item[0], item[1]
    if isinstance(item, (tuple, list)) and len(item) == 1:  # TensorDataset(x)
        return item[0], None
    return item, None


def _shape(x: Any) -> Any:
    """What must agree between the items of one batch: shapes (per key for a dict)."""
    if isinstance(x, dict):
        return {k: _shape(v) for k, v in x.items()}
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else type(x).__name__


def _float32(x: Any) -> Any:
    """float64 inputs (numpy's default) as float32, the networks' dtype; others unchanged."""
    if isinstance(x, dict):
        return {k: _float32(v) for k, v in x.items()}
    return x.float() if isinstance(x, torch.Tensor) and x.dtype == torch.float64 else x


def to_device(x: Any, device: torch.device, non_blocking: bool = False) -> Any:
    """A tensor, or each tensor of a dict, on ``device``."""
    if isinstance(x, dict):
        return {k: v.to(device, non_blocking=non_blocking) for k, v in x.items()}
    return x.to(device, non_blocking=non_blocking)


class IndexedDataset(Dataset):  # type: ignore[type-arg]
    """The rows ``positions`` of a user's ``dataset`` (all by default), yielding ``(x, i)``:
    the item's input and its position ``i`` in this view.

    Args:
        dataset: any map-style Dataset; its items are ``(x, y)`` pairs or ``x`` alone (the
            targets of a pair are ignored here: they are read once, see
            :func:`mlrpy.learners.sources.dataset_targets`).
        positions: indices into ``dataset`` this view holds, in order.

    Example:
        >>> import torch
        >>> from mlrpy.learners.loaders import IndexedDataset
        >>> ds = torch.utils.data.TensorDataset(torch.arange(5.0), torch.arange(5))
        >>> view = IndexedDataset(ds, positions=[4, 1])
        >>> len(view), view[0]
        (2, (tensor(4.), 0))
    """

    def __init__(self, dataset: Any, positions: Sequence[int] | None = None) -> None:
        self.dataset = dataset
        self.positions = None if positions is None else [int(p) for p in positions]

    def __len__(self) -> int:
        return len(self.dataset) if self.positions is None else len(self.positions)

    def __getitem__(self, i: int) -> tuple[Any, int]:
        position = i if self.positions is None else self.positions[i]
        return split_item(self.dataset[position])[0], i

    def source_index(self, i: int) -> int:
        """The index into the user's dataset of this view's item ``i``."""
        return i if self.positions is None else self.positions[i]


class _Collate:
    """Stacks a batch's inputs; items of different shapes are a :class:`DataError` naming
    them. A class rather than a closure so that worker processes can unpickle it."""

    def __init__(self, view: IndexedDataset) -> None:
        self.view = view

    def __call__(self, items: list[tuple[Any, int]]) -> tuple[Any, torch.Tensor]:
        first = _shape(items[0][0])
        for x, i in items[1:]:
            shape = _shape(x)
            if shape != first:
                a, b = self.view.source_index(items[0][1]), self.view.source_index(i)
                raise DataError(
                    f"Dataset items {a} and {b} have inputs of different shapes, {first} and "
                    f"{shape}; the items of one batch must have equal shapes (resize or pad "
                    f"them in the Dataset, or use batch_size=1)"
                )
        x = default_collate([item[0] for item in items])
        return _float32(x), torch.tensor([item[1] for item in items])


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn``: seed numpy and ``random`` in a worker from the seed torch gave it
    (derived from the loader's generator), so random transforms in a Dataset reproduce."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)
    torch.manual_seed(seed)


class DatasetLoader:
    """Iterates ``Batch(x, y, index, weight)`` over a Dataset with a ``DataLoader``.

    Args:
        view: the rows to iterate.
        y: targets aligned with ``view`` (``None`` for prediction), on ``device``.
        batch_size: rows per batch.
        shuffle: a fresh order every epoch, drawn from a generator seeded with ``seed``.
        device: where batches go.
        seed: seeds the sampler's generator (and so the workers' seeds).
        weight: optional sample weights aligned with ``view``.
        num_workers, pin_memory, drop_last: as ``torch.utils.data.DataLoader``
            (``pin_memory`` only where batches go to a CUDA device).
        sampler: the rows to load, in its order, instead of ``shuffle`` (a data-parallel
            run's ``DistributedSampler``).

    Example:
        >>> import torch
        >>> from mlrpy.learners.loaders import DatasetLoader, IndexedDataset
        >>> ds = torch.utils.data.TensorDataset(torch.zeros(5, 3, 4, 4))
        >>> loader = DatasetLoader(IndexedDataset(ds), torch.arange(5), 2, False, torch.device("cpu"))
        >>> [tuple(b.x.shape) for b in loader], len(loader)
        ([(2, 3, 4, 4), (2, 3, 4, 4), (1, 3, 4, 4)], 3)
    """

    def __init__(
        self,
        view: IndexedDataset,
        y: torch.Tensor | None,
        batch_size: int,
        shuffle: bool,
        device: torch.device,
        seed: int = 0,
        weight: torch.Tensor | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        drop_last: bool = False,
        sampler: Sampler[int] | None = None,
    ) -> None:
        self.view, self.y, self.weight, self.device = view, y, weight, device
        generator = torch.Generator()
        generator.manual_seed(int(seed))
        self.pin = bool(pin_memory) and device.type == "cuda"
        self.loader = DataLoader(
            view,
            batch_size=int(batch_size),
            shuffle=bool(shuffle) and sampler is None,
            sampler=sampler,
            num_workers=int(num_workers),
            pin_memory=self.pin,
            drop_last=bool(drop_last),
            collate_fn=_Collate(view),
            generator=generator,
            worker_init_fn=seed_worker,
        )

    def __len__(self) -> int:
        return len(self.loader)

    @property
    def n_rows(self) -> int:
        return len(self.view)

    def __iter__(self) -> Iterator[Batch]:
        y, w, device = self.y, self.weight, self.device
        try:
            for x, index in self.loader:
                index = index.to(device)
                yield Batch(
                    to_device(x, device, self.pin),
                    None if y is None else y.index_select(0, index),
                    index,
                    None if w is None else w.index_select(0, index),
                )
        except DataError as err:
            # from a worker, torch re-raises the error with the worker's traceback in front
            # of its message; keep the message alone, which names the items
            message = str(err).rstrip().splitlines()[-1]
            if message == str(err):
                raise
            raise DataError(message.removeprefix(f"{DataError.__module__}.DataError: ")) from err


def predict_batch_size(learner: Any, table_predict: bool = False) -> int:
    """``batch_size_predict``, or when unset ``batch_size``; a table's prediction then uses at
    least 1024 rows a batch (a table's rows are small, and fewer batches predict faster)."""
    size = getattr(learner, "batch_size_predict", None)
    if size is not None:
        return int(size)
    return max(int(learner.batch_size), 1024) if table_predict else int(learner.batch_size)


def make_loader(
    learner: Any,
    x: Any,
    y: torch.Tensor | None,
    device: torch.device,
    seed: int = 0,
    train: bool = False,
    weight: torch.Tensor | None = None,
    batch_size: int | None = None,
    parallel: SingleProcess | None = None,
) -> Any:
    """The loader of training (``train``) or of validation / evaluation / prediction data:
    a :class:`DatasetLoader` for a Dataset, else a :class:`TensorLoader` on ``device``. In a
    data-parallel run (``parallel``) it holds this rank's shard of the rows."""
    size = int(learner.batch_size) if train else batch_size or predict_batch_size(learner)
    shuffle = train and bool(learner.shuffle)
    drop_last = train and bool(getattr(learner, "drop_last", False))
    n_rows = len(x) if isinstance(x, IndexedDataset) else TensorLoader.rows_of(x)
    sampler = None if parallel is None else parallel.shard(n_rows, shuffle, seed)
    if isinstance(x, IndexedDataset):
        return DatasetLoader(
            x, None if y is None else y.to(device), size, shuffle, device, seed, weight,
            num_workers=getattr(learner, "num_workers", 0) or 0,
            pin_memory=bool(getattr(learner, "pin_memory", False)),
            drop_last=drop_last,
            sampler=sampler,
        )
    y = None if y is None else y.to(device)
    return TensorLoader(
        to_device(x, device), y, size, shuffle, weight=weight, drop_last=drop_last, sampler=sampler
    )
