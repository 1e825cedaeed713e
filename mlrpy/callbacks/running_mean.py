"""A sample-weighted running mean of the training loss that stays on the device.

Used by the callbacks that report the epoch's training loss, so that the loop itself never
pays for it and nothing waits for the device until the epoch ends.
"""

from __future__ import annotations

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
