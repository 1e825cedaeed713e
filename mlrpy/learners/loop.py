"""The training and prediction loops: where every callback stage is called.

``train_loop`` reads top to bottom like the loop diagram in ``docs/design.md``: every stage of
``STAGES`` is called where the diagram puts it, and nothing happens in between that a callback
could not see. ``predict_loop`` does the same for ``PREDICT_STAGES``. What each stage is for,
and what a callback may change there, is ``mlrpy.callbacks.STAGE_DOCS``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch

from mlrpy.callbacks.base import PREDICT_STAGES, STAGES, CallbackSet, sort_callbacks
from mlrpy.callbacks.context import ContextTorch
from mlrpy.errors import CallbackStageError, DivergenceError

__all__ = ["DivergenceGuard", "StageCaller", "evaluates", "predict_loop", "train_loop"]


ScoreFn = Callable[[ContextTorch, list[torch.Tensor], list[torch.Tensor], list[Any]], dict[str, float]]


class StageCaller:
    """Calls one stage on every callback that defines it, in order.

    The dispatch lists are built once per run: per stage, a tuple of the bound stage methods.
    ``call`` (also reachable by calling the instance) is a plain closure over them, so a
    stage no callback implements costs one function call, one dict lookup and an empty loop,
    and each implemented stage one call of the bound method. An exception in a stage is
    re-raised naming the callback and the stage; ``KeyboardInterrupt`` passes through
    untouched.
    """

    def __init__(self, callbacks: Iterable[CallbackSet], stages: Iterable[str]) -> None:
        callbacks = list(callbacks)
        self.dispatch: dict[str, list[tuple[str, Callable[[], Any]]]] = {
            stage: [(cb.id, getattr(cb, stage)) for cb in callbacks if hasattr(cb, stage)]
            for stage in stages
        }
        dispatch = self.dispatch
        methods = {stage: tuple(m for _, m in pairs) for stage, pairs in dispatch.items()}

        def call(stage: str) -> None:
            method = None
            try:
                for method in methods[stage]:
                    method()
            except Exception as err:
                if method is None:  # an unknown stage: not a callback's fault
                    raise
                owner = next(cid for cid, m in dispatch[stage] if m is method)
                raise CallbackStageError(owner, stage, err) from err

        #: ``call("on_<stage>")``: the per-batch hot path of the training loop.
        self.call: Callable[[str], None] = call

    def __call__(self, stage: str) -> None:
        self.call(stage)

    def call_all(self, stage: str) -> CallbackStageError | None:
        """Call ``stage`` on every callback even if some fail; return the first failure."""
        first: CallbackStageError | None = None
        for callback_id, method in self.dispatch[stage]:
            try:
                method()
            except Exception as err:
                wrapped = CallbackStageError(callback_id, stage, err)
                wrapped.__cause__ = err
                if first is None:
                    first = wrapped
                else:
                    warnings.warn(str(wrapped), RuntimeWarning, stacklevel=2)
        return first


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
        while not ctx.terminate and ctx.epoch < ctx.total_epochs:
            ctx.epoch += 1
            call("on_epoch_begin")
            guard.epoch_begin()
            network.train()
            ctx.step = 0
            keep_outputs = bool(ctx.measures_train) and evaluates(ctx)
            outputs, targets = [], []
            for batch in ctx.loader_train:
                ctx.step += 1
                ctx.global_step += 1
                ctx.batch = batch
                ctx.optimizer.zero_grad(set_to_none=True)
                call("on_batch_begin")
                ctx.y_hat = network(batch.x)
                call("on_after_forward")
                ctx.loss = loss_fn(ctx.y_hat, batch.y)
                call("on_after_loss")
                if guard.diverged(ctx.loss):  # raised, or stops here keeping the finite weights
                    break
                ctx.loss.backward()
                call("on_after_backward")
                ctx.last_loss = ctx.loss.detach()  # converted to float only when read
                ctx.optimizer.step()  # read from ctx: a callback may wrap it (e.g. a grad scaler)
                call("on_batch_end")
                if keep_outputs:
                    outputs.append(ctx.y_hat.detach())
                    targets.append(batch.y)
            guard.epoch_end()
            ctx.last_scores_train = (
                score(ctx, outputs, targets, ctx.measures_train) if keep_outputs and score else None
            )
            call("on_before_valid")
            if ctx.loader_valid is not None and evaluates(ctx):
                network.eval()
                outputs, targets = [], []
                for batch in ctx.loader_valid:
                    ctx.batch = batch
                    call("on_batch_valid_begin")
                    with torch.no_grad():
                        ctx.y_hat = network(batch.x)
                    call("on_batch_valid_end")
                    outputs.append(ctx.y_hat)
                    targets.append(batch.y)
                ctx.last_scores_valid = validation_scores(ctx, outputs, targets, score)
                call("on_valid_end")
            else:
                ctx.last_scores_valid = None
            call("on_epoch_end")
            completed = ctx.epoch
        call("on_end")
        return collect_states(callbacks)
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
    """Watches the training loss for NaN and infinity (learner parameter ``on_nonfinite``).

    The check runs after ``on_after_loss`` (a callback may still replace the loss) and before
    ``backward``, so the weights are still those of the last finite step when it fires. On
    the CPU it checks every batch; on an accelerator it accumulates a flag on the device and
    looks once per epoch, so training never waits for the device per batch (``"warn"`` then
    rolls the weights back to the start of that epoch). ``"raise"`` raises
    :class:`DivergenceError` naming the epoch (and batch); ``"warn"`` warns, sets
    ``ctx.terminate`` and ends the epoch's batch loop; ``"ignore"`` does nothing. Once a
    callback has set ``ctx.terminate`` (``terminate_on_nan`` does on a non-finite loss),
    stopping is in hand and the guard stays quiet.
    """

    def __init__(self, policy: str, ctx: ContextTorch) -> None:
        self.policy = policy
        self.ctx = ctx
        self.per_batch = ctx.device.type == "cpu"
        self._flag: torch.Tensor | None = None
        self._weights: dict[str, torch.Tensor] | None = None

    def epoch_begin(self) -> None:
        if self.policy == "ignore" or self.per_batch:
            return
        self._flag = torch.zeros((), dtype=torch.bool, device=self.ctx.device)
        if self.policy == "warn":
            assert self.ctx.network is not None
            self._weights = {k: v.detach().clone() for k, v in self.ctx.network.state_dict().items()}

    def diverged(self, loss: torch.Tensor) -> bool:
        """After each training batch's loss: ``True`` when the batch loop must stop now."""
        if self.policy == "ignore" or self.ctx.terminate:
            return False
        if not self.per_batch:
            assert self._flag is not None
            self._flag |= ~torch.isfinite(loss.detach()).all()
            return False
        if bool(torch.isfinite(loss.detach()).all()):
            return False
        return self._stop(float(loss.detach().float().mean()), f", batch {self.ctx.step}")

    def epoch_end(self) -> None:
        """Once per epoch on an accelerator: act on a non-finite loss seen during the epoch."""
        if self._flag is not None and bool(self._flag) and not self.ctx.terminate:
            if self._weights is not None:
                assert self.ctx.network is not None
                self.ctx.network.load_state_dict(self._weights)
            self._stop(float("nan"), "")
        self._flag = self._weights = None

    def _stop(self, value: float, where: str) -> bool:
        message = f"The training loss is {value} at epoch {self.ctx.epoch}{where}: training diverged"
        if self.policy == "raise":
            raise DivergenceError(
                f"{message}. Lower the learning rate, clip gradients (t_clbk('gradient_clip')) "
                f"or set on_nonfinite='warn' to keep the last finite weights"
            )
        warnings.warn(f"{message}; training stops, keeping the last finite weights", RuntimeWarning,
                      stacklevel=4)
        self.ctx.terminate = True
        return True


def validation_scores(
    ctx: ContextTorch,
    outputs: list[torch.Tensor],
    targets: list[torch.Tensor],
    score: Callable[..., dict[str, float]] | None,
) -> dict[str, float]:
    """``{"loss": mean validation loss, <measure id>: score, ...}``."""
    y_hat, y = torch.cat(outputs), torch.cat(targets)
    with torch.no_grad():
        scores = {"loss": float(ctx.loss_fn(y_hat, y).item())}
    if ctx.measures_valid and score is not None:
        scores.update(score(ctx, [y_hat], [y], ctx.measures_valid))
    return scores


def collect_states(callbacks: Iterable[CallbackSet]) -> dict[str, Any]:
    """Each callback's ``state_dict()`` by id, leaving out ``None``."""
    states = {}
    for cb in callbacks:
        try:
            state = cb.state_dict()
        except Exception as err:
            raise CallbackStageError(cb.id, "state_dict", err) from err
        if state is not None:
            states[cb.id] = state
    return states


def predict_loop(
    network: torch.nn.Module, loader: Any, callbacks: list[CallbackSet], ctx: ContextTorch
) -> torch.Tensor:
    """Forward every batch without gradients, calling the prediction stages."""
    call = StageCaller(callbacks, PREDICT_STAGES).call
    ctx.loader_predict = loader
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
                ctx.y_hat = network(batch.x)
                call("on_predict_batch_end")
                outputs.append(ctx.y_hat.detach())
            ctx.prediction = torch.cat(outputs) if outputs else torch.empty(0)
        call("on_predict_end")
        return ctx.prediction
    finally:
        for cb in callbacks:
            cb.ctx = None  # type: ignore[assignment]
