"""A sample-weighted running mean of the training loss that stays on the device, and the
epoch's scores as the loggers name them.

Used by the callbacks that report the epoch's training loss, so that the loop itself never
pays for it and nothing waits for the device until the epoch ends.
"""

from __future__ import annotations

from typing import Any

import torch


class EpochLoss:
    """Keeps each batch's loss and size; :meth:`value` sums them and syncs once per epoch.

    Keeping the scalars instead of adding them up per batch leaves one list append per batch:
    every default fit records ``history``, so this runs in every batch of every fit.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._losses: list[torch.Tensor] = []
        self._sizes: list[int] = []

    def add(self, loss: torch.Tensor, n: int) -> None:
        self._losses.append(loss.detach())
        self._sizes.append(n)

    def value(self) -> float | None:
        if not self._losses:
            return None
        try:  # one stack: a loss is a scalar, 0-d or of shape (1,), the same in every batch
            losses = torch.stack(self._losses).reshape(-1).double()
        except RuntimeError:  # shapes differ between batches (a custom loss)
            losses = torch.stack([t.reshape(()) for t in self._losses]).double()
        sizes = torch.tensor(self._sizes, dtype=torch.float64, device=losses.device)
        return float((losses * sizes).sum().item()) / sum(self._sizes)


def epoch_scores(ctx: Any, train_loss: float | None) -> dict[str, float]:
    """The epoch's values under the names every logger uses: ``train.loss`` (left out when
    ``None``), then ``train.<measure>`` and ``valid.<...>`` from ``ctx.last_scores_train``
    and ``ctx.last_scores_valid`` (``valid.loss`` among them when there was validation).

    Example:
        >>> from types import SimpleNamespace
        >>> from mlrpy.callbacks.running_mean import epoch_scores
        >>> ctx = SimpleNamespace(last_scores_train=None, last_scores_valid={"loss": 0.4})
        >>> epoch_scores(ctx, 0.5)
        {'train.loss': 0.5, 'valid.loss': 0.4}
    """
    values = {} if train_loss is None else {"train.loss": train_loss}
    for prefix, scores in (("train", ctx.last_scores_train), ("valid", ctx.last_scores_valid)):
        for name, value in (scores or {}).items():
            values[f"{prefix}.{name}"] = value
    return values
