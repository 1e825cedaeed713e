"""``early_stopping``: stop training when a validation score stops improving.

Learners add this callback themselves (id ``early_stopping``) when ``patience > 0``; it can
also be attached explicitly with ``t_clbk("early_stopping", patience=...)``. Either way it
needs validation data (``validate=...`` or ``fit(..., validation_data=...)``).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import torch
from pydantic import Field

from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.monitor import CallbackSetMonitor, MinDelta, Mode, Monitor
from mlrpy.callbacks.registry import mlr_callbacks

__all__ = ["CallbackSetEarlyStopping", "early_stopping"]


class CallbackSetEarlyStopping(CallbackSetMonitor):
    """Stops training after ``patience`` evaluations without improvement (mlr3torch's
    internal early stopping).

    Only evaluation epochs count (those with validation scores, see ``eval_freq``). The
    watched score is ``monitor``: by default the first of the learner's ``measures_valid``,
    or the validation loss when there are none; whether lower is better comes from the
    measure's ``minimize`` unless ``mode`` says otherwise. A score improves on the best so
    far when it is better by more than ``min_delta`` (NaN never does); after ``patience``
    evaluations in a row without improvement the callback sets ``ctx.terminate = True`` (the
    epoch still finishes). Resuming a run that early stopping ended trains no further epoch.

    With ``restore_best_weights`` the network's weights of the best evaluation are copied and
    loaded back at ``on_end``, and ``ctx.last_scores_valid`` (so the learner's
    ``internal_valid_scores``) is set to that evaluation's scores.

    State (``learner.model.callbacks["early_stopping"]``): a dict with ``best_epoch``,
    ``best_score``, ``best_scores``, ``stagnation``, ``monitor`` and ``minimize``. The
    learner's ``internal_tuned_values`` is ``{"epochs": best_epoch}``.

    Example:
        >>> from mlrpy import lrn, tsk
        >>> # a tiny learning rate: the validation loss never improves by min_delta
        >>> learner = lrn("classif.mlp", epochs=50, patience=2, min_delta=0.01, validate=0.3,
        ...               random_state=0, **{"opt.lr": 1e-6})
        >>> _ = learner.train(tsk("iris"))
        >>> learner.model.epochs, learner.internal_tuned_values
        (3, {'epochs': 1})
    """

    reads: ClassVar[tuple[str, ...]] = ("epoch", "last_scores_valid")
    writes: ClassVar[tuple[str, ...]] = ("terminate", "network")

    weight = 1000

    def __init__(
        self,
        patience: Annotated[
            int, Field(ge=1, description="evaluations without improvement before training stops")
        ] = 1,
        min_delta: MinDelta = 0.0,
        restore_best_weights: Annotated[
            bool, Field(description="load the best evaluation's weights when training ends")
        ] = False,
        monitor: Monitor = None,
        mode: Mode = "auto",
    ) -> None:
        super().__init__(monitor=monitor, mode=mode, min_delta=min_delta)
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.best_epoch: int | None = None
        self.best_score: float | None = None
        self.best_scores: dict[str, float] | None = None
        self.stagnation = 0
        self.best_weights: dict[str, torch.Tensor] | None = None

    def on_begin(self) -> None:
        self.resolve_monitor()
        if self.stagnation >= self.patience and self.ctx.resumed_from is not None:
            # the interrupted run had already stopped here: resuming it trains nothing more
            self.ctx.terminate = True

    def on_epoch_end(self) -> None:
        ctx = self.ctx
        score = self.current_score()
        if score is None:  # not an evaluation epoch
            return
        if self.improves(score, self.best_score):
            self.best_epoch = ctx.epoch
            self.best_score = score
            self.best_scores = dict(ctx.last_scores_valid)  # type: ignore[arg-type]
            self.stagnation = 0
            if self.restore_best_weights:
                assert ctx.network is not None
                self.best_weights = {
                    k: v.detach().clone() for k, v in ctx.network.state_dict().items()
                }
        else:
            self.stagnation += 1
            if self.stagnation >= self.patience:
                ctx.terminate = True

    def on_end(self) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            ctx = self.ctx
            assert ctx.network is not None
            ctx.network.load_state_dict(self.best_weights)
            if self.best_scores is not None:
                ctx.last_scores_valid = dict(self.best_scores)
            self.best_weights = None  # the network now holds them

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "best_epoch": self.best_epoch,
            "best_score": self.best_score,
            "best_scores": self.best_scores,
            "stagnation": self.stagnation,
            "monitor": self.monitor,
            "minimize": self.minimize,
        }
        if self.best_weights is not None:  # only mid-run (checkpoints)
            state["best_weights"] = self.best_weights
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_epoch = state.get("best_epoch")
        self.best_score = state.get("best_score")
        self.best_scores = state.get("best_scores")
        self.stagnation = int(state.get("stagnation", 0))
        self.monitor = state.get("monitor", self.monitor)
        self.minimize = bool(state.get("minimize", True))
        self.best_weights = state.get("best_weights")


early_stopping = TorchCallback("early_stopping", CallbackSetEarlyStopping, label="Early Stopping")
mlr_callbacks.add(early_stopping)
