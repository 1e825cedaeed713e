"""SIGKILL a training run at seeded random points, some in the middle of writing a checkpoint;
resuming after every kill must end bit-identical to a run that was never interrupted.

Each run is a forked child of the test process (torch is imported once), so two dozen kills
take seconds. A kill is placed at a batch, inside a checkpoint write after some of its bytes,
just before or after the rename that publishes it, or while older checkpoints are pruned.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
import traceback

import pandas as pd
import pytest
import torch

import mlrpy
import mlrpy.fileformat
import mlrpy.io
from mlrpy import lrn, t_clbk, torch_callback
from mlrpy.callbacks.checkpoint import checkpoint_files, read_checkpoint

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

EPOCHS, BATCHES = 6, 8  # 120 training rows in batches of 16
CHAINS, KILLS_PER_CHAIN = 6, 4
MODES = ("batch", "write", "write", "before_rename", "after_rename", "prune")

#: the kill point of the current (child) process: (mode, epoch, detail)
KILL_AT: tuple[str, int, float] | None = None


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_at_batch(self):
    if KILL_AT is not None and KILL_AT[0] == "batch" and self.ctx.global_step == KILL_AT[2]:
        _die()


killer = torch_callback("killer", on_batch_end=_kill_at_batch)


def _learner(folder, keep_last):
    callbacks = ["history", t_clbk("lr_step", step_size=2), killer,
                 t_clbk("checkpoint", path=str(folder), keep_last=keep_last)]
    return lrn("classif.mlp", epochs=EPOCHS, batch_size=16, neurons=(8,), p=0.2, random_state=3, validate=0.2,
               resume=True, callbacks=callbacks, **{"opt.lr": 0.01})


def _arm(kill: tuple[str, int, float]) -> None:
    """Install the kill point in this (child) process."""
    global KILL_AT
    KILL_AT = kill
    mode, epoch, detail = kill
    target = f"checkpoint_{epoch:05d}.pt"
    atomic_write, replace, fsync_folder = mlrpy.fileformat.atomic_write, os.replace, mlrpy.io.fsync_folder

    def write_then_die(path, content):
        if mode == "write" and os.path.basename(path) == target:

            def partial(f):
                f.write(content[: int(detail * len(content))])
                f.flush()
                _die()

            return atomic_write(path, partial)
        return atomic_write(path, content)

    def replace_then_die(src, dst):
        if os.path.basename(dst) == target and mode == "before_rename":
            _die()
        replace(src, dst)
        if os.path.basename(dst) == target and mode == "after_rename":
            _die()  # renamed, folder not yet synced

    def prune_then_die(folder):
        if mode == "prune" and (folder / target).exists():
            _die()  # older checkpoints deleted, folder not yet synced
        fsync_folder(folder)

    mlrpy.fileformat.atomic_write = write_then_die
    os.replace = replace_then_die
    # the package attribute mlrpy.callbacks.checkpoint is the TorchCallback; patch the module
    sys.modules["mlrpy.callbacks.checkpoint"].fsync_folder = prune_then_die


def _in_child(work, log) -> int:
    """Run ``work`` in a forked child; return its wait status (killed children included)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        code = 1
        try:
            torch.set_num_threads(1)
            work()
            code = 0
        except BaseException:
            with open(log, "a") as f:  # not stderr: another thread may have held its lock at fork
                f.write(traceback.format_exc())
        finally:
            os._exit(code)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"a training child hung; see {log}")


def _plan(rng: random.Random, keep_last: int | None) -> list[tuple[str, int, float]]:
    modes = [m for m in MODES if m != "prune" or keep_last is not None]
    kills = []
    for epoch in sorted(rng.sample(range(1, EPOCHS + 1), KILLS_PER_CHAIN)):
        mode = rng.choice(modes)
        detail = (epoch - 1) * BATCHES + rng.randint(1, BATCHES) if mode == "batch" else rng.random()
        kills.append((mode, epoch, detail))
    return kills


def test_killed_runs_resume_bit_identical(tmp_path, iris_xy):
    X, y = iris_xy
    rng = random.Random(20240611)
    log = tmp_path / "children.log"
    log.write_text("")
    # the first optimizer imports torch._dynamo (seconds): do it once here, not in every child
    lrn("classif.mlp", epochs=1, neurons=(2,)).fit(X, y)

    def train_and_save(folder, keep_last, out, kill=None):
        def work():
            if kill is not None:
                _arm(kill)
            _learner(folder, keep_last).fit(X, y).save(out)

        return _in_child(work, log)

    assert train_and_save(tmp_path / "reference", None, tmp_path / "reference.mlrpy") == 0, log.read_text()
    reference = mlrpy.load(tmp_path / "reference.mlrpy", trusted=[killer])

    kills = 0
    for chain in range(CHAINS):
        keep_last = (None, 2)[chain % 2]
        folder = tmp_path / f"chain_{chain}"
        for kill in _plan(rng, keep_last):
            status = train_and_save(folder, keep_last, tmp_path / "never.mlrpy", kill)
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (chain, kill, status,
                                                                                      log.read_text())
            kills += 1
            for _, file in checkpoint_files(folder):  # every published checkpoint is complete
                read_checkpoint(file)
        out = tmp_path / f"chain_{chain}.mlrpy"
        assert train_and_save(folder, keep_last, out) == 0, log.read_text()
        resumed = mlrpy.load(out, trusted=[killer])
        for (name, a), b in zip(resumed.model.network.state_dict().items(),
                                reference.model.network.state_dict().values()):
            assert torch.equal(a, b), (chain, name)
        assert resumed.model.epochs == reference.model.epochs == EPOCHS
        pd.testing.assert_frame_equal(pd.DataFrame(resumed.model.callbacks["history"]), pd.DataFrame(reference.model.callbacks["history"]))
        assert not list(folder.glob(".*.tmp"))  # what the kills left behind was cleaned up
        epochs_kept = [e for e, _ in checkpoint_files(folder)]
        if keep_last is None:
            assert epochs_kept == list(range(1, EPOCHS + 1))
        else:  # a kill between the rename and the pruning leaves one more (never pruned away: a
            # resumed finished run writes nothing)
            assert epochs_kept[-2:] == [5, 6] and len(epochs_kept) <= 3
    assert kills >= 20
