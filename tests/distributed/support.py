"""Callbacks for the data-parallel tests, defined at module level so that spawned worker
processes can import them."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from mlrpy import CallbackSet, TorchCallback


class CallbackSetRankLog(CallbackSet):
    """Appends, per rank, the rank, the world size, each epoch and its training rows to
    ``<folder>/rank-<rank>.jsonl``."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.rows: list[int] = []

    def _write(self, record: dict) -> None:
        with open(self.folder / f"rank-{self.ctx.rank}.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def on_begin(self) -> None:
        self._write({"rank": self.ctx.rank, "world_size": self.ctx.world_size})

    def on_epoch_begin(self) -> None:
        self.rows = []

    def on_batch_end(self) -> None:
        self.rows += self.ctx.batch.index.tolist()

    def on_epoch_end(self) -> None:
        self._write({"epoch": self.ctx.epoch, "rows": self.rows})


class CallbackSetTerminateOnRank(CallbackSet):
    """Sets ``ctx.terminate`` on one rank only, at the end of one epoch."""

    def __init__(self, rank: int, epoch: int) -> None:
        self.rank, self.epoch = rank, epoch

    def on_epoch_end(self) -> None:
        if self.ctx.rank == self.rank and self.ctx.epoch == self.epoch:
            self.ctx.terminate = True


class CallbackSetFailOnRank(CallbackSet):
    """Raises (``how="raise"``) or kills its own process (``how="kill"``) on one rank."""

    def __init__(self, rank: int, how: str = "raise") -> None:
        self.rank, self.how = rank, how

    def on_epoch_end(self) -> None:
        if self.ctx.rank != self.rank:
            return
        if self.how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise ValueError(f"deliberate failure on rank {self.ctx.rank}")


def rank_log(folder: Path) -> TorchCallback:
    return TorchCallback("rank_log", CallbackSetRankLog).set_values(folder=str(folder))


def read_rank_logs(folder: Path) -> dict[int, list[dict]]:
    """Each rank's records, by rank."""
    logs = {}
    for path in sorted(folder.glob("rank-*.jsonl")):
        rank = int(path.stem.split("-")[1])
        logs[rank] = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return logs


def terminate_on_rank(rank: int, epoch: int) -> TorchCallback:
    return TorchCallback("terminate_on_rank", CallbackSetTerminateOnRank).set_values(rank=rank, epoch=epoch)


def fail_on_rank(rank: int, how: str = "raise") -> TorchCallback:
    return TorchCallback("fail_on_rank", CallbackSetFailOnRank).set_values(rank=rank, how=how)


class CallbackSetStopEpochOnRank(CallbackSet):
    """Ends one epoch's batches early on one rank (``ctx.stop_epoch``), declared in ``writes``
    (``declared=True``) or not."""

    writes = ("stop_epoch",)

    def __init__(self, rank: int, epoch: int, batch: int) -> None:
        self.rank, self.epoch, self.batch = rank, epoch, batch

    def on_batch_end(self) -> None:
        ctx = self.ctx
        if (ctx.rank, ctx.epoch, ctx.step) == (self.rank, self.epoch, self.batch):
            ctx.stop_epoch = True


class CallbackSetUndeclaredStop(CallbackSetStopEpochOnRank):
    writes = ()


def stop_epoch_on_rank(rank: int, epoch: int, batch: int, declared: bool = True) -> TorchCallback:
    cls = CallbackSetStopEpochOnRank if declared else CallbackSetUndeclaredStop
    return TorchCallback("stop_epoch_on_rank", cls).set_values(rank=rank, epoch=epoch, batch=batch)
