"""Exact resume from a checkpoint folder (learner parameter ``resume``).

The newest complete checkpoint is loaded before ``on_begin``: network, optimizer, loop
counters, callback states (matched by id) and RNG states, so the resumed run continues bit for
bit where the interrupted one stopped.
"""

from __future__ import annotations

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
from mlrpy.errors import CheckpointError, ParameterError

__all__ = ["ResumePoint", "find_resume_checkpoint"]


@dataclass
class ResumePoint:
    """A checkpoint to continue from: its folder, file and contents."""

    folder: Path
    file: Path
    payload: dict[str, Any]

    def restore(self, ctx: ContextTorch) -> None:
        """Load everything into the run's context (the loop's restore hook)."""
        payload = self.payload
        assert ctx.network is not None and ctx.optimizer is not None
        saved, current = payload["network_signature"], network_signature(ctx.network)
        if saved != current:
            differing = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
            raise CheckpointError(
                f"Cannot resume from '{self.file}': the network differs from the checkpointed one "
                f"(parameters {differing[:5]}{' ...' if len(differing) > 5 else ''}: "
                f"saved {[saved.get(k) for k in differing[:3]]}, now "
                f"{[current.get(k) for k in differing[:3]]}). Nothing was written; use the "
                f"architecture of the interrupted run or another checkpoint folder"
            )
        ctx.network.load_state_dict(payload["network"])
        ctx.optimizer.load_state_dict(payload["optimizer"])
        ctx.epoch = payload["epoch"]
        ctx.global_step = payload["global_step"]
        stored: dict[str, tuple[str, Any]] = payload["callbacks"]
        present = {cb.id for cb in ctx.callbacks}
        for cb in ctx.callbacks:
            if cb.id not in stored:
                if type(cb).has_state() and not isinstance(cb, CallbackSetCheckpoint):
                    warnings.warn(
                        f"Resuming from '{self.file}': callback '{cb.id}' was not in the interrupted "
                        f"run; it starts fresh",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                continue
            class_name, state = stored[cb.id]
            if class_name != type(cb).__qualname__:
                raise CheckpointError(
                    f"Cannot resume from '{self.file}': callback '{cb.id}' was a {class_name} "
                    f"in the interrupted run but is a {type(cb).__qualname__} now"
                )
            if state is not None:
                cb.load_state_dict(state)
        for missing in sorted(set(stored) - present):
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
        return resolve_path(resume)
    raise ParameterError(f"'resume' must be None, True/False or a folder path, got {resume!r}")


def find_resume_checkpoint(resume: Any, callbacks: list[TorchCallback]) -> ResumePoint | None:
    """The newest readable checkpoint to resume from, or ``None`` to start from scratch.

    A folder that does not exist yet or is empty starts a fresh run (so one script serves the
    first run and every restart); a folder with other files but no checkpoint is an error.
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
        except CheckpointError as err:
            problems.append(str(err))
            warnings.warn(f"Skipping unreadable checkpoint: {err}", RuntimeWarning, stacklevel=2)
    raise CheckpointError(f"resume: no readable checkpoint in '{folder}': {'; '.join(problems)}")
