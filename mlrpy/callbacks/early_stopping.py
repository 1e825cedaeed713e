"""``early_stopping``: stop training when a validation score stops improving.

Learners add this callback themselves (id ``early_stopping``) when ``patience > 0``; it can
also be attached explicitly with ``t_clbk("early_stopping", patience=...)``. Either way it
needs validation data (``validate=...`` or ``fit(..., validation_data=...)``).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from pydantic import Field

from mlrpy.callbacks.base import CallbackSet, TorchCallback
from mlrpy.errors import ParameterError
from mlrpy.params import ParamModel

__all__ = ["CallbackSetEarlyStopping", "EarlyStoppingParams", "early_stopping"]


class EarlyStoppingParams(ParamModel):
    patience: int = Field(1, ge=1, description="evaluations without improvement before stopping")
    min_delta: float = Field(0.0, ge=0, description="smallest change that counts as an improvement")
    restore_best_weights: bool = Field(False, description="load the best evaluation's weights at the end")
    monitor: str | None = Field(
        None, description="validation measure id or 'loss'; default: the first validation measure"
    )


class CallbackSetEarlyStopping(CallbackSet):
    """Stops training after ``patience`` evaluations without improvement (mlr3torch's
    internal early stopping).

    Only evaluation epochs count (those with validation scores, see ``eval_freq``). The
    monitored score is ``monitor`` (a validation measure id or ``"loss"``); by default the
    first of the learner's ``measures_valid``, or the validation loss when there are none.
    Whether lower is better comes from the measure's ``minimize`` (the loss is minimised). A
    score improves on the best so far when it is better by more than ``min_delta``; after
    ``patience`` evaluations in a row without improvement the callback sets
    ``ctx.terminate = True`` (the epoch still finishes).

    With ``restore_best_weights`` the network's weights of the best evaluation are copied and
    loaded back at ``on_end``, and ``ctx.last_scores_valid`` (so the learner's
    ``internal_valid_scores``) is set to that evaluation's scores.

    State (``learner.model.callbacks["early_stopping"]``): a dict with ``best_epoch``,
    ``best_score``, ``best_scores``, ``stagnation``, ``monitor`` and ``minimize``. The
    learner's ``internal_tuned_values`` is ``{"epochs": best_epoch}``.

    Args:
        patience: evaluations without improvement before stopping (>= 1).
        min_delta: the smallest change that counts as an improvement (>= 0).
        restore_best_weights: load the best evaluation's weights when training ends.
        monitor: a validation measure id or ``"loss"``; ``None`` picks the default above.

    Example:
        >>> from mlrpy import lrn, tsk
        >>> # a tiny learning rate: the validation loss never improves by min_delta
        >>> learner = lrn("classif.mlp", epochs=50, patience=2, min_delta=0.01, validate=0.3,
        ...               random_state=0, **{"opt.lr": 1e-6})
        >>> _ = learner.train(tsk("iris"))
        >>> learner.model.epochs, learner.internal_tuned_values
        (3, {'epochs': 1})
    """

    weight = 1000

    def __init__(
        self,
        patience: int = 1,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
        monitor: str | None = None,
    ) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best_weights = restore_best_weights
        self.monitor = monitor
        self.minimize = True
        self.best_epoch: int | None = None
        self.best_score: float | None = None
        self.best_scores: dict[str, float] | None = None
        self.stagnation = 0
        self.best_weights: dict[str, torch.Tensor] | None = None

    def on_begin(self) -> None:
        ctx = self.ctx
        if ctx.loader_valid is None:
            raise ParameterError(
                f"Callback '{self.id}' needs validation data, but this run has none; set "
                "validate= (a fraction, 'predefined', or 'test' inside resample()) or pass "
                "fit(..., validation_data=(X_valid, y_valid))"
            )
        measures = {m.id: m for m in ctx.measures_valid}
        if self.monitor is None:
            self.monitor = next(iter(measures), "loss")
        if self.monitor == "loss":
            self.minimize = True
        elif self.monitor in measures:
            self.minimize = bool(measures[self.monitor].minimize)
        else:
            valid = ["loss", *measures]
            raise ParameterError(
                f"Callback '{self.id}': monitor={self.monitor!r} is not a validation score; "
                f"valid: {', '.join(repr(v) for v in valid)} (add the measure to measures_valid)"
            )

    def _improves(self, score: float) -> bool:
        if math.isnan(score):
            return False
        if self.best_score is None or math.isnan(self.best_score):
            return True
        if self.minimize:
            return score < self.best_score - self.min_delta
        return score > self.best_score + self.min_delta

    def on_epoch_end(self) -> None:
        ctx = self.ctx
        scores = ctx.last_scores_valid
        if scores is None:  # not an evaluation epoch
            return
        score = float(scores[self.monitor])  # type: ignore[index]
        if self._improves(score):
            self.best_epoch = ctx.epoch
            self.best_score = score
            self.best_scores = dict(scores)
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


early_stopping = TorchCallback(
    "early_stopping",
    CallbackSetEarlyStopping,
    param_set=EarlyStoppingParams,
    label="Early Stopping",
    man=CallbackSetEarlyStopping.__doc__,
)
