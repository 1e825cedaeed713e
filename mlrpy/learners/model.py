"""``TorchModel``: what a training run produced (``learner.model`` / ``learner.model_``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

__all__ = ["TorchModel"]


@dataclass
class TorchModel:
    """What training produced (``learner.model`` / ``learner.model_``).

    Attributes:
        network: the trained ``torch.nn.Module``.
        callbacks: callback id → its ``state_dict()`` (only non-``None`` states).
        epochs: epochs actually trained.
        seed: the seed the run used (drawn and recorded when ``random_state`` is ``None``).
        optimizer: the optimizer's ``state_dict()``.
        loss_fn: the loss module's ``state_dict()``.
        internal_valid_scores: the last validation scores (``None`` without validation).
        feature_names: training columns, in order; ``n_features``: their number.
        classes: class labels (classification) or ``None``.
        task_type: ``"classif"`` or ``"regr"``.
        interrupted: ``True`` when training stopped on ``KeyboardInterrupt``.
        encoding: for a table with categorical columns, the levels and column types that
            turn prediction data into the network's input, as plain data (see
            :class:`~mlrpy.learners.encoding.TableEncoder`); ``None`` for a numeric table.

    Example:
        >>> import torch
        >>> from mlrpy import TorchModel
        >>> TorchModel(network=torch.nn.Linear(2, 1), epochs=3).epochs
        3
    """

    network: torch.nn.Module
    callbacks: dict[str, Any] = field(default_factory=dict)
    epochs: int = 0
    seed: int = 0
    optimizer: dict[str, Any] | None = None
    loss_fn: dict[str, Any] | None = None
    internal_valid_scores: dict[str, float] | None = None
    feature_names: list[str] = field(default_factory=list)
    n_features: int = 0
    classes: np.ndarray | None = None
    task_type: str = ""
    interrupted: bool = False
    encoding: dict[str, Any] | None = None
