"""The training and prediction loops: where every callback stage is called.

``train_loop`` reads top to bottom like the loop diagram in ``docs/design.md``: every stage of
``STAGES`` is called where the diagram puts it, and nothing happens in between that a callback
could not see. ``predict_loop`` does the same for ``PREDICT_STAGES``. What each stage is for,
and what a callback may change there, is ``mlrpy.callbacks.STAGE_DOCS``.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from typing import Any

import torch

from mlrpy.callbacks.base import PREDICT_STAGES, STAGES, CallbackSet, sort_callbacks
from mlrpy.callbacks.context import ContextTorch
from mlrpy.callbacks.dispatch import StageCaller, collect_states
from mlrpy.callbacks.running_mean import EpochLoss
from mlrpy.callbacks.stages import EVALUATE_STAGES
from mlrpy.errors import DivergenceError
from mlrpy.learners.data import weighted_loss
from mlrpy.learners.parallel import SingleProcess

__all__ = [
    "DivergenceGuard",
    "StageCaller",
    "collect_states",
    "evaluate_loop",
    "evaluates",
    "forward",
    "predict_loop",
    "train_loop",
]


ScoreFn = Callable[[ContextTorch, list[torch.Tensor], list[torch.Tensor], list[Any]], dict[str, float]]


def forward(network: torch.nn.Module, x: Any) -> torch.Tensor:
    """The network's output for a batch's ``x``: ``network(**x)`` for a dict of inputs (one
    per forward argument), else ``network(x)``."""
    return network(**x) if type(x) is dict else network(x)


def evaluates(ctx: ContextTorch) -> bool:
    """Whether this epoch is an evaluation epoch: every ``eval_freq``-th and always the last."""
    return ctx.epoch % ctx.eval_freq == 0 or ctx.epoch == ctx.total_epochs


def train_loop(
    ctx: ContextTorch,
    callbacks: list[CallbackSet],
    restore: Callable[[ContextTorch], None] | None = None,
    score: ScoreFn | None = None,
    on_nonfinite: str = "raise",
    on_interrupt: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Run one training run; returns each callback's non-``None`` ``state_dict()`` by id.

    Args:
        ctx: the run's context, with network, optimizer, loss, loaders and epochs filled in.
        callbacks: fresh ``CallbackSet`` instances (sorted by weight here).
        restore: loads network, optimizer and callback states before ``on_begin`` (warm
            start and resume).
        score: turns an epoch's collected outputs and targets into ``{measure id: score}``.
        on_nonfinite: ``"raise"``, ``"warn"`` or ``"ignore"`` a NaN or infinite training loss
            (see :class:`DivergenceGuard`).
        on_interrupt: called on ``KeyboardInterrupt`` (before ``on_exit``) with the number of
            epochs completed, that is whose ``on_epoch_end`` finished; the interrupt then
            propagates.
    """
    callbacks = sort_callbacks(callbacks)
    ctx.callbacks = callbacks
    if ctx.parallel is None:
        ctx.parallel = SingleProcess()
    parallel = ctx.parallel
    caller = StageCaller(callbacks, STAGES)
    call = caller.call  # a plain function: cheaper per call than calling the instance
    network, loss_fn = ctx.network, ctx.loss_fn
    assert network is not None and ctx.optimizer is not None
    guard = DivergenceGuard(on_nonfinite, ctx)
    for cb in callbacks:
        cb.ctx = ctx
    error: BaseException | None = None
    completed = 0
    try:
        ctx.epoch = 0
        ctx.global_step = 0
        if restore is not None:
            restore(ctx)
        completed = ctx.epoch
        call("on_begin")
        ctx.terminate = parallel.any(ctx.terminate)  # every rank starts, or none
        epoch_loss = EpochLoss()
        while not ctx.terminate and ctx.epoch < ctx.total_epochs:
            ctx.epoch += 1
            ctx.stop_epoch = False
            call("on_epoch_begin")
            guard.epoch_begin()
            # what the batches go through: ctx.network, or (data-parallel) its wrapper that
            # averages the gradients over the ranks
            model = parallel.prepare_epoch(network, ctx.epoch)
            model.train()
            ctx.step = 0
            keep_outputs = bool(ctx.measures_train) and evaluates(ctx)
            outputs, targets, indices = [], [], []
            epoch_loss.reset()
            with parallel.uneven_batches(model):
                for batch in ctx.loader_train:
                    ctx.step += 1
                    ctx.global_step += 1
                    ctx.batch = batch
                    ctx.optimizer.zero_grad(set_to_none=True)
                    call("on_batch_begin")
                    x = batch.x  # read after on_batch_begin: a callback may replace it
                    # forward() written out: one function call less in every training batch
                    ctx.y_hat = model(**x) if type(x) is dict else model(x)
                    call("on_after_forward")
                    if batch.weight is None:
                        ctx.loss = loss_fn(ctx.y_hat, batch.y)
                    else:
                        ctx.loss = weighted_loss(loss_fn, ctx.y_hat, batch.y, batch.weight)
                    call("on_after_loss")
                    if guard.diverged(ctx.loss):  # raised, or stops here keeping the finite weights
                        break
                    ctx.loss.backward()
                    call("on_after_backward")
                    ctx.last_loss = ctx.loss  # converted to a float (item()) only when read
                    ctx.optimizer.step()  # read from ctx: a callback may wrap it (e.g. a grad scaler)
                    call("on_batch_end")
                    epoch_loss.add(ctx.loss, batch.index.shape[0])
                    if keep_outputs:
                        outputs.append(ctx.y_hat.detach())
                        targets.append(batch.y)
                        indices.append(batch.index)
                    if ctx.stop_epoch:  # a callback ended this epoch's batches (with terminate: the run)
                        parallel.stopping_early()
                        break
            guard.epoch_end()
            ctx.train_loss = parallel.epoch_loss(epoch_loss)
            if keep_outputs:
                outputs, targets = parallel.gather_rows(outputs, targets, indices)
            ctx.last_scores_train = (
                # no outputs when divergence stopped the epoch at its first batch
                score(ctx, outputs, targets, ctx.measures_train) if outputs and score else None
            )
            call("on_before_valid")
            if ctx.loader_valid is not None and evaluates(ctx):
                network.eval()
                ctx.last_scores_valid = validation_pass(ctx, call, score)
            else:
                ctx.last_scores_valid = None
            call("on_epoch_end")
            ctx.terminate = parallel.any(ctx.terminate)  # all ranks stop after the same epoch
            completed = ctx.epoch
        call("on_end")
        return parallel.finish(network, collect_states(callbacks))
    except KeyboardInterrupt as err:
        error = err
        if on_interrupt is not None:
            on_interrupt(completed)
        raise
    except BaseException as err:
        error = err
        raise
    finally:
        exit_error = caller.call_all("on_exit")
        for cb in callbacks:
            cb.ctx = None  # type: ignore[assignment]
        if exit_error is not None:
            if error is None:
                raise exit_error
            warnings.warn(f"{exit_error} (while handling: {error!r})", RuntimeWarning, stacklevel=2)


class DivergenceGuard:
    """Watches the training loss and the weights for NaN and infinity (``on_nonfinite``).

    The loss is checked after ``on_after_loss`` (a callback may still replace it) and before
    ``backward``; the weights once per epoch, after its last batch. ``"raise"`` raises
    :class:`DivergenceError` naming the epoch (and batch); ``"warn"`` warns, sets
    ``ctx.terminate``, ends the epoch's batch loop and keeps the last finite weights;
    ``"ignore"`` does nothing.

    On the CPU (``per_batch``) the loss is checked every batch, and ``"warn"`` keeps a copy of
    the weights before each optimizer step: a step that made the weights non-finite is undone
    when the next loss (or the end of the epoch) shows it. On an accelerator a flag
    accumulates on the device and is read once per epoch, so training never waits for the
    device per batch; the epoch and not the batch is named, and ``"warn"`` rolls the weights
    back to the start of that epoch.

    Once a callback has set ``ctx.terminate`` (``terminate_on_nan`` does on a non-finite loss,
    and drops the remaining updates), non-finite losses are left to it; non-finite weights at
    the end of an epoch are always reported.
    """

    def __init__(self, policy: str, ctx: ContextTorch, per_batch: bool | None = None) -> None:
        self.policy = policy
        self.ctx = ctx
        self.per_batch = ctx.device.type == "cpu" if per_batch is None else per_batch
        self._flag: torch.Tensor | None = None
        #: ``"warn"``: finite weights to go back to (before the last step, or the epoch start)
        self._finite_weights: dict[str, torch.Tensor] | None = None
        #: set once the guard has stopped the run (``"warn"``): it then stays quiet
        self.stopped = False

    def epoch_begin(self) -> None:
        if self.policy == "ignore" or self.per_batch or self.stopped:
            return
        self._flag = torch.zeros((), dtype=torch.bool, device=self.ctx.device)
        if self.policy == "warn":
            self._keep_weights()

    def diverged(self, loss: torch.Tensor) -> bool:
        """After each training batch's loss: ``True`` when the batch loop must stop now."""
        if self.policy == "ignore" or self.stopped:
            return False
        if not self.per_batch:
            assert self._flag is not None
            self._flag |= ~torch.isfinite(loss.detach()).all()
            return False
        # on the CPU reading the scalar is free (no device to wait for) and ~10x cheaper than
        # isfinite().all() on a tensor, which would cost several percent of a small batch;
        # item() rather than float(): float() of a tensor that requires grad warns
        if loss.numel() == 1:
            finite = math.isfinite(loss.item())
        else:
            finite = bool(torch.isfinite(loss.detach()).all())
        if finite:
            if self.policy == "warn":
                self._keep_weights()  # the weights before this batch's step
            return False
        if self.ctx.terminate:
            return False
        value = float(loss.detach().float().mean())
        return self._stop(
            f"The training loss is {value} at epoch {self.ctx.epoch}, batch {self.ctx.step}",
            roll_back=not self._weights_finite(),
        )

    def epoch_end(self) -> None:
        """After the epoch's batches: act on a non-finite loss (accelerator) or weights."""
        if self.policy == "ignore":
            return
        flag, self._flag = self._flag, None
        if self.stopped:
            return
        if flag is not None and bool(flag) and not self.ctx.terminate:
            self._stop(f"The training loss was NaN or infinite in epoch {self.ctx.epoch}", roll_back=True)
        elif not self._weights_finite():
            where = f", batch {self.ctx.step}" if self.per_batch else ""
            self._stop(
                f"The network's weights became NaN or infinite at epoch {self.ctx.epoch}{where}",
                roll_back=True,
            )

    def _weights_finite(self) -> bool:
        network = self.ctx.network
        assert network is not None
        tensors = [t for t in network.state_dict().values() if t.is_floating_point() or t.is_complex()]
        if not tensors:
            return True
        # One NaN or infinity makes a sum NaN or infinite, so a finite sum of all weights
        # proves them finite with one reduction per tensor; a sum that overflows takes the
        # exact check. On the CPU each sum is read as it is made (nothing to wait for; fewer
        # torch calls than stacking them, ~70 µs less per epoch).
        with torch.no_grad():
            if self.per_batch:
                finite = math.isfinite(sum(abs(t.sum().item()) for t in tensors))
            else:  # one device sync for the whole network
                finite = bool(torch.stack([t.sum() for t in tensors]).sum().isfinite())
            return finite or bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all())

    def _keep_weights(self) -> None:
        network = self.ctx.network
        assert network is not None
        state = network.state_dict()
        kept = self._finite_weights
        if kept is None or kept.keys() != state.keys() or any(
            kept[k].shape != v.shape or kept[k].dtype != v.dtype for k, v in state.items()
        ):
            self._finite_weights = {k: v.detach().clone() for k, v in state.items()}
        else:  # reuse the buffers: one copy per batch, no allocation
            for k, v in state.items():
                kept[k].copy_(v)

    def _stop(self, message: str, roll_back: bool) -> bool:
        if self.policy == "raise":
            raise DivergenceError(
                f"{message}: training diverged. Lower the learning rate, clip gradients "
                f"(t_clbk('gradient_clip')) or set on_nonfinite='warn' to keep the last finite "
                f"weights"
            )
        kept = ", keeping the last finite weights"
        if roll_back and self._finite_weights is not None:
            assert self.ctx.network is not None
            self.ctx.network.load_state_dict(self._finite_weights)
        elif roll_back:
            kept = "; this run had no finite weights to go back to"
        warnings.warn(f"{message}: training diverged and stops{kept}", RuntimeWarning, stacklevel=4)
        self.ctx.terminate = True
        self.stopped = True
        self._finite_weights = None
        return True


def validation_pass(
    ctx: ContextTorch,
    call: Callable[[str], None],
    score: ScoreFn | None,
    weights: torch.Tensor | None = None,
) -> dict[str, float]:
    """Forward ``ctx.loader_valid`` without gradients, calling ``EVALUATE_STAGES``; the scores.

    The network must already be in eval mode. Used by training (in evaluation epochs) and by
    ``learner.evaluate()``; ``ctx.last_scores_valid`` holds the scores at ``on_valid_end``.
    """
    network, loss_fn = ctx.network, ctx.loss_fn
    assert network is not None
    call("on_valid_begin")
    outputs, targets, indices = [], [], []
    for batch in ctx.loader_valid:
        ctx.batch = batch
        call("on_batch_valid_begin")
        with torch.no_grad():
            ctx.y_hat = forward(network, batch.x)
            ctx.loss = loss_fn(ctx.y_hat, batch.y)  # a tensor: read it only when needed
        call("on_batch_valid_end")
        # detached: a forward returning a view of a parameter (an expand) still requires grad
        # under no_grad
        outputs.append(ctx.y_hat.detach())
        targets.append(batch.y)
        indices.append(batch.index)
    if ctx.parallel is not None:  # the scores of every rank's rows, equal on every rank
        outputs, targets = ctx.parallel.gather_rows(outputs, targets, indices)
    ctx.last_scores_valid = validation_scores(ctx, outputs, targets, score, weights)
    call("on_valid_end")
    return ctx.last_scores_valid


def validation_scores(
    ctx: ContextTorch,
    outputs: list[torch.Tensor],
    targets: list[torch.Tensor],
    score: Callable[..., dict[str, float]] | None,
    weights: torch.Tensor | None = None,
) -> dict[str, float]:
    """``{"loss": mean validation loss, <measure id>: score, ...}``; the mean is weighted by
    ``weights`` (one per row) when given, which needs a loss with a ``reduction``."""
    y_hat, y = torch.cat(outputs), torch.cat(targets)
    with torch.no_grad():
        if weights is None:
            loss = ctx.loss_fn(y_hat, y)
        else:
            per_row = copy.copy(ctx.loss_fn)
            per_row.reduction = "none"
            loss = (per_row(y_hat, y).reshape(len(y), -1).mean(1) * (weights / weights.sum())).sum()
        scores = {"loss": float(loss.item())}
    if ctx.measures_valid and score is not None:
        scores.update(score(ctx, [y_hat], [y], ctx.measures_valid))
    return scores


def evaluate_loop(
    ctx: ContextTorch,
    callbacks: list[CallbackSet],
    score: ScoreFn | None,
    weights: torch.Tensor | None = None,
) -> dict[str, float]:
    """Score the trained ``ctx.network`` on ``ctx.loader_valid``, calling ``EVALUATE_STAGES``.

    ``ctx`` holds the network, ``loss_fn``, ``loader_valid`` and ``measures_valid``; the
    callbacks are fresh instances with their saved state loaded. ``ctx.phase`` is
    ``"evaluate"`` while they run.
    """
    assert ctx.network is not None
    callbacks = sort_callbacks(callbacks)
    ctx.callbacks, ctx.phase = callbacks, "evaluate"
    call = StageCaller(callbacks, EVALUATE_STAGES).call
    for cb in callbacks:
        cb.ctx = ctx
    try:
        ctx.network.eval()
        return validation_pass(ctx, call, score, weights)
    finally:
        for cb in callbacks:
            cb.ctx = None  # type: ignore[assignment]


def predict_loop(
    network: torch.nn.Module, loader: Any, callbacks: list[CallbackSet], ctx: ContextTorch
) -> torch.Tensor:
    """Forward every batch without gradients, calling the prediction stages."""
    call = StageCaller(callbacks, PREDICT_STAGES).call
    ctx.loader_predict = loader
    ctx.phase = "predict"
    for cb in callbacks:
        cb.ctx = ctx
    try:
        network.eval()
        call("on_predict_begin")
        outputs = []
        with torch.no_grad():
            for batch in loader:
                ctx.batch = batch
                call("on_predict_batch_begin")
                ctx.y_hat = forward(network, batch.x)
                call("on_predict_batch_end")
                outputs.append(ctx.y_hat.detach())
            ctx.prediction = torch.cat(outputs) if outputs else torch.empty(0)
        call("on_predict_end")
        return ctx.prediction
    finally:
        for cb in callbacks:
            cb.ctx = None  # type: ignore[assignment]
