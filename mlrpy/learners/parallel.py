"""The data-parallel engine of a run: what changes when one training runs on several processes.

The training loop calls the same few methods in every run. :class:`SingleProcess`, the engine
of an ordinary run, does nothing in them; :class:`DataParallel` (``strategy="ddp"``) makes
each rank train on its own shard of every epoch with its gradients averaged over all ranks
(torch's ``DistributedDataParallel``), and keeps the ranks' decisions in step:

- ``shard``: a ``DistributedSampler`` for a loader, seeded with the run's seed, so that the
  ranks see disjoint parts of every epoch (the parts are padded to equal length);
- ``prepare_epoch``: the samplers' epoch, and the network the batches go through
  (``DistributedDataParallel`` around ``ctx.network``, which callbacks keep seeing unwrapped);
- ``uneven_batches``: a rank that leaves an epoch's batches early does not stall the others
  (torch's ``Join``). Join costs two small collectives per batch, so a run uses it only when
  a callback declares that it writes ``ctx.stop_epoch`` or the divergence guard may stop the
  epoch (``on_nonfinite="warn"``); ``stopping_early`` turns an undeclared early stop into an
  error instead of a hang;
- ``epoch_loss``, ``gather_rows``, ``any``: the epoch's loss and scores over all ranks, and
  ``ctx.terminate`` set on any rank seen by every rank, so that all stop after the same epoch;
- ``finish``: rank 0's weights and callback states on every rank.

Where the processes come from (spawned by ``fit`` or started by ``torchrun``) is
:mod:`mlrpy.learners.launch`.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, cast

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from mlrpy.callbacks.running_mean import EpochLoss
from mlrpy.errors import ParameterError

__all__ = ["DataParallel", "ShardSampler", "SingleProcess", "local_rank"]


def local_rank() -> int:
    """This process's index on its machine (``LOCAL_RANK``, set by the launcher)."""
    return int(os.environ.get("LOCAL_RANK", dist.get_rank() if dist.is_initialized() else 0))


class ShardSampler(DistributedSampler):  # type: ignore[type-arg]
    """torch's ``DistributedSampler`` (no ``drop_last``) with the epoch's rows as a tensor.

    :meth:`order` computes what iterating the sampler yields with tensor operations: the
    sampler's own ``__iter__`` goes through a Python list, which costs ~25 ms an epoch at 200k
    rows, on the training loop's time.

    Example:
        >>> from mlrpy.learners.parallel import ShardSampler
        >>> sampler = ShardSampler(range(5), num_replicas=2, rank=1, shuffle=False)
        >>> sampler.order().tolist(), list(sampler)
        ([1, 3, 0], [1, 3, 0])
    """

    def order(self) -> torch.Tensor:
        """This rank's rows of the current epoch, in order (``int64``)."""
        n = len(self.dataset)  # type: ignore[arg-type]
        if self.shuffle:
            generator = torch.Generator()
            generator.manual_seed(self.seed + self.epoch)
            rows = torch.randperm(n, generator=generator)
        else:
            rows = torch.arange(n)
        padding = self.total_size - n  # repeat rows from the start until the shards are equal
        if padding > 0:
            rows = torch.cat([rows, rows.repeat(-(-padding // n))[:padding]])
        return rows[self.rank : self.total_size : self.num_replicas]

    def __iter__(self) -> Any:
        return iter(self.order().tolist())


class SingleProcess:
    """The engine of a run on one process: rank 0 of 1, and every operation a no-op."""

    rank = 0
    world_size = 1
    #: this rank's device (``None``: the learner's ``device``)
    device: torch.device | None = None

    def shard(self, n_rows: int, shuffle: bool, seed: int) -> ShardSampler | None:
        """The sampler of this rank's rows of a loader (``None``: all rows, the loader's order)."""
        return None

    def prepare_epoch(self, network: torch.nn.Module, epoch: int) -> torch.nn.Module:
        """What the epoch's training batches go through."""
        return network

    def uneven_batches(self, model: torch.nn.Module) -> contextlib.AbstractContextManager[Any]:
        """The context of an epoch's batches, in which ranks may leave early."""
        return contextlib.nullcontext()

    def stopping_early(self) -> None:
        """Called when this rank leaves an epoch's batches before the end."""

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is true on any rank."""
        return bool(flag)

    def epoch_loss(self, loss: EpochLoss) -> float | None:
        """The epoch's mean training loss over every rank's batches."""
        return loss.value()

    def gather_rows(
        self, outputs: list[torch.Tensor], targets: list[torch.Tensor], indices: list[torch.Tensor]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Every rank's outputs and targets, in row order, each row once."""
        return outputs, targets

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value``, on every rank."""
        return value

    def finish(self, network: torch.nn.Module, states: dict[str, Any]) -> dict[str, Any]:
        """After the run: rank 0's weights and callback states on every rank."""
        return states


class DataParallel(SingleProcess):
    """The engine of one rank in a ``torch.distributed`` process group (already set up).

    Args:
        device: this rank's device (``cuda:<local rank>`` on GPUs).
        uneven: whether a rank may leave an epoch's batches early (then the batches run
            under torch's ``Join``); the same on every rank.

    Example:
        >>> import torch.distributed as dist
        >>> dist.is_initialized()  # a DataParallel needs a process group; fit(strategy="ddp") makes one
        False
    """

    def __init__(self, device: torch.device, uneven: bool = False) -> None:
        self.device: torch.device = device
        self.uneven = uneven
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        # collectives of Python values go through tensors on the backend's device
        self._comm_device = device if dist.get_backend() == "nccl" else torch.device("cpu")
        self._samplers: list[ShardSampler] = []
        self._wrapped: DistributedDataParallel | None = None
        self._trainable: tuple[bool, ...] = ()

    def shard(self, n_rows: int, shuffle: bool, seed: int) -> ShardSampler:
        # DistributedSampler reads only len() of its dataset
        rows = cast(Any, range(n_rows))
        sampler = ShardSampler(rows, num_replicas=self.world_size, rank=self.rank, shuffle=shuffle, seed=seed)
        self._samplers.append(sampler)
        return sampler

    def prepare_epoch(self, network: torch.nn.Module, epoch: int) -> torch.nn.Module:
        for sampler in self._samplers:
            # a fresh order every epoch, the same on every rank; counted from 0, as torch's
            # examples do, so a hand-written script with the same seed draws the same shards
            sampler.set_epoch(epoch - 1)
        trainable = tuple(p.requires_grad for p in network.parameters())
        if not any(trainable):
            return network  # nothing to synchronise (DistributedDataParallel refuses such a network)
        wrapped = self._wrapped
        # built again when a callback froze or unfroze parameters: the wrapper averages the
        # gradients of the parameters that trained when it was built
        if wrapped is None or wrapped.module is not network or trainable != self._trainable:
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            wrapped = DistributedDataParallel(network, device_ids=device_ids)
            self._wrapped, self._trainable = wrapped, trainable
        return wrapped

    def uneven_batches(self, model: torch.nn.Module) -> contextlib.AbstractContextManager[Any]:
        if self.uneven and isinstance(model, DistributedDataParallel):
            return cast(contextlib.AbstractContextManager[Any], model.join())
        return contextlib.nullcontext()

    def stopping_early(self) -> None:
        if not self.uneven:  # the other ranks would wait for this one's gradients forever
            raise ParameterError(
                "ctx.stop_epoch ended this rank's epoch early in a data-parallel run, but no "
                "callback declares it: a callback that sets ctx.stop_epoch must list "
                "'stop_epoch' in its writes, so that the ranks can leave an epoch unevenly"
            )

    def any(self, flag: bool) -> bool:
        value = torch.tensor([1 if flag else 0], device=self._comm_device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def epoch_loss(self, loss: EpochLoss) -> float | None:
        total, n = loss.total()
        pair = torch.tensor([total, n], dtype=torch.float64, device=self._comm_device)
        dist.all_reduce(pair)
        return None if pair[1].item() == 0 else float(pair[0] / pair[1])

    def gather_rows(
        self, outputs: list[torch.Tensor], targets: list[torch.Tensor], indices: list[torch.Tensor]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        mine = [torch.cat(parts).cpu() if parts else None for parts in (outputs, targets, indices)]
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, mine)
        present = [g for g in gathered if g[0] is not None]
        if not present:
            return [], []
        y_hat, y, index = (torch.cat([g[k] for g in present]) for k in range(3))
        # row order, and each row once: the sampler pads the shards with repeated rows
        index, order = torch.sort(index, stable=True)
        first = torch.ones_like(index, dtype=torch.bool)
        first[1:] = index[1:] != index[:-1]
        keep = order[first]
        device = outputs[0].device if outputs else self.device
        return [y_hat[keep].to(device)], [y[keep].to(device)]

    def broadcast(self, value: Any) -> Any:
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def finish(self, network: torch.nn.Module, states: dict[str, Any]) -> dict[str, Any]:
        # the ranks train the same weights; a rank-0-only callback may still have changed
        # rank 0's at the end (a checkpoint restoring its best epoch)
        for tensor in network.state_dict().values():
            dist.broadcast(tensor, src=0)
        return cast(dict[str, Any], self.broadcast(states))

