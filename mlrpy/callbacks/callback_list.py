"""``CallbackList``: drive mlrpy callbacks from a hand-written PyTorch loop (as in Keras).

The learner's loop is one way to call the stages; a script with its own loop can call the same
callbacks through a ``CallbackList``: it builds and orders them exactly as a learner does, owns
the :class:`ContextTorch` they read and write, and checks, the first time a stage is called,
that the loop filled every field the callbacks there declare in ``reads``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import torch

from mlrpy.callbacks.base import ALL_STAGES, PREDICT_STAGES, STAGES, CallbackSet, sort_callbacks
from mlrpy.callbacks.checkpoint import checkpoint_files, read_checkpoint, restore_rng_states
from mlrpy.callbacks.context import ContextTorch
from mlrpy.callbacks.dispatch import StageCaller, collect_states
from mlrpy.callbacks.registry import as_torch_callbacks
from mlrpy.callbacks.running_mean import EpochLoss
from mlrpy.dictionary import suggest
from mlrpy.errors import CheckpointError, ParameterError

__all__ = ["FILLED_AT", "CallbackList"]

_TRAIN_BATCH = STAGES[STAGES.index("on_batch_begin") : STAGES.index("on_batch_end") + 1]

#: Per-step fields and the stages at which the training (or prediction) loop has always filled
#: them; any other field a callback reads must be set at every stage but ``on_exit``.
FILLED_AT: Mapping[str, tuple[str, ...]] = {
    "batch": (*_TRAIN_BATCH, "on_batch_valid_begin", "on_batch_valid_end", "on_predict_batch_begin",
              "on_predict_batch_end"),
    "y_hat": (*_TRAIN_BATCH[1:], "on_batch_valid_end", "on_predict_batch_end"),
    "loss": (*_TRAIN_BATCH[2:], "on_batch_valid_end"),
    "last_loss": ("on_batch_end", "on_before_valid", "on_epoch_end"),
    "last_scores_valid": ("on_valid_end",),
    "last_scores_train": (),  # None whenever no training measures are scored
    "loader_valid": ("on_valid_begin", "on_batch_valid_begin", "on_batch_valid_end", "on_valid_end"),
    "prediction": ("on_predict_end",),
    "loader_predict": PREDICT_STAGES,
    # training fields: a prediction has none of them
    **dict.fromkeys(("optimizer", "loader_train", "loss_fn", "total_epochs"), STAGES[:-1]),
}


class CallbackList:
    """Callbacks for a hand-written loop: ``cl.on_epoch_end()`` calls that stage on all of them.

    Args:
        callbacks: anything a learner's ``callbacks=`` accepts: ids, ``t_clbk(...)``
            descriptors, ``CallbackSet`` classes, or a list of them. Fresh instances are built
            and stably sorted by weight, with the learner's checks (unique ids, no stateful
            callback after the checkpoint).
        **context_fields: initial :class:`ContextTorch` fields (``network=``,
            ``optimizer=``, ``total_epochs=``, ...). The loop keeps ``cl.ctx`` up to date
            (``epoch``, ``step``, ``batch``, ``loss``, ``last_loss``, ``last_scores_valid``, ...)
            and reads ``cl.ctx.terminate`` and ``cl.ctx.stop_epoch``. Like the learner's
            loop, the list sets ``ctx.train_loss`` (the epoch's mean of ``ctx.loss`` at
            ``on_batch_end``, weighted by batch size) before ``on_before_valid`` and
            ``on_epoch_end``, unless the loop set it itself.

    ``with cl:`` calls ``on_exit`` on the way out, also after an error. ``cl.state_dicts()``
    is what ``learner.model.callbacks`` would hold; ``cl.restore(folder)`` continues from
    the newest checkpoint the ``checkpoint`` callback wrote there.

    Example:
        >>> import torch
        >>> from mlrpy import CallbackList
        >>> net = torch.nn.Linear(2, 1)
        >>> cl = CallbackList(["history"], network=net, total_epochs=2,
        ...                   optimizer=torch.optim.SGD(net.parameters(), lr=0.1))
        >>> with cl:
        ...     cl.on_begin()
        ...     for epoch in (1, 2):
        ...         cl.ctx.epoch = epoch
        ...         cl.on_epoch_begin()
        ...         cl.ctx.last_scores_valid = {"loss": 1.0 / epoch}
        ...         cl.on_epoch_end()
        ...     cl.on_end()
        >>> cl.state_dicts()["history"]["valid.loss"].tolist()
        [1.0, 0.5]
    """

    def __init__(self, callbacks: Any, **context_fields: Any) -> None:
        built = [tc.generate() for tc in as_torch_callbacks(callbacks)]
        self.callbacks: list[CallbackSet] = sort_callbacks(built)
        self.ctx = ContextTorch(**context_fields)
        self.ctx.callbacks = self.callbacks
        for cb in self.callbacks:
            cb.ctx = self.ctx
        self._caller = StageCaller(self.callbacks, ALL_STAGES)
        self._call = self._caller.call
        self._epoch_loss = EpochLoss()
        #: stage -> (callback id, fields to check) still to verify on that stage's first call
        self._unchecked: dict[str, list[tuple[str, list[str]]]] = {}
        for stage in ALL_STAGES:
            if stage == "on_exit":
                continue
            for cb in self.callbacks:
                fields = [f for f in cb.reads if stage in FILLED_AT.get(f, ALL_STAGES)]
                if hasattr(cb, stage) and fields:
                    self._unchecked.setdefault(stage, []).append((cb.id, fields))

    def call(self, stage: str) -> None:
        """Call ``stage`` on every callback that defines it, in weight order."""
        if stage not in self._caller.dispatch:
            raise ParameterError(
                f"'{stage}' is not a stage.{suggest(stage, ALL_STAGES)} Stages: {', '.join(ALL_STAGES)}"
            )
        pending = self._unchecked.pop(stage, None)
        if pending:
            self._check_filled(stage, pending)
        ctx = self.ctx
        if stage == "on_epoch_begin":
            ctx.train_loss = None
            self._epoch_loss.reset()
        elif stage in ("on_before_valid", "on_epoch_end") and ctx.train_loss is None:
            ctx.train_loss = self._epoch_loss.value()
        self._call(stage)
        if stage == "on_batch_end" and ctx.loss is not None and ctx.batch is not None:
            self._epoch_loss.add(torch.as_tensor(ctx.loss), len(ctx.batch.index))

    def _check_filled(self, stage: str, pending: list[tuple[str, list[str]]]) -> None:
        for callback_id, fields in pending:
            missing = [f for f in fields if getattr(self.ctx, f, None) is None]
            if missing:
                self._unchecked[stage] = pending  # checked again at the next call
                names = ", ".join(f"ctx.{f}" for f in missing)
                raise ParameterError(
                    f"Callback '{callback_id}' reads {names} at {stage}, but the loop left "
                    f"{'them' if len(missing) > 1 else 'it'} None; "
                    f"set cl.{names.split(', ')[0]} before calling {stage}"
                )

    def state_dicts(self) -> dict[str, Any]:
        """Each callback's non-``None`` ``state_dict()`` by id (``learner.model.callbacks``)."""
        return collect_states(self.callbacks)

    def restore(self, folder: str | Path) -> bool:
        """Continue from the newest checkpoint in ``folder``: loads the network, optimizer,
        callback states, ``ctx.epoch``, ``ctx.global_step`` and the RNG states, and sets
        ``ctx.resumed_from``. Returns ``False`` (changing nothing) when there is none yet."""
        files = checkpoint_files(Path(folder))
        if not files:
            return False
        payload = read_checkpoint(files[-1][1])
        ctx = self.ctx
        if ctx.network is None or ctx.optimizer is None:
            raise CheckpointError("CallbackList.restore needs ctx.network and ctx.optimizer to load into")
        ctx.network.load_state_dict(payload["network"])
        ctx.optimizer.load_state_dict(payload["optimizer"])
        states: dict[str, dict[str, Any]] = payload["callbacks"]
        for cb in self.callbacks:
            if states.get(cb.id, {}).get("state") is not None:
                cb.load_state_dict(copy.deepcopy(states[cb.id]["state"]))
        ctx.epoch, ctx.global_step = int(payload["epoch"]), int(payload["global_step"])
        scores = payload.get("scores") or {}
        ctx.last_scores_train, ctx.last_scores_valid = scores.get("train"), scores.get("valid")
        ctx.last_loss = scores.get("last_loss")
        ctx.resumed_from = Path(folder)
        restore_rng_states(payload["rng"])
        return True

    def __enter__(self) -> CallbackList:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        exit_error = self._caller.call_all("on_exit")
        if exit_error is not None and error is None:
            raise exit_error

    # one method per stage, so a loop reads like the diagram: cl.on_batch_end()
    def on_begin(self) -> None:
        self.call("on_begin")

    def on_epoch_begin(self) -> None:
        self.call("on_epoch_begin")

    def on_batch_begin(self) -> None:
        self.call("on_batch_begin")

    def on_after_forward(self) -> None:
        self.call("on_after_forward")

    def on_after_loss(self) -> None:
        self.call("on_after_loss")

    def on_after_backward(self) -> None:
        self.call("on_after_backward")

    def on_batch_end(self) -> None:
        self.call("on_batch_end")

    def on_before_valid(self) -> None:
        self.call("on_before_valid")

    def on_valid_begin(self) -> None:
        self.call("on_valid_begin")

    def on_batch_valid_begin(self) -> None:
        self.call("on_batch_valid_begin")

    def on_batch_valid_end(self) -> None:
        self.call("on_batch_valid_end")

    def on_valid_end(self) -> None:
        self.call("on_valid_end")

    def on_epoch_end(self) -> None:
        self.call("on_epoch_end")

    def on_end(self) -> None:
        self.call("on_end")

    def on_exit(self) -> None:
        self.call("on_exit")

    def on_predict_begin(self) -> None:
        self.call("on_predict_begin")

    def on_predict_batch_begin(self) -> None:
        self.call("on_predict_batch_begin")

    def on_predict_batch_end(self) -> None:
        self.call("on_predict_batch_end")

    def on_predict_end(self) -> None:
        self.call("on_predict_end")

    def __repr__(self) -> str:
        return f"<CallbackList> {', '.join(cb.id for cb in self.callbacks) or 'no callbacks'}"


