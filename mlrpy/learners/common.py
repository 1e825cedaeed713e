"""The constructor parameters every torch learner shares, documented once."""

from __future__ import annotations

from typing import Any

COMMON_PARAMS_DOC = """
    Training parameters (shared by every torch learner):
        epochs: number of epochs to train (0 trains nothing).
        batch_size: rows per mini-batch.
        optimizer: registry key (``"adam"``, ``"adamw"``, ``"sgd"``, ``"rmsprop"``,
            ``"adagrad"``), a ``torch.optim`` class or ``t_opt(...)``; its parameters are
            ``opt.<param>``.
        loss: registry key or ``t_loss(...)``; ``None`` uses ``cross_entropy`` for
            classification and ``mse`` for regression; parameters are ``loss.<param>``.
        callbacks: list of ``TorchCallback`` objects or registry keys; parameters are
            ``cb.<id>.<param>``.
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"`` or ``"mps"``.
        num_threads: torch CPU threads used while training and predicting.
        random_state: ``None`` draws a seed (recorded in ``model.seed``); an int reproduces.
        shuffle: reshuffle the training rows every epoch.
        eval_freq: evaluate every ``eval_freq`` epochs (the last epoch always evaluates).
        predict_type: ``"response"`` or, for classification, ``"prob"``.
        validate: ``None``, a fraction of the training rows held out for validation, or
            ``"predefined"`` (the task's ``internal_valid_task``); inside ``resample()`` also
            ``"test"`` (the resampling's test rows).
        measures_train, measures_valid: measure keys or objects scored on the training
            predictions and the validation data in evaluation epochs (``ctx.last_scores_*``,
            ``history`` columns ``train.<id>`` / ``valid.<id>``).
        patience: early stopping after this many evaluations without improvement of the first
            validation measure (or the validation loss); 0 disables it.
        min_delta: the smallest change that counts as an improvement.
        restore_best_weights: after early stopping, keep the best epoch's weights.
        warm_start: ``fit`` continues from the current model for ``epochs`` more epochs.
        resume: ``True`` (the checkpoint callback's folder) or a path: continue a run from its
            newest complete checkpoint.
"""


def store_params(obj: Any, params: dict[str, Any]) -> None:
    """Store constructor arguments untouched (scikit-learn's rule); validation is in ``fit``."""
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(obj, name, value)
