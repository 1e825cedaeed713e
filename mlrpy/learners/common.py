"""The constructor parameters every torch learner shares: their constraints and their docs.

Each learner family writes the shared parameters into its ``__init__`` signature (scikit-learn
reads parameter names and defaults from there); what each accepts is declared once, here, in
:data:`SHARED_CONSTRAINTS`, and a family adds its architecture parameters on top.
"""

from __future__ import annotations

from typing import Any

from mlrpy.learners.constraints import (
    AnyValue,
    Boolean,
    Constraint,
    Device,
    Interval,
    OneOf,
    Options,
    is_path,
)

__all__ = ["BACKENDS", "COMMON_PARAMS_DOC", "DEVICES", "SHARED_CONSTRAINTS", "STRATEGIES", "store_params"]

DEVICES = ("auto", "cpu", "cuda", "mps")
#: ``strategy``: how one training uses several processes (``None``: it does not)
STRATEGIES = ("ddp",)
#: ``backend``: torch.distributed's communication backends (``None``: gloo on CPUs, nccl on GPUs)
BACKENDS = ("gloo", "nccl")

SHARED_CONSTRAINTS: dict[str, Constraint] = {
    "epochs": Interval(int, 0),
    "batch_size": Interval(int, 1),
    "optimizer": AnyValue("a registry key, a torch.optim class or t_opt(...)"),
    "loss": AnyValue("None, a registry key, a torch.nn loss class or instance, or t_loss(...)"),
    "callbacks": AnyValue("None, a TorchCallback, a registry key or a list of them"),
    "device": Device(DEVICES),
    "num_threads": OneOf([Interval(int, 1)], none_ok=True),
    "random_state": AnyValue("None, an int or a numpy RandomState"),
    "shuffle": Boolean(),
    "eval_freq": Interval(int, 1),
    "predict_type": Options(("response", "prob")),
    "validate": OneOf(
        [Interval(float, 0, 1, closed="neither"), Options(("predefined", "test"))],
        description="None, a fraction in (0, 1), 'predefined' or 'test'",
        none_ok=True,
    ),
    "measures_train": AnyValue("None, a measure key or object, or a list of them"),
    "measures_valid": AnyValue("None, a measure key or object, or a list of them"),
    "patience": Interval(int, 0),
    "min_delta": Interval(float, 0),
    "restore_best_weights": Boolean(),
    "warm_start": Boolean(),
    "resume": OneOf(
        [Boolean()], description="None, True/False or a folder path", none_ok=True, extra=is_path
    ),
    "on_nonfinite": Options(("raise", "warn", "ignore")),
    "num_workers": Interval(int, 0),
    "pin_memory": Boolean(),
    "drop_last": Boolean(),
    "batch_size_predict": OneOf([Interval(int, 1)], none_ok=True),
    "strategy": OneOf([Options(STRATEGIES)], description="None or 'ddp'", none_ok=True),
    "devices": Interval(int, 1),
    "backend": OneOf([Options(BACKENDS)], description="None, 'gloo' or 'nccl'", none_ok=True),
}

COMMON_PARAMS_DOC = """
    Training parameters (shared by every torch learner):
        epochs: number of epochs to train (0 trains nothing).
        batch_size: rows per mini-batch.
        optimizer: registry key (``"adam"``, ``"adamw"``, ``"sgd"``, ``"rmsprop"``,
            ``"adagrad"``), a ``torch.optim`` class or ``t_opt(...)``; its parameters are
            ``opt.<param>``.
        loss: registry key, ``t_loss(...)`` (parameters ``loss.<param>``), a ``torch.nn`` loss
            class or a loss instance (each fit uses a deep copy of it); ``None`` uses
            ``cross_entropy`` for classification and ``mse`` for regression.
        callbacks: list of ``TorchCallback`` objects or registry keys; parameters are
            ``cb.<id>.<param>``.
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"``
            (the N-th GPU), ``"mps"`` or a ``torch.device``; a device this machine lacks is a
            ``ParameterError`` when training starts.
        num_threads: torch CPU threads used while training and predicting; ``None`` (the
            default) leaves torch's own setting (``torch.set_num_threads``) alone.
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
        on_nonfinite: what a NaN or infinite training loss does: ``"raise"`` a
            ``DivergenceError`` (the learner keeps its previous state), ``"warn"`` (stop, keep
            the last finite weights and warn) or ``"ignore"``.
        num_workers: worker processes that load a Dataset's items (0: in the main process);
            in-memory data never needs them.
        pin_memory: page-lock a Dataset's batches before they go to a CUDA device.
        drop_last: leave out the last training batch of an epoch when it is smaller than
            ``batch_size``.
        batch_size_predict: rows per batch in validation, ``evaluate`` and ``predict``;
            ``None`` uses ``batch_size`` (a table's ``predict`` then uses at least 1024).
        strategy: ``None`` trains in this process; ``"ddp"`` trains on ``devices`` processes
            with torch's DistributedDataParallel: each process trains on its shard of every
            epoch and the gradients are averaged (``fit`` starts the processes itself, or
            joins the group ``torchrun`` set up). ``batch_size`` is per process, so a step
            sees ``batch_size * devices`` rows.
        devices: processes of a ``"ddp"`` run, one per GPU on CUDA (ignored without a
            strategy).
        backend: ``torch.distributed`` backend of a ``"ddp"`` run; ``None`` uses ``"gloo"``
            on the CPU and ``"nccl"`` on CUDA.
"""


def store_params(obj: Any, params: dict[str, Any]) -> None:
    """Store constructor arguments untouched (scikit-learn's rule); validation is in ``fit``."""
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(obj, name, value)
