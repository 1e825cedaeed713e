"""``ContextTorch``: the shared, mutable state of one training run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from mlrpy.callbacks.base import CallbackSet

__all__ = ["Batch", "ContextTorch"]


@dataclass
class Batch:
    """One mini-batch: inputs ``x``, targets ``y`` (``None`` when predicting), ``index``, the
    row positions of the batch in the data being iterated, and ``weight``, the rows' sample
    weights (``None`` when training unweighted, validating or predicting)."""

    x: torch.Tensor
    y: torch.Tensor | None
    index: torch.Tensor
    weight: torch.Tensor | None = None


class ContextTorch:
    """Everything a callback may read or change during a run, as ``self.ctx``.

    Fields (all present from the start of a run, ``None`` until the loop fills them):
    ``learner``, ``task_train``, ``task_valid``, ``loader_train``, ``loader_valid``,
    ``measures_train``, ``measures_valid``, ``network``, ``optimizer``, ``loss_fn``,
    ``total_epochs``, ``last_scores_train``, ``last_scores_valid``, ``y_hat``, ``loss``,
    ``epoch``, ``step``, ``global_step``, ``batch``, ``eval_freq``, ``terminate``,
    ``stop_epoch``, ``callbacks``, ``device``, ``phase``; ``last_loss``, the previous
    batch's training loss as a float; ``train_loss``, the epoch's mean training loss (weighted
    by batch size, over all ranks), set after the epoch's batches; and ``rank`` and
    ``world_size``, this process's place in a data-parallel run (0 and 1 without one).

    ``terminate = True`` ends the run before the next epoch; ``stop_epoch = True`` set in a
    batch stage ends the current epoch's batch loop after that batch (validation and
    ``on_epoch_end`` still run; it is reset to ``False`` at every epoch begin); both together
    stop training after the current batch, like Keras' ``stop_training``. ``phase`` is
    ``"train"``, ``"evaluate"`` or ``"predict"``: which loop is calling the stage. ``loss``
    holds the current batch's loss tensor, in validation too (at ``on_batch_valid_end``).

    In a data-parallel run (``strategy="ddp"``) every rank has its own context: ``batch``,
    ``loss`` and ``last_loss`` are this rank's, while ``train_loss`` and the scores are
    reduced over all ranks and equal on each. ``terminate`` set on any rank stops every rank
    after the same epoch; ``parallel`` offers the collective operations (``parallel.any``,
    ``parallel.broadcast``), which every rank must call together.

    Reading ``last_loss`` converts the loss tensor on first access, so a run in which no
    callback reads it never waits for the device once per batch. Callbacks may attach
    attributes of their own.
    """

    def __init__(self, **fields: Any) -> None:
        self.learner: Any = None
        self._tasks: tuple[Any, Any] | None = (None, None)
        self._make_tasks: Callable[[], tuple[Any, Any]] | None = None
        self.loader_train: Any = None
        self.loader_valid: Any = None
        self.measures_train: list[Any] = []
        self.measures_valid: list[Any] = []
        self.network: torch.nn.Module | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.loss_fn: Any = None
        self.total_epochs: int = 0
        self.last_scores_train: dict[str, float] | None = None
        self.last_scores_valid: dict[str, float] | None = None
        self.y_hat: torch.Tensor | None = None
        self.loss: torch.Tensor | None = None
        self.epoch: int = 0
        self.step: int = 0
        self.global_step: int = 0
        self.batch: Batch | None = None
        self.eval_freq: int = 1
        self.terminate: bool = False
        self.stop_epoch: bool = False
        self.phase: str = "train"
        self.callbacks: list[CallbackSet] = []
        self.device: torch.device = torch.device("cpu")
        self.loader_predict: Any = None
        #: the run's seed and, when resuming, the checkpoint folder it continues from
        self.seed: int | None = None
        self.resumed_from: Any = None
        self.prediction: torch.Tensor | None = None
        #: ``snapshot_model(states)``: the model as it stands now, with the given callback
        #: states (what ``fit`` would store if the run ended here); ``None`` outside ``fit``
        self.snapshot_model: Callable[[dict[str, Any]], Any] | None = None
        self._last_loss: Any = None
        self.train_loss: float | None = None
        self.rank: int = 0
        self.world_size: int = 1
        #: the run's data-parallel engine (``mlrpy.learners.parallel``); ``None`` outside a run
        self.parallel: Any = None
        for name, value in fields.items():
            setattr(self, name, value)

    @property
    def task_train(self) -> Any:
        """The task of the training rows (built on first access in the scikit-learn face)."""
        return self._resolved_tasks()[0]

    @task_train.setter
    def task_train(self, task: Any) -> None:
        self._tasks = (task, self._resolved_tasks()[1])

    @property
    def task_valid(self) -> Any:
        """The task of the validation rows, ``None`` without validation."""
        return self._resolved_tasks()[1]

    @task_valid.setter
    def task_valid(self, task: Any) -> None:
        self._tasks = (self._resolved_tasks()[0], task)

    def defer_tasks(self, make_tasks: Callable[[], tuple[Any, Any]]) -> None:
        """Build ``task_train`` and ``task_valid`` with ``make_tasks()`` when first read.

        ``fit(X, y)`` has no tasks; building them from the arrays (a DataFrame, decoded
        labels, the task's checks) is a fixed cost of every fit that only callbacks reading
        the tasks need.
        """
        self._tasks, self._make_tasks = None, make_tasks

    def _resolved_tasks(self) -> tuple[Any, Any]:
        if self._tasks is None:
            assert self._make_tasks is not None
            self._tasks, self._make_tasks = self._make_tasks(), None
        return self._tasks

    @property
    def last_loss(self) -> float | None:
        """The most recent training batch's loss as a Python float (``None`` before one)."""
        value = self._last_loss
        if isinstance(value, torch.Tensor):
            value = value.item()
            self._last_loss = value
        return value

    @last_loss.setter
    def last_loss(self, value: Any) -> None:
        self._last_loss = value

    def __repr__(self) -> str:
        return (
            f"<ContextTorch> epoch {self.epoch}/{self.total_epochs}, step {self.step}, "
            f"global_step {self.global_step}, terminate={self.terminate}"
        )
