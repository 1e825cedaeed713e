"""The hand-written data-parallel script of section m, as one writes it with torch alone.

``torch.multiprocessing.spawn`` starts the workers; each joins a process group through a
``file://`` store in a temporary folder (gloo on the CPU, nccl on GPUs), seeds and builds the
benchmark network, wraps it in ``DistributedDataParallel`` and trains on its
``DistributedSampler`` shard of every epoch (``set_epoch``), gathering batches with
``index_select``, with fused Adam and cross-entropy. Rank 0 saves its ``state_dict`` and its
training seconds to a file the parent reads.

The module imports torch and the benchmark task only (not mlrpy), so a spawned worker pays
what a worker of a hand-written script pays.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data.distributed import DistributedSampler

from benchmarks.task import LR, MLP, N_CLASSES, N_FEATURES, Config, Data


@dataclass
class Trained:
    """What one timed run returns: rank 0's network and its training seconds."""

    network: nn.Module
    train_seconds: float


def hand_ddp_worker(
    rank: int,
    world_size: int,
    init_method: str,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    epochs: int,
    seed: int,
    device_type: str,
    out: str,
) -> None:
    """One process of the hand-written DDP script (module level: spawn pickles it by name)."""
    torch.set_num_threads(1)
    backend = "nccl" if device_type == "cuda" else "gloo"
    dist.init_process_group(backend, init_method=init_method, rank=rank, world_size=world_size)
    try:
        device = torch.device("cuda", rank) if device_type == "cuda" else torch.device("cpu")
        if device.type == "cuda":
            torch.cuda.set_device(device)
        x, y = x.to(device), y.to(device)
        torch.manual_seed(seed)
        net = MLP(N_FEATURES, N_CLASSES).to(device)
        model = DistributedDataParallel(net, device_ids=[rank] if device.type == "cuda" else None)
        optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=True)
        loss_fn = nn.CrossEntropyLoss()
        sampler = DistributedSampler(
            range(len(x)), num_replicas=world_size, rank=rank, shuffle=True, seed=seed, drop_last=False
        )
        # the moment mlrpy's on_begin marks: network, wrapper, optimizer and sampler built
        start = time.perf_counter()
        model.train()
        for epoch in range(epochs):
            sampler.set_epoch(epoch)
            order = torch.tensor(list(sampler), device=device)
            for first in range(0, len(order), batch_size):
                idx = order[first : first + batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(x.index_select(0, idx)), y.index_select(0, idx))
                loss.backward()
                optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        if rank == 0:
            state = {k: v.cpu() for k, v in net.state_dict().items()}
            torch.save({"state_dict": state, "train_seconds": seconds}, out)
    finally:
        dist.destroy_process_group()


def fit_hand_ddp(data: Data, batch_size: int, cfg: Config, devices: int) -> Trained:
    """Spawn ``devices`` workers running :func:`hand_ddp_worker`; rank 0's network back."""
    with tempfile.TemporaryDirectory(prefix="mlrpy-ddp-") as tmp:
        out = Path(tmp) / "rank0.pt"
        args = (
            devices,
            (Path(tmp) / "store").as_uri(),
            torch.from_numpy(data.X),
            torch.from_numpy(data.y),
            batch_size,
            cfg.epochs,
            cfg.seed,
            cfg.device,
            str(out),
        )
        mp.spawn(hand_ddp_worker, args=args, nprocs=devices, join=True)
        saved = torch.load(out, weights_only=True)
    net = MLP(N_FEATURES, N_CLASSES)
    net.load_state_dict(saved["state_dict"])
    return Trained(net, float(saved["train_seconds"]))
