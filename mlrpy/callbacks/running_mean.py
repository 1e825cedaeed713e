"""A sample-weighted running mean of the training loss that stays on the device, and the
epoch's scores as the loggers name them.

Used by the callbacks that report the epoch's training loss, so that the loop itself never
pays for it and nothing waits for the device until the epoch ends.
"""

from __future__ import annotations

from typing import Any

import torch


class EpochLoss:
    """Accumulates ``loss * batch size`` per batch; :meth:`value` syncs once per epoch."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._sum: torch.Tensor | float = 0.0
        self._n = 0

    def add(self, loss: torch.Tensor, n: int) -> None:
        self._sum = self._sum + loss.detach() * n
        self._n += n

    def value(self) -> float | None:
        if self._n == 0:
            return None
        total = self._sum.item() if isinstance(self._sum, torch.Tensor) else self._sum
        return float(total) / self._n


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
