"""Section i: the DataLoader path. A Dataset of random 3x32x32 images and a small CNN,
mlrpy's ``classif.module`` against a hand-written loop over ``torch.utils.data.DataLoader``
with the same ``num_workers`` (0 and 2), paired like section h.

Both variants seed torch with ``cfg.seed`` before building the network and draw the batch
order from a ``torch.Generator`` seeded with ``cfg.seed``, so they train the same weights;
the ratio is the cost of mlrpy's Dataset path (item index, shape check in the collate,
targets looked up in the main process, callbacks dispatch) over a bare DataLoader loop.
The Dataset has a ``targets`` attribute, as torchvision's datasets do, so mlrpy does not read
the items once for the labels.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

import mlrpy
from benchmarks.task import DATASET_MAX_REPEATS, DATASET_REPEATS, LR, N_CLASSES, Config, log
from benchmarks.timing import interleaved, max_weight_diff

IMAGE_SHAPE = (3, 32, 32)
IMAGE_EPOCHS = 2
IMAGE_BATCH_SIZE = 128
IMAGE_WORKERS = (0, 2)


class ImageDataset(Dataset):  # type: ignore[type-arg]
    """``n`` random float32 images with labels 0..2, served item by item as ``(x, y)``."""

    def __init__(self, n: int, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.images = torch.randn(n, *IMAGE_SHAPE, generator=g)
        self.targets = torch.randint(0, N_CLASSES, (n,), generator=g)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[i], self.targets[i]


class SmallCNN(nn.Module):
    """Two 3x3 convolutions (8 and 16 channels, the second strided), global average pooling
    and a linear head."""

    def __init__(self, n_features: int, n_outputs: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(n_features, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(16, n_outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def fit_raw_loader(data: ImageDataset, num_workers: int, cfg: Config) -> nn.Module:
    """The hand-written loop over a ``DataLoader``; returns the trained network."""
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    net = SmallCNN(IMAGE_SHAPE[0], N_CLASSES).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=LR, fused=True)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator()
    generator.manual_seed(cfg.seed)
    loader = DataLoader(
        data, batch_size=IMAGE_BATCH_SIZE, shuffle=True, num_workers=num_workers, generator=generator
    )
    net.train()
    for _ in range(IMAGE_EPOCHS):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            loss.backward()
            optimizer.step()
    return net


def fit_mlrpy_dataset(data: ImageDataset, num_workers: int, cfg: Config) -> nn.Module:
    """``lrn("classif.module", module=SmallCNN, num_workers=...).fit(dataset, None)``."""
    learner = mlrpy.lrn(
        "classif.module",
        module=SmallCNN,
        epochs=IMAGE_EPOCHS,
        batch_size=IMAGE_BATCH_SIZE,
        random_state=cfg.seed,
        num_threads=1,
        device=cfg.device,
        num_workers=num_workers,
        **{"opt.lr": LR},
    )
    learner.fit(data, None)
    return learner.model.network


def section_datasets(cfg: Config) -> list[dict[str, Any]]:
    """(i) mlrpy's Dataset path against a hand-written DataLoader loop, per ``num_workers``."""
    data = ImageDataset(cfg.image_rows, cfg.seed)
    small = ImageDataset(64, cfg.seed)
    repeats = cfg.repeats if cfg.quick else max(cfg.repeats, DATASET_REPEATS)
    rows = []
    for workers in IMAGE_WORKERS:
        fit_raw_loader(small, workers, cfg)  # untimed: worker start-up paths, allocator
        fit_mlrpy_dataset(small, workers, cfg)
        variants = {
            "raw_loader": partial(fit_raw_loader, data, workers, cfg),
            "mlrpy": partial(fit_mlrpy_dataset, data, workers, cfg),
        }
        timings, nets = interleaved(variants, repeats, cfg.device, cfg.min_seconds, DATASET_MAX_REPEATS)
        row: dict[str, Any] = {
            "n": cfg.image_rows, "num_workers": workers, "batch_size": IMAGE_BATCH_SIZE,
            "epochs": IMAGE_EPOCHS, "image_shape": "x".join(map(str, IMAGE_SHAPE)),
        }
        row.update({name: asdict(t) for name, t in timings.items()})
        row["weights_max_abs_diff"] = max_weight_diff(nets["raw_loader"], nets["mlrpy"])
        rows.append(row)
        log(f"datasets n={cfg.image_rows} workers={workers}: "
            + ", ".join(f"{k} {t.median:.3f}s" for k, t in timings.items()))
    return rows
