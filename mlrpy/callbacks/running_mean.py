"""A sample-weighted running mean of the training loss that stays on the device.

Used by the callbacks that report the epoch's training loss, so that the loop itself never
pays for it and nothing waits for the device until the epoch ends.
"""

from __future__ import annotations

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
        losses = torch.stack([t.reshape(()) for t in self._losses]).double()
        sizes = torch.tensor(self._sizes, dtype=torch.float64, device=losses.device)
        return float((losses * sizes).sum().item()) / sum(self._sizes)
