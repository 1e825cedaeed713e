"""The benchmark task (network, synthetic data), the run's settings and the targets."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

N_FEATURES = 32
N_CLASSES = 3
HIDDEN = 64
LR = 1e-3
PREDICT_CHUNK = 1024  # mlrpy predicts in chunks of max(batch_size, 1024) rows
SECTIONS = "abcdefghijklm"
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
MAX_REPEATS = 21  # cap of the adaptive repeats (--min-seconds)
CALLBACK_REPEATS = 11  # minimum repeats of section d
# Section h: on a shared host the ratio within a pair still varies by several percent, so
# the median needs many pairs to be steady to about a percent: at least PAIRED_REPEATS, and
# more until each variant has run PAIRED_SECONDS, up to PAIRED_MAX_REPEATS.
PAIRED_REPEATS = 31
PAIRED_SECONDS = 20.0
PAIRED_MAX_REPEATS = 81
# Section i: at least DATASET_REPEATS pairs per worker count, up to DATASET_MAX_REPEATS.
DATASET_REPEATS = 5
DATASET_MAX_REPEATS = 41

# Targets, used only for the summary table; nothing fails on them.
TARGET_FIT = 1.05
CEILING_FIT = 1.10
TARGET_PAIRED = 1.03
TARGET_DATASET = 1.05
TARGET_SKORCH = 2.0
TARGET_CALLBACKS = 0.05
TARGET_PREDICT = 1.10
TARGET_MEMORY = 1.2


class MLP(nn.Module):
    """The benchmark network: ``n_features`` → 64 → 64 → ``n_outputs``, ReLU, logits out."""

    def __init__(self, n_features: int, n_outputs: int, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


@dataclass
class Data:
    """A synthetic 3-class tabular task: float32 features, int64 labels 0..2."""

    X: np.ndarray
    y: np.ndarray

    @property
    def n(self) -> int:
        return len(self.X)


def make_data(n: int, seed: int = 0) -> Data:
    """``n`` rows of 32 standard-normal features; labels from a noisy linear rule."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES), dtype=np.float32)
    weights = rng.standard_normal((N_FEATURES, N_CLASSES)).astype(np.float32)
    logits = X @ weights + rng.gumbel(size=(n, N_CLASSES)).astype(np.float32)
    y = logits.argmax(axis=1).astype(np.int64)
    y[:N_CLASSES] = np.arange(N_CLASSES)  # every class present, even in tiny data
    return Data(X, y)


@dataclass
class Config:
    """The run's settings (see ``benchmarks.cli.build_parser``)."""

    sizes: list[int]
    batch_sizes: list[int]
    scale_sizes: list[int]
    scale_batch_size: int
    repeats: int
    min_seconds: float
    epochs: int
    seed: int
    device: str
    skip_skorch: bool
    sections: str
    out: Path
    quick: bool = False
    #: images in section i's Dataset
    image_rows: int = 10_000
    #: rows of section m (data-parallel training)
    ddp_rows: int = 200_000
    notes: list[str] = field(default_factory=list)


def log(msg: str) -> None:
    """Progress on stderr (the report itself goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
