"""Unit-test a callback without training: :func:`simulate` drives its stages on a synthetic run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.callback_list import CallbackList
from mlrpy.callbacks.context import Batch
from mlrpy.callbacks.registry import as_torch_callback
from mlrpy.errors import ParameterError

__all__ = ["simulate"]


def simulate(
    callback: Any,
    epochs: int = 3,
    batches: int = 2,
    scores: Sequence[dict[str, float] | None] | None = None,
) -> CallbackSet:
    """Run ``callback``'s stages as the training loop would, on a synthetic context.

    A tiny linear network (2 inputs, 1 output) is trained with SGD on ``batches`` fake
    batches of 4 rows per epoch: every training stage fires in the loop's order, with
    ``ctx.batch``, ``ctx.y_hat``, ``ctx.loss`` and ``ctx.last_loss`` filled as in a real run.
    ``scores`` gives each epoch's validation scores (``scores[epoch - 1]``, fed to
    ``ctx.last_scores_valid``): in an epoch with scores the validation stages fire over one
    fake batch; with ``None`` (or no ``scores``) there is no validation that epoch.
    ``ctx.terminate`` and ``ctx.stop_epoch`` set by the callback are honoured, and
    ``on_exit`` always runs.

    Args:
        callback: one callback as ``callbacks=`` accepts it: an id, ``t_clbk(...)``, or a
            ``CallbackSet`` class.
        epochs: ``ctx.total_epochs``.
        batches: training batches per epoch.
        scores: per-epoch validation scores, e.g. ``[{"loss": 0.5}, {"loss": 0.4}]``.

    Returns:
        The callback instance after the run: inspect its attributes or ``state_dict()``;
        ``instance.ctx`` stays the run's context (``ctx.epoch`` is the last epoch run).

    Example:
        >>> from mlrpy import t_clbk
        >>> from mlrpy.testing import simulate
        >>> losses = [{"loss": v} for v in (0.9, 0.5, 0.6, 0.7, 0.4)]
        >>> stopper = simulate(t_clbk("early_stopping", patience=2), epochs=5, scores=losses)
        >>> stopper.ctx.epoch, stopper.state_dict()["best_epoch"]
        (4, 2)
    """
    if scores is not None and len(scores) < epochs:
        raise ParameterError(
            f"simulate: scores must give one entry (a dict or None) per epoch; got {len(scores)} "
            f"for epochs={epochs}"
        )
    if epochs < 0 or batches < 1:
        raise ParameterError(f"simulate: need epochs >= 0 and batches >= 1, got {epochs} and {batches}")
    torch.manual_seed(0)
    network = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(network.parameters(), lr=0.01)
    loss_fn = torch.nn.MSELoss()
    train = [_fake_batch(4 * i) for i in range(batches)]
    valid = [_fake_batch(0)]
    cl = CallbackList(
        [as_torch_callback(callback)], network=network, optimizer=optimizer, loss_fn=loss_fn,
        total_epochs=epochs, loader_train=train, loader_valid=valid if scores is not None else None,
    )
    ctx = cl.ctx
    with cl:
        cl.on_begin()
        while not ctx.terminate and ctx.epoch < ctx.total_epochs:
            ctx.epoch += 1
            ctx.stop_epoch = False
            cl.on_epoch_begin()
            network.train()
            ctx.step = 0
            for batch in train:
                ctx.step += 1
                ctx.global_step += 1
                ctx.batch = batch
                optimizer.zero_grad(set_to_none=True)
                cl.on_batch_begin()
                ctx.y_hat = network(batch.x)
                cl.on_after_forward()
                ctx.loss = loss_fn(ctx.y_hat, batch.y)
                cl.on_after_loss()
                ctx.loss.backward()
                cl.on_after_backward()
                ctx.last_loss = ctx.loss.detach()
                ctx.optimizer.step()  # type: ignore[union-attr]
                cl.on_batch_end()
                if ctx.stop_epoch:
                    break
            cl.on_before_valid()
            epoch_scores = scores[ctx.epoch - 1] if scores is not None else None
            if epoch_scores is not None:
                _validate(cl, network, loss_fn, valid, epoch_scores)
            else:
                ctx.last_scores_valid = None
            cl.on_epoch_end()
        cl.on_end()
    (instance,) = cl.callbacks
    return instance


def _fake_batch(start: int) -> Batch:
    x = torch.linspace(-1, 1, 8).reshape(4, 2) + start
    return Batch(x, x.sum(1, keepdim=True), torch.arange(start, start + 4))


def _validate(cl: CallbackList, network: torch.nn.Module, loss_fn: Any, valid: list[Batch],
              scores: dict[str, float]) -> None:
    ctx = cl.ctx
    network.eval()
    cl.on_valid_begin()
    for batch in valid:
        ctx.batch = batch
        cl.on_batch_valid_begin()
        with torch.no_grad():
            ctx.y_hat = network(batch.x)
            ctx.loss = loss_fn(ctx.y_hat, batch.y)
        cl.on_batch_valid_end()
    ctx.last_scores_valid = dict(scores)
    cl.on_valid_end()
