"""``checkpoint``: everything needed to continue a run exactly, saved every ``freq`` epochs.

A checkpoint holds the network and optimizer states, every other callback's state, the loop
counters and the random number generator states (torch, numpy, python), so a run resumed from
it (learner parameter ``resume``) continues as if it had never stopped. Each file is written
atomically, so the newest checkpoint in a folder is always complete.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks
from mlrpy.errors import CheckpointError
from mlrpy.io import atomic_write

__all__ = [
    "CHECKPOINT_FORMAT",
    "CallbackSetCheckpoint",
    "checkpoint",
    "checkpoint_files",
    "network_signature",
    "read_checkpoint",
    "resolve_path",
    "restore_rng_states",
]

EXAMPLE = 't_clbk("checkpoint", path="runs/mlp", freq=5)'
CHECKPOINT_FORMAT = 1
_FILE = re.compile(r"^checkpoint_(\d+)\.pt$")


def resolve_path(path: str | os.PathLike[str] | Callable[[], Any]) -> Path:
    """The checkpoint folder: ``path`` itself, or what a callable ``path`` returns."""
    folder = Path(path() if callable(path) else path)
    if folder.exists() and not folder.is_dir():
        raise CheckpointError(f"Checkpoint path '{folder}' is a file; it must be a folder")
    return folder


def checkpoint_files(folder: Path) -> list[tuple[int, Path]]:
    """``(epoch, file)`` for every checkpoint in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _FILE.match(p.name))]
    return sorted(found)


def network_signature(network: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    """Parameter and buffer names with their shapes: what must match to load a state."""
    return {name: tuple(t.shape) for name, t in network.state_dict().items()}


def read_checkpoint(file: Path) -> dict[str, Any]:
    """Load one checkpoint file (on the CPU); raises :class:`CheckpointError` if it is not one."""
    try:
        payload = torch.load(file, map_location="cpu", weights_only=False)
    except Exception as err:
        raise CheckpointError(f"'{file}' is not a readable mlrpy checkpoint: {err}") from err
    if not isinstance(payload, dict) or payload.get("mlrpy_checkpoint") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"'{file}' is not an mlrpy checkpoint (format {CHECKPOINT_FORMAT})")
    return payload


def _rng_states() -> dict[str, Any]:
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    """Set the torch, numpy and python generators to the saved states."""
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


class CallbackSetCheckpoint(CallbackSet):
    """Saves a complete checkpoint after every ``freq``-th epoch and at the end of training.

    Files are named ``checkpoint_<epoch>.pt`` inside ``path``; each holds the network and
    optimizer states, every other callback's ``state_dict()``, the loop counters, the seed and
    the RNG states (torch, numpy, python; CUDA when present), so ``resume`` continues a run
    bit for bit. Every file is written to a temporary name and renamed, so a run killed while
    saving never leaves a broken newest checkpoint. Runs last (weight ``inf``) so the states it
    saves are those of the finished epoch.

    A new run refuses a folder that already holds checkpoints (another run's); resume that
    run with ``resume=True`` or pick another folder. A callable ``path`` lets parallel runs
    (e.g. in a grid search) write to distinct folders.

    Example:
        >>> import os, tempfile
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> folder = tempfile.mkdtemp()
        >>> learner = lrn("classif.mlp", epochs=3, random_state=0,
        ...               callbacks=[t_clbk("checkpoint", path=folder, freq=2)])
        >>> _ = learner.train(tsk("iris"))
        >>> sorted(os.listdir(folder))
        ['checkpoint_00002.pt', 'checkpoint_00003.pt']
    """

    weight = float("inf")
    saves_other_states = True

    def __init__(
        self,
        path: Annotated[
            str | Callable[[], Any],
            Field(description="the folder for the checkpoint files, or a function returning one"),
        ],
        freq: Annotated[
            int, Field(ge=1, description="save after every freq-th epoch (the last epoch is always saved)")
        ] = 1,
    ) -> None:
        self.path = path
        self.freq = freq
        self.folder: Path | None = None
        self.last_saved: int | None = None

    def on_begin(self) -> None:
        folder = resolve_path(self.path)
        resumed_from = getattr(self.ctx, "resumed_from", None)
        existing = checkpoint_files(folder)
        if existing and (resumed_from is None or resumed_from.resolve() != folder.resolve()):
            raise CheckpointError(
                f"Checkpoint folder '{folder}' already holds checkpoints of another run "
                f"(newest: {existing[-1][1].name}); continue that run with resume=True or choose "
                f"an empty folder"
            )
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder

    def on_epoch_end(self) -> None:
        if self.ctx.epoch % self.freq == 0:
            self.save()

    def on_end(self) -> None:
        if self.ctx.epoch > 0 and self.last_saved != self.ctx.epoch:
            self.save()

    def save(self) -> Path:
        """Write the checkpoint of the current epoch; returns its file."""
        ctx = self.ctx
        assert self.folder is not None and ctx.network is not None and ctx.optimizer is not None
        payload = {
            "mlrpy_checkpoint": CHECKPOINT_FORMAT,
            "epoch": ctx.epoch,
            "global_step": ctx.global_step,
            "seed": getattr(ctx, "seed", None),
            "network": ctx.network.state_dict(),
            "network_signature": network_signature(ctx.network),
            "optimizer": ctx.optimizer.state_dict(),
            "callbacks": {
                cb.id: (type(cb).__qualname__, cb.state_dict()) for cb in ctx.callbacks if cb is not self
            },
            "rng": _rng_states(),
        }
        file = self.folder / f"checkpoint_{ctx.epoch:05d}.pt"
        atomic_write(file, lambda f: torch.save(payload, f))
        self.last_saved = ctx.epoch
        return file

    def state_dict(self) -> dict[str, Any]:
        return {"folder": str(self.folder) if self.folder else None, "last_saved": self.last_saved}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.last_saved = state.get("last_saved")


checkpoint = TorchCallback(
    "checkpoint",
    CallbackSetCheckpoint,
    label="Checkpoint",
    man=man_with_example(CallbackSetCheckpoint, EXAMPLE),
)
mlr_callbacks.add(checkpoint)
