"""Mini-batches by slicing in-memory tensors, and the loss of a batch with sample weights.

A tabular data set already sits in memory as one tensor, so a batch is a slice (or, when
shuffling, one gather with a permutation) instead of a per-row ``Dataset.__getitem__`` and a
collate step: the per-batch cost no longer grows with the batch size in Python.

The gather is ``index_select`` rather than ``x[index]``: the same rows, but without the
generic advanced-indexing machinery (2-4x faster on the CPU for these shapes; see
``benchmarks/README.md``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import Sampler

from mlrpy.callbacks.context import Batch
from mlrpy.errors import ParameterError

__all__ = ["TensorLoader", "check_weighted_loss", "weighted_loss"]

#: the most bytes of input rows one shuffled gather takes (see ``TensorLoader._gathered``)
_CHUNK_BYTES = 256 * 1024
#: below this many batches per chunk, each batch is gathered on its own
_MIN_BATCHES_PER_CHUNK = 4


class TensorLoader:
    """Iterates ``Batch(x, y, index, weight)`` over tensors already on the target device.

    Args:
        x: inputs, first dimension is rows.
        y: targets aligned with ``x`` (``None`` for prediction).
        batch_size: rows per batch; the last batch may be smaller.
        shuffle: draw a fresh permutation (from torch's global RNG) every epoch, exactly
            one ``torch.randperm(len(x))`` per pass, as a hand-written loop does.
        weight: optional sample weights aligned with ``x``; each batch carries its rows'.
        drop_last: leave out the last batch when it is smaller than ``batch_size``.
        sampler: iterate the rows it yields, in its order, instead (a data-parallel run's
            ``DistributedSampler``: this rank's shard of the epoch).

    ``x`` may also be a dict of tensors with the same first dimension (the inputs of a
    multi-input network): each batch's ``x`` is then the dict of the entries' rows.

    Example:
        >>> import torch
        >>> from mlrpy.learners.data import TensorLoader
        >>> loader = TensorLoader(torch.arange(10.0).reshape(5, 2), torch.arange(5), batch_size=2)
        >>> [batch.index.tolist() for batch in loader]
        [[0, 1], [2, 3], [4]]
        >>> len(loader)
        3
        >>> weighted = TensorLoader(torch.zeros(5, 2), torch.arange(5), 2, weight=torch.ones(5))
        >>> next(iter(weighted)).weight
        tensor([1., 1.])
        >>> inputs = {"a": torch.zeros(5, 2), "b": torch.ones(5, 3, 3)}
        >>> [tuple(b.x["b"].shape) for b in TensorLoader(inputs, None, 2, drop_last=True)]
        [(2, 3, 3), (2, 3, 3)]
    """

    def __init__(
        self,
        x: torch.Tensor | dict[str, torch.Tensor],
        y: torch.Tensor | None,
        batch_size: int,
        shuffle: bool = False,
        weight: torch.Tensor | None = None,
        drop_last: bool = False,
        sampler: Sampler[int] | None = None,
    ) -> None:
        self.x = x
        self.y = y
        self.weight = weight
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.sampler = sampler
        self._n = len(sampler) if sampler is not None else self.rows_of(x)  # type: ignore[arg-type]
        # row positions of unshuffled batches, made on first use: a shuffled loader never needs them
        self._positions: torch.Tensor | None = None

    def __len__(self) -> int:
        return self._n // self.batch_size if self.drop_last else -(-self._n // self.batch_size)

    @property
    def n_rows(self) -> int:
        return self._n

    @staticmethod
    def rows_of(x: torch.Tensor | dict[str, torch.Tensor]) -> int:
        """The number of rows of a tensor or of a dict of tensors."""
        return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)

    def _order(self, device: torch.device) -> torch.Tensor | None:
        """The epoch's row order (``None``: the rows as they are)."""
        if self.sampler is not None:
            order = getattr(self.sampler, "order", None)  # a ShardSampler's, without a list
            rows = order() if order is not None else torch.as_tensor(list(self.sampler), dtype=torch.long)
            return rows.to(device)
        return torch.randperm(self._n, device=device) if self.shuffle else None

    def __iter__(self) -> Iterator[Batch]:
        if isinstance(self.x, dict):
            yield from self._iter_dict(self.x)
            return
        x, y, w, bs = self.x, self.y, self.weight, self.batch_size
        n = self._n
        end = n - n % bs if self.drop_last else n  # where the last batch starts, at most
        order = self._order(x.device)
        if order is not None:
            yield from self._gathered(order if end == n else order[:end])
        else:
            if self._positions is None:
                self._positions = torch.arange(n, device=x.device)
            positions = self._positions
            for start in range(0, end, bs):
                stop = start + bs
                yield Batch(
                    x[start:stop],
                    None if y is None else y[start:stop],
                    positions[start:stop],
                    None if w is None else w[start:stop],
                )

    def _gathered(self, order: torch.Tensor) -> Iterator[Batch]:
        """The batches of the rows at ``order``, gathered a chunk of batches at a time.

        A gather costs a few µs of dispatch however few rows it takes, which is a measurable
        share of a small batch; one ``index_select`` per chunk of batches, whose batches are
        then views of it, pays that once per chunk. A chunk stays small enough for the CPU's
        cache (``_CHUNK_BYTES``), and wide rows (images) get one gather per batch.
        """
        x, y, w, bs = self.x, self.y, self.weight, self.batch_size
        assert isinstance(x, torch.Tensor)
        if len(order) == 0:  # split() would still give one empty part
            return
        row_bytes = max(1, x[:1].numel() * x.element_size())
        per_chunk = _CHUNK_BYTES // (bs * row_bytes)
        if per_chunk < _MIN_BATCHES_PER_CHUNK:
            for index in order.split(bs):
                yield Batch(
                    x.index_select(0, index),
                    None if y is None else y.index_select(0, index),
                    index,
                    None if w is None else w.index_select(0, index),
                )
            return
        for chunk in order.split(per_chunk * bs):
            xs = x.index_select(0, chunk).split(bs)
            ys = None if y is None else y.index_select(0, chunk).split(bs)
            ws = None if w is None else w.index_select(0, chunk).split(bs)
            for i, index in enumerate(chunk.split(bs)):
                yield Batch(xs[i], None if ys is None else ys[i], index, None if ws is None else ws[i])

    def _iter_dict(self, x: dict[str, torch.Tensor]) -> Iterator[Batch]:
        """Batches of a dict input: the same rows (one index) taken from every entry."""
        y, w, bs, n = self.y, self.weight, self.batch_size, self._n
        device = next(iter(x.values())).device
        order = self._order(device)
        if order is None:
            order = torch.arange(n, device=device)
        end = n - n % bs if self.drop_last else n
        for start in range(0, end, bs):
            index = order[start : start + bs]
            yield Batch(
                {k: v.index_select(0, index) for k, v in x.items()},  # type: ignore[arg-type]
                None if y is None else y.index_select(0, index),
                index,
                None if w is None else w.index_select(0, index),
            )


def _reduction_holders(loss_fn: Any) -> list[Any]:
    """The loss modules whose ``reduction`` decides how ``loss_fn`` reduces: ``loss_fn``
    itself, or the losses it wraps (a wrapper such as TabM's member-wise loss)."""
    modules = loss_fn.modules() if isinstance(loss_fn, torch.nn.Module) else [loss_fn]
    return [m for m in modules if getattr(m, "reduction", None) in ("mean", "sum", "none")]


def weighted_loss(
    loss_fn: Any, y_hat: torch.Tensor, y: torch.Tensor, weight: torch.Tensor
) -> torch.Tensor:
    """A batch's loss with sample weights: ``sum(w * l) / sum(w)`` over the per-row losses
    ``l`` (``sum(w * l)`` for a loss with ``reduction="sum"``), so weight 2 counts a row twice.

    The loss is computed with ``reduction="none"`` and reduced here; a row's loss is the mean
    of its elements (the sum under ``"sum"``). A batch whose weights are all zero has loss 0.

    Example:
        >>> import torch
        >>> from mlrpy.learners.data import weighted_loss
        >>> mse = torch.nn.MSELoss()
        >>> y_hat, y = torch.tensor([[1.0], [3.0]]), torch.zeros(2, 1)
        >>> float(weighted_loss(mse, y_hat, y, torch.tensor([1.0, 2.0])))  # (1 + 2 * 9) / 3
        6.333333492279053
    """
    holders = _reduction_holders(loss_fn)
    reductions = [m.reduction for m in holders]
    for m in holders:
        m.reduction = "none"
    try:
        per_element = loss_fn(y_hat, y)
    finally:
        for m, reduction in zip(holders, reductions):
            m.reduction = reduction
    per_row = per_element.reshape(len(weight), -1)
    if reductions[0] == "sum":
        return (per_row.sum(dim=1) * weight).sum()
    # each row's share of the batch's weight, formed first: w * l of a huge weight would
    # overflow float32; the clamp only matters when every weight is 0 (the loss is then 0)
    share = weight / weight.sum().clamp_min(torch.finfo(weight.dtype).tiny)
    return (per_row.mean(dim=1) * share).sum()


def check_weighted_loss(loss_fn: Any, loss_id: str, learner_id: str) -> None:
    """Raise :class:`ParameterError` unless ``loss_fn`` can give :func:`weighted_loss` per-row
    losses (a torch loss module with ``reduction`` "mean" or "sum")."""
    holders = _reduction_holders(loss_fn)
    reduction = holders[0].reduction if holders else getattr(loss_fn, "reduction", None)
    if reduction not in ("mean", "sum"):
        raise ParameterError(
            f"Learner '{learner_id}': loss '{loss_id}' cannot weight rows: sample weights need "
            f"a loss module with reduction 'mean' or 'sum' that also computes per-row losses "
            f"(reduction='none'), got reduction={reduction!r}"
        )
