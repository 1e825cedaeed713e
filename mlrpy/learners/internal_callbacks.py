"""Callbacks a learner adds itself, and the printed loop overview.

Every run records a ``history`` (id ``history``), as Keras always returns a ``History``,
unless the learner's callbacks already include one (then that one, with its parameters).
``patience > 0`` adds early stopping (id ``early_stopping``, weight 1000) configured from the
learner's ``patience``, ``min_delta`` and ``restore_best_weights``.
"""

from __future__ import annotations

from typing import Any

from mlrpy.callbacks import TorchCallback, as_torch_callbacks, t_clbk
from mlrpy.callbacks.base import PREDICT_STAGES, STAGES, sort_callbacks
from mlrpy.callbacks.early_stopping import CallbackSetEarlyStopping
from mlrpy.errors import ParameterError

__all__ = ["internal_callbacks", "print_training_loop"]


def internal_callbacks(learner: Any, has_validation: bool) -> list[TorchCallback]:
    """``history`` unless the learner has one, and the early stopping ``patience > 0`` asks for.

    Early stopping, internal or attached explicitly, needs validation data, and ``patience``
    must not duplicate an explicitly attached early-stopping callback.
    """
    attached = as_torch_callbacks(learner.callbacks)
    history = [] if any(tc.id == "history" for tc in attached) else [t_clbk("history")]
    explicit = [
        tc for tc in attached
        if tc.id == "early_stopping" or issubclass(tc.generator, CallbackSetEarlyStopping)
    ]
    if (learner.patience > 0 or explicit) and not has_validation:
        what = f"patience={learner.patience}" if learner.patience > 0 else f"callback '{explicit[0].id}'"
        raise ParameterError(
            f"Learner '{learner.id}': early stopping ({what}) needs validation data, but "
            f"validate=None and no validation_data was given; set validate to a fraction "
            f"(e.g. 0.2), 'predefined', or 'test' inside resample(), or pass "
            f"fit(..., validation_data=(X_valid, y_valid))"
        )
    if learner.patience == 0:
        return history
    if explicit:
        raise ParameterError(
            f"Learner '{learner.id}': patience={learner.patience} adds an internal "
            f"'early_stopping' callback, but callback '{explicit[0].id}' already does early "
            f"stopping; use either patience= or the explicit callback (with patience=0)"
        )
    return [
        *history,
        t_clbk(
            "early_stopping",
            patience=int(learner.patience),
            min_delta=float(learner.min_delta),
            restore_best_weights=bool(learner.restore_best_weights),
        ),
    ]


def print_training_loop(learner_id: str, descriptors: list[TorchCallback]) -> None:
    """Print each stage with the callbacks that run there, in call order (weights in brackets)."""
    instances = []
    for tc in descriptors:  # bare instances: the stages and weights are all that is needed
        cb = tc.generator.__new__(tc.generator)
        cb.id = tc.id
        cb.weight = tc.effective_weight  # type: ignore[misc]
        instances.append(cb)
    ordered = sort_callbacks(instances)

    def line(stage: str) -> str:
        here = [f"{cb.id} [{cb.weight:g}]" for cb in ordered if hasattr(cb, stage)]
        return f"  {stage}: {', '.join(here) or '-'}"

    print(f"Training loop of '{learner_id}' (callbacks in call order, [weight]):")
    for stage in STAGES:
        print(line(stage))
    print("Prediction:")
    for stage in PREDICT_STAGES:
        print(line(stage))
