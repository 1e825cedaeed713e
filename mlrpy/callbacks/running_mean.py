"""A size-weighted running mean of the training loss that stays on the device, and the
epoch's scores as the loggers name them.

The training loop keeps one :class:`EpochLoss` and publishes its value as ``ctx.train_loss``
(over all ranks in a data-parallel run), which ``history`` and the loggers read; nothing waits
for the device until the epoch ends.
"""

from __future__ import annotations

from typing import Any

import torch


def free_to_read(loss: torch.Tensor) -> bool:
    """Whether reading ``loss`` as a float now costs nothing: a scalar in CPU memory, where
    there is no device to wait for."""
    return loss.is_cpu and loss.numel() == 1


class EpochLoss:
    """The size-weighted mean of an epoch's batch losses, read once at the epoch's end.

    The training loop adds every batch's loss, so this runs in every batch of every fit. A loss
    on the CPU is added up as a Python float: reading it waits for nothing and costs ~0.2 µs,
    while keeping a tensor per batch cost ~5 µs per batch (the objects outlive the batch and
    Python's garbage collector walks them). A loss on an accelerator is kept as a tensor and
    the tensors are summed once, in :meth:`value`, so training never waits for the device.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._total = 0.0
        self._n = 0
        self._on_device: list[torch.Tensor] = []
        self._device_sizes: list[int] = []

    def add(self, loss: torch.Tensor, n: int) -> None:
        if free_to_read(loss):
            self._total += loss.item() * n
        else:
            self._on_device.append(loss.detach().reshape(-1).mean())
            self._device_sizes.append(n)
        self._n += n

    def total(self) -> tuple[float, int]:
        """The size-weighted sum of the losses and the number of rows added."""
        total = self._total
        if self._on_device:
            losses = torch.stack(self._on_device).double()
            sizes = torch.tensor(self._device_sizes, dtype=torch.float64, device=losses.device)
            total += float((losses * sizes).sum().item())
        return total, self._n

    def value(self) -> float | None:
        """The mean loss per row; ``None`` before any batch."""
        if self._n == 0:
            return None
        total, n = self.total()
        return total / n


def epoch_scores(ctx: Any) -> dict[str, float]:
    """The epoch's values under the names every logger uses: ``train.loss`` from
    ``ctx.train_loss`` (left out when ``None``), then ``train.<measure>`` and ``valid.<...>``
    from ``ctx.last_scores_train`` and ``ctx.last_scores_valid`` (``valid.loss`` among them
    when there was validation).

    Example:
        >>> from types import SimpleNamespace
        >>> from mlrpy.callbacks.running_mean import epoch_scores
        >>> ctx = SimpleNamespace(train_loss=0.5, last_scores_train=None, last_scores_valid={"loss": 0.4})
        >>> epoch_scores(ctx)
        {'train.loss': 0.5, 'valid.loss': 0.4}
    """
    train_loss = ctx.train_loss
    values = {} if train_loss is None else {"train.loss": train_loss}
    for prefix, scores in (("train", ctx.last_scores_train), ("valid", ctx.last_scores_valid)):
        for name, value in (scores or {}).items():
            values[f"{prefix}.{name}"] = value
    return values
