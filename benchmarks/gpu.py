"""The GPU check: does mlrpy's training loop wait for the device once per batch?

A callback switches ``torch.cuda.set_sync_debug_mode("warn")`` on in ``on_epoch_begin`` and
off in ``on_before_valid``, so exactly the batch loops are watched, and the "synchronizing
CUDA operation" warnings are counted. The raw loop is watched the same way (its
``randperm`` per epoch is the floor).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from torch import nn

import mlrpy
from benchmarks.task import LR, MLP, N_CLASSES, N_FEATURES, Config, Data, log, make_data
from benchmarks.variants import fit_mlrpy

NO_GPU_LINE = "GPU rows not run: no CUDA device is present."
NO_GPU_FALLBACK_LINE = (
    "GPU rows not run: --device cuda was given but no CUDA device is present; ran on the CPU."
)


def _sync_debug_warn(self: Any) -> None:
    torch.cuda.set_sync_debug_mode("warn")


def _sync_debug_off(self: Any) -> None:
    torch.cuda.set_sync_debug_mode("default")


def _read_loss(self: Any) -> None:
    _ = self.ctx.last_loss


def count_syncs(fn: Callable[[], Any]) -> int:
    """Number of 'synchronizing CUDA operation' warnings raised while ``fn`` runs."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


def raw_epochs_under_sync_debug(data: Data, batch_size: int, cfg: Config) -> None:
    """The hand-written loop with sync debugging on around its batch loops only."""
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    x, y = torch.from_numpy(data.X).to(device), torch.from_numpy(data.y).to(device)
    net = MLP(N_FEATURES, N_CLASSES).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(cfg.epochs):
        torch.cuda.set_sync_debug_mode("warn")
        perm = torch.randperm(len(x), device=device)
        for start in range(0, len(x), batch_size):
            idx = perm[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(net(x[idx]), y[idx]).backward()
            optimizer.step()
        torch.cuda.set_sync_debug_mode("default")


def section_cuda_sync(cfg: Config) -> dict[str, Any]:
    """Device→host syncs inside the training batch loops (CUDA only)."""
    n, bs = min(cfg.sizes), 128 if 128 in cfg.batch_sizes else max(cfg.batch_sizes)
    data = make_data(n, cfg.seed)
    probe = mlrpy.torch_callback(
        "sync_probe", on_epoch_begin=_sync_debug_warn, on_before_valid=_sync_debug_off
    )
    reader = mlrpy.torch_callback("loss_reader", on_batch_end=_read_loss)
    result = {
        "n": n,
        "batch_size": bs,
        "batches": cfg.epochs * -(-n // bs),
        "raw": count_syncs(partial(raw_epochs_under_sync_debug, data, bs, cfg)),
        "mlrpy": count_syncs(partial(fit_mlrpy, data, bs, cfg, [probe])),
        "mlrpy_with_loss_reader": count_syncs(partial(fit_mlrpy, data, bs, cfg, [probe, reader])),
    }
    result["ok"] = result["mlrpy"] <= result["raw"]
    log(f"cuda sync check: {result}")
    return result
