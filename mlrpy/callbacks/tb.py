"""``tb``: TensorBoard event files with the training loss and every evaluated score."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks
from mlrpy.callbacks.running_mean import epoch_scores
from mlrpy.io import user_path

EXAMPLE = 't_clbk("tb", path="runs/mlp", log_train_loss=True)'


class CallbackSetTB(CallbackSet):
    """Writes TensorBoard event files (``torch.utils.tensorboard.SummaryWriter``).

    Scalars, each at step = epoch: ``train.loss`` (the epoch's sample-weighted mean training
    loss), ``train.<measure>`` in evaluation epochs and ``valid.loss`` / ``valid.<measure>``
    in epochs with validation. With ``log_train_loss=True`` also ``train.batch_loss`` at
    step = global batch count. The writer is flushed after every epoch and closed when the
    run ends, also after an error. View with ``tensorboard --logdir <path>``; the folder is
    created if missing (``~`` is expanded; URLs are refused). ``log_train_loss`` costs one
    host sync per batch.

    Needs the ``tensorboard`` package (``pip install 'mlrpy[tensorboard]'``).

    Example:
        >>> import os, tempfile
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     learner = lrn("classif.mlp", epochs=2, random_state=0,
        ...                   callbacks=[t_clbk("tb", path=folder)])
        ...     _ = learner.train(tsk("iris"))
        ...     any(f.startswith("events.out.tfevents") for f in os.listdir(folder))
        True
    """

    rank_zero_only: ClassVar[bool] = True  # writes or prints: once per run, on rank 0
    reads: ClassVar[tuple[str, ...]] = (
        "epoch", "global_step", "last_scores_train", "last_scores_valid",
    )
    writes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        path: Annotated[
            str, Field(min_length=1, description="the folder for the event files (TensorBoard's log_dir)")
        ],
        log_train_loss: Annotated[
            bool, Field(description="also log the training loss of every batch")
        ] = False,
    ) -> None:
        self.path = str(user_path(path, "path"))
        self.log_train_loss = log_train_loss
        self.writer: Any = None

    def on_begin(self) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=self.path)

    def on_batch_end(self) -> None:
        if self.log_train_loss:
            ctx = self.ctx
            self.writer.add_scalar("train.batch_loss", ctx.last_loss, ctx.global_step)

    def on_epoch_end(self) -> None:
        ctx, writer = self.ctx, self.writer
        for tag, value in epoch_scores(ctx).items():
            writer.add_scalar(tag, value, ctx.epoch)
        writer.flush()

    def on_exit(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


tb = TorchCallback(
    "tb",
    CallbackSetTB,
    label="TensorBoard",
    packages=("mlrpy", "torch", "tensorboard"),
    extra="tensorboard",
    man=man_with_example(CallbackSetTB, EXAMPLE),
)
mlr_callbacks.add(tb)
