"""Exact resume from a checkpoint folder (learner parameter ``resume``).

The newest readable checkpoint is loaded before ``on_begin``: network, optimizer, loop
counters, last scores, callback states (matched by id) and RNG states, so the resumed run
continues bit for bit where the interrupted one stopped. Before anything is loaded or written,
the run's fingerprint must match the checkpoint's (same data, classes, seed and parameters
other than ``epochs``, ``resume`` and ``callbacks``) and ``epochs`` must not be below the
checkpoint's epoch. A run that completed its epochs resumes to the same model without
training or writing anything.
"""

from __future__ import annotations

import copy
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlrpy.callbacks import TorchCallback
from mlrpy.callbacks.checkpoint import (
    CallbackSetCheckpoint,
    checkpoint_files,
    network_signature,
    read_checkpoint,
    resolve_path,
    restore_rng_states,
)
from mlrpy.callbacks.context import ContextTorch
from mlrpy.errors import CheckpointError, CorruptFileError, IncompatibleFileError, ParameterError
from mlrpy.fingerprint import fingerprint_differences, run_fingerprint
from mlrpy.io import user_path
from mlrpy.learners.model import TorchModel

__all__ = ["ResumePoint", "find_resume_checkpoint", "warm_start_restorer"]


def _class_name(path: str) -> str:
    return path.rpartition(":")[2]


@dataclass
class ResumePoint:
    """A checkpoint to continue from: its folder, file and contents."""

    folder: Path
    file: Path
    payload: dict[str, Any]

    def _refuse(self, why: str) -> CheckpointError:
        return CheckpointError(f"Cannot resume from '{self.file}' (nothing was written): {why}")

    def check(self, ctx: ContextTorch) -> None:
        """Raise :class:`CheckpointError` unless ``ctx``'s run may continue from this checkpoint."""
        payload = self.payload
        current = run_fingerprint(ctx)
        differences = fingerprint_differences(payload["fingerprint"], current)
        if differences:
            raise self._refuse(
                f"it belongs to another run ({'; '.join(differences)}; checkpoint vs now). Resume "
                f"with the same data, seed and parameters (only epochs and callbacks may change), "
                f"or start the new run in another folder"
            )
        ctx.run_fingerprint = current  # type: ignore[attr-defined]  # reused by the checkpoint callback
        if payload["epoch"] > ctx.total_epochs:
            raise self._refuse(
                f"it holds epoch {payload['epoch']}, but epochs={ctx.total_epochs}; a resumed run "
                f"cannot go back. Set epochs >= {payload['epoch']} (epochs={payload['epoch']} "
                f"returns the checkpointed model), or start a new run in another folder"
            )
        assert ctx.network is not None
        saved, current_signature = payload["network_signature"], network_signature(ctx.network)
        if saved != current_signature:
            names = set(saved) | set(current_signature)
            differing = sorted(k for k in names if saved.get(k) != current_signature.get(k))
            raise self._refuse(
                f"the network differs from the checkpointed one (parameters "
                f"{differing[:5]}{' ...' if len(differing) > 5 else ''}: saved "
                f"{[saved.get(k) for k in differing[:3]]}, now "
                f"{[current_signature.get(k) for k in differing[:3]]}); use the architecture of "
                f"the interrupted run or another checkpoint folder"
            )
        stored: dict[str, dict[str, Any]] = payload["callbacks"]
        for cb in ctx.callbacks:
            if cb.id in stored and _class_name(stored[cb.id]["class"]) != type(cb).__qualname__:
                raise self._refuse(
                    f"callback '{cb.id}' was a {_class_name(stored[cb.id]['class'])} in the "
                    f"interrupted run but is a {type(cb).__qualname__} now"
                )

    def restore(self, ctx: ContextTorch) -> None:
        """Check, then load everything into the run's context (the loop's restore hook)."""
        self.check(ctx)
        payload = self.payload
        assert ctx.network is not None and ctx.optimizer is not None
        ctx.network.load_state_dict(payload["network"])
        ctx.optimizer.load_state_dict(payload["optimizer"])
        ctx.epoch = payload["epoch"]
        ctx.global_step = payload["global_step"]
        scores = payload["scores"]
        ctx.last_scores_train, ctx.last_scores_valid = scores["train"], scores["valid"]
        ctx.last_loss = scores["last_loss"]
        ctx.resumed_epoch = payload["epoch"]  # type: ignore[attr-defined]  # never rewritten
        stored: dict[str, dict[str, Any]] = payload["callbacks"]
        for cb in ctx.callbacks:
            if cb.id in stored:
                if stored[cb.id]["state"] is not None:
                    cb.load_state_dict(stored[cb.id]["state"])
            elif type(cb).has_state() and not isinstance(cb, CallbackSetCheckpoint):
                warnings.warn(
                    f"Resuming from '{self.file}': callback '{cb.id}' was not in the interrupted "
                    f"run; it starts fresh",
                    RuntimeWarning,
                    stacklevel=2,
                )
        attached = {cb.id for cb in ctx.callbacks}
        for missing in sorted(k for k in stored if k not in attached and stored[k]["state"] is not None):
            warnings.warn(
                f"Resuming from '{self.file}': callback '{missing}' of the interrupted run is not "
                f"attached now; its saved state is ignored",
                RuntimeWarning,
                stacklevel=2,
            )
        restore_rng_states(payload["rng"])


def _resume_folder(resume: Any, callbacks: list[TorchCallback]) -> Path | None:
    if resume is None or resume is False:
        return None
    if resume is True:
        found = [tc for tc in callbacks if issubclass(tc.generator, CallbackSetCheckpoint)]
        if not found:
            raise ParameterError(
                "resume=True continues from the checkpoint callback's folder, but no 'checkpoint' "
                "callback is attached; attach t_clbk('checkpoint', path=...) or pass resume=<folder>"
            )
        return resolve_path(found[0].get_values()["path"])
    if isinstance(resume, (str, os.PathLike)):
        return user_path(resume, "resume")
    raise ParameterError(f"'resume' must be None, True/False or a folder path, got {resume!r}")


def find_resume_checkpoint(resume: Any, callbacks: list[TorchCallback]) -> ResumePoint | None:
    """The newest readable checkpoint to resume from, or ``None`` to start from scratch.

    A folder that does not exist yet or is empty starts a fresh run (so one script serves the
    first run and every restart); a folder with other files but no checkpoint is an error. A
    damaged newest checkpoint is skipped with a warning in favour of the previous one.
    """
    folder = _resume_folder(resume, callbacks)
    if folder is None:
        return None
    files = checkpoint_files(folder)
    if not files:
        entries = folder.iterdir() if folder.is_dir() else iter(())
        others = sorted(p.name for p in entries if not p.name.startswith("."))
        if others:
            raise CheckpointError(
                f"resume: folder '{folder}' holds no mlrpy checkpoints (checkpoint_<epoch>.pt) but "
                f"other files: {others[:5]}{' ...' if len(others) > 5 else ''}"
            )
        return None
    problems = []
    for _, file in reversed(files):
        try:
            return ResumePoint(folder, file, read_checkpoint(file))
        except (CorruptFileError, IncompatibleFileError, OSError) as err:
            problems.append(str(err))
            warnings.warn(f"Skipping unreadable checkpoint: {err}", RuntimeWarning, stacklevel=2)
    raise CheckpointError(f"resume: no readable checkpoint in '{folder}': {'; '.join(problems)}")


def warm_start_restorer(previous: TorchModel) -> Any:
    """Continue where ``previous`` stopped: epoch counter, optimizer and callback states."""

    def restore(ctx: ContextTorch) -> None:
        # Copies: torch's Optimizer.load_state_dict keeps the given tensors and updates them
        # in place, and a callback may keep the object it is given; either would change the
        # previous model, which must stay as it was if this run fails.
        ctx.epoch = previous.epochs
        if previous.optimizer is not None:
            ctx.optimizer.load_state_dict(copy.deepcopy(previous.optimizer))  # type: ignore[union-attr]
        for cb in ctx.callbacks:
            if cb.id in previous.callbacks:
                cb.load_state_dict(copy.deepcopy(previous.callbacks[cb.id]))

    return restore
