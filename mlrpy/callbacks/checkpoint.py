"""``checkpoint``: everything needed to continue a run exactly, saved every ``freq`` epochs.

A checkpoint holds the network and optimizer states, every other callback's state, the loop
counters, the last scores, the random number generator states (torch, numpy, python) and the
run's fingerprint (:mod:`mlrpy.fingerprint`), so a run resumed from it (learner parameter
``resume``) continues as if it had never stopped, and only the run that wrote it can resume
from it. Files use the safe mlrpy format (:mod:`mlrpy.fileformat`: no pickle, SHA-256
checksum) and are written atomically, so the newest checkpoint in a folder is always complete.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np
import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.monitor import CallbackSetMonitor, Mode, Monitor
from mlrpy.callbacks.registry import mlr_callbacks
from mlrpy.errors import CheckpointError
from mlrpy.fileformat import read_file, type_path, write_file
from mlrpy.fingerprint import run_fingerprint
from mlrpy.io import fsync_folder, remove_temporaries, user_path

__all__ = [
    "KIND",
    "CallbackSetCheckpoint",
    "checkpoint",
    "checkpoint_files",
    "network_signature",
    "read_checkpoint",
    "resolve_path",
    "restore_rng_states",
]

EXAMPLE = 't_clbk("checkpoint", path="runs/mlp", save_best_only=True, restore_best=True)'
KIND = "checkpoint"
_NAME = r"checkpoint_\d+\.pt"
_FILE = re.compile(r"^checkpoint_(\d+)\.pt$")


def resolve_path(path: str | os.PathLike[str] | Callable[[], Any]) -> Path:
    """The checkpoint folder: ``path`` itself, or what a callable ``path`` returns (``~`` expanded)."""
    folder = user_path(path() if callable(path) else path, "cb.checkpoint.path")
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
    """Load one checkpoint file (on the CPU); no code from the file runs.

    Raises:
        CorruptFileError: the file is truncated, altered or not an mlrpy file.
        IncompatibleFileError: it is not a checkpoint or in another format version.
    """
    return read_file(file, KIND, place=lambda tensor, saved: tensor)


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


class CallbackSetCheckpoint(CallbackSetMonitor):
    """Saves a complete checkpoint after every ``freq``-th epoch and at the end of training.

    Files are named ``checkpoint_<epoch>.pt`` inside ``path``; each holds the network and
    optimizer states, every other callback's ``state_dict()``, the loop counters, the last
    scores, the seed, the RNG states (torch, numpy, python; CUDA when present) and the run's
    fingerprint (rows, hashes of the data and targets, classes, seed, learner parameters), so
    ``resume`` continues the same run bit for bit and refuses another run's checkpoints.

    Files are safetensors files with a SHA-256 checksum (no pickle: reading one runs no code).
    Each is written to a temporary name, flushed, renamed, and the folder synced, so a run
    killed while saving (or a power loss) never leaves a broken newest checkpoint; temporaries
    a killed run left behind are removed at the next write. An epoch already saved is never
    written again, so resuming a finished run writes nothing. Runs last (weight ``inf``) so
    the states it saves are those of the finished epoch.

    A new run refuses a folder that already holds checkpoints (another run's); resume that
    run with ``resume=True`` or pick another folder. A callable ``path`` lets parallel runs
    (e.g. in a grid search) write to distinct folders; ``~`` is expanded. ``keep_last`` keeps
    2 or more files to fall back on the previous checkpoint should the newest be damaged.

    With ``save_best_only`` or ``restore_best`` the callback watches a validation score
    (``monitor`` and ``mode`` as in ``early_stopping``; the run needs validation data and an
    unknown score is an error naming the valid ones). An epoch whose score beats the best so
    far is always saved; with ``save_best_only`` only such epochs are (``freq`` is then
    unused, and the last epoch is saved only if it is the best), Keras' ``ModelCheckpoint``
    with ``save_best_only=True``. With ``restore_best`` the best epoch's network weights are
    loaded from its file at ``on_end`` (luz's ``keep_best_model``), so the learner keeps the
    best model, and ``ctx.last_scores_valid`` becomes that epoch's scores; ``keep_last``
    never prunes that file. The best epoch and score are saved in the checkpoints, so a
    resumed run compares against the same best. Resuming continues from the newest file,
    which under ``save_best_only`` is the best epoch's: the epochs after it are trained
    again, to the same result.

    Example:
        >>> import os, tempfile
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> folder = tempfile.mkdtemp()
        >>> learner = lrn("classif.mlp", epochs=3, random_state=0,
        ...               callbacks=[t_clbk("checkpoint", path=folder, freq=2)])
        >>> _ = learner.train(tsk("iris"))
        >>> sorted(os.listdir(folder))
        ['checkpoint_00002.pt', 'checkpoint_00003.pt']
        >>> best = tempfile.mkdtemp()
        >>> learner = lrn("classif.mlp", epochs=4, random_state=0, validate=0.3,
        ...               callbacks=[t_clbk("checkpoint", path=best, save_best_only=True,
        ...                                 restore_best=True, monitor="loss")])
        >>> state = learner.train(tsk("iris")).model.callbacks["checkpoint"]
        >>> sorted(os.listdir(best))[-1] == f"checkpoint_{state['best_epoch']:05d}.pt"
        True
    """

    rank_zero_only: ClassVar[bool] = True  # writes or prints: once per run, on rank 0
    reads: ClassVar[tuple[str, ...]] = (
        "epoch", "global_step", "network", "optimizer", "callbacks", "last_scores_valid",
    )
    writes: ClassVar[tuple[str, ...]] = ("network", "last_scores_valid")

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
        keep_last: Annotated[
            int | None,
            Field(ge=1, description="keep only the newest keep_last checkpoints (None keeps all)"),
        ] = None,
        monitor: Monitor = None,
        mode: Mode = "auto",
        save_best_only: Annotated[
            bool, Field(description="save only the epochs whose monitored score improves on the best")
        ] = False,
        restore_best: Annotated[
            bool, Field(description="load the best epoch's weights from its file when training ends")
        ] = False,
    ) -> None:
        if not callable(path):
            user_path(path, "path")  # refuse "" and URLs before the run starts
        super().__init__(monitor=monitor, mode=mode)
        self.path = path
        self.freq = freq
        self.keep_last = keep_last
        self.save_best_only = save_best_only
        self.restore_best = restore_best
        self.folder: Path | None = None
        self.last_saved: int | None = None
        self.fingerprint: dict[str, Any] | None = None
        self.best_epoch: int | None = None
        self.best_score: float | None = None

    @property
    def watches(self) -> bool:
        """Whether this checkpoint follows a validation score (best-only saving or restoring)."""
        return self.save_best_only or self.restore_best

    def on_begin(self) -> None:
        ctx = self.ctx
        if self.watches:  # before creating the folder: a wrong monitor leaves nothing behind
            self.resolve_monitor()
        folder = resolve_path(self.path)
        resumed_from = getattr(ctx, "resumed_from", None)
        existing = checkpoint_files(folder)
        if existing and (resumed_from is None or Path(resumed_from).resolve() != folder.resolve()):
            raise CheckpointError(
                f"Checkpoint folder '{folder}' already holds checkpoints of another run "
                f"(newest: {existing[-1][1].name}); continue that run with resume=True or choose "
                f"an empty folder"
            )
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        # the epoch a resumed run continues from is on disk already
        self.last_saved = getattr(ctx, "resumed_epoch", None)
        self.fingerprint = getattr(ctx, "run_fingerprint", None) or run_fingerprint(ctx)
        ctx.run_fingerprint = self.fingerprint  # type: ignore[attr-defined]

    def on_epoch_end(self) -> None:
        improved = self.watches and self._record_improvement()
        if improved or (not self.save_best_only and self.ctx.epoch % self.freq == 0):
            self.save()

    def on_end(self) -> None:
        if self.ctx.epoch > 0 and not self.save_best_only:
            self.save()
        if self.restore_best and self.best_epoch is not None:
            self._restore_best()

    def _record_improvement(self) -> bool:
        score = self.current_score()
        if score is None or not self.improves(score, self.best_score):
            return False
        self.best_epoch, self.best_score = self.ctx.epoch, score
        return True

    def _restore_best(self) -> None:
        assert self.folder is not None and self.best_epoch is not None and self.ctx.network is not None
        file = self.folder / f"checkpoint_{self.best_epoch:05d}.pt"
        if not file.is_file():
            raise CheckpointError(
                f"restore_best: the best epoch's checkpoint '{file}' (epoch {self.best_epoch}, "
                f"{self.monitor}={self.best_score}) is missing; it was removed during the run"
            )
        best = read_checkpoint(file)
        self.ctx.network.load_state_dict(best["network"])
        if best["scores"]["valid"] is not None:
            self.ctx.last_scores_valid = dict(best["scores"]["valid"])

    def save(self) -> Path:
        """Write the checkpoint of the current epoch (unless it is saved already); returns its file."""
        ctx = self.ctx
        assert self.folder is not None and ctx.network is not None and ctx.optimizer is not None
        file = self.folder / f"checkpoint_{ctx.epoch:05d}.pt"
        if self.last_saved is not None and ctx.epoch <= self.last_saved:
            return file
        payload = {
            "epoch": ctx.epoch,
            "global_step": ctx.global_step,
            "seed": ctx.seed,
            "fingerprint": self.fingerprint,
            "network": ctx.network.state_dict(),
            "network_signature": network_signature(ctx.network),
            "optimizer": ctx.optimizer.state_dict(),
            "callbacks": {
                # its own state only carries the best epoch over to a resumed run
                cb.id: {"class": type_path(type(cb)), "state": cb.state_dict()}
                for cb in ctx.callbacks
                if cb is not self or self.watches
            },
            "scores": {
                "train": ctx.last_scores_train,
                "valid": ctx.last_scores_valid,
                "last_loss": ctx.last_loss,
            },
            "rng": _rng_states(),
        }
        remove_temporaries(self.folder, _NAME)
        write_file(file, KIND, payload)
        self.last_saved = ctx.epoch
        if self.keep_last is not None:
            self._prune(ctx.epoch)
        return file

    def _prune(self, epoch: int) -> None:
        """Delete all but the newest ``keep_last`` checkpoints up to ``epoch``.

        Files of later epochs can only be leftovers that resuming skipped as unreadable;
        they are overwritten when the run gets there, never counted as the newest.
        """
        assert self.folder is not None and self.keep_last is not None
        done = [file for e, file in checkpoint_files(self.folder) if e <= epoch]
        kept = self.best_epoch if self.restore_best else None  # on_end loads it
        for file in done[: -self.keep_last]:
            if kept is None or file.name != f"checkpoint_{kept:05d}.pt":
                file.unlink(missing_ok=True)
        fsync_folder(self.folder)

    def state_dict(self) -> dict[str, Any]:
        folder = str(self.folder) if self.folder else None
        state: dict[str, Any] = {"folder": folder, "last_saved": self.last_saved}
        if self.watches:
            state.update(best_epoch=self.best_epoch, best_score=self.best_score, monitor=self.monitor)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.last_saved = state.get("last_saved")
        self.best_epoch = state.get("best_epoch")
        self.best_score = state.get("best_score")


checkpoint = TorchCallback(
    "checkpoint",
    CallbackSetCheckpoint,
    label="Checkpoint",
    man=man_with_example(CallbackSetCheckpoint, EXAMPLE),
)
mlr_callbacks.add(checkpoint)
