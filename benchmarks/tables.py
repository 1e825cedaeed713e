"""Tables with categorical columns: (j) an embedding MLP and (l) an FT-Transformer, each
against a hand-written loop that trains the same network on the same data.

The table has 10 standard-normal numeric columns and 5 pandas ``category`` columns with 3,
10, 50, 200 and 1,000 levels; the 3-class label depends on both. The hand-written loops do
what a user would: take the category codes from pandas (shifted by one, so code 0 stays free
for an unseen level as in mlrpy), keep numeric values and codes in tensors, and gather each
batch with ``index_select``. Both variants build their networks in the same order from the
same seed and draw the same permutations, so they train the same weights (``max abs dw``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

import mlrpy
from benchmarks.task import LR, N_CLASSES, Config, log
from benchmarks.timing import interleaved, max_weight_diff
from mlrpy.learners.features import FeatureInfo, TabularInput
from mlrpy.learners.ft_transformer import FTTransformer

CARDINALITIES = (3, 10, 50, 200, 1000)
N_NUMERIC = 10
TABLE_ROWS = 100_000
TABLE_BATCH_SIZE = 256
#: a small FT-Transformer, so that an epoch on the CPU takes seconds, not minutes
FT_PARAMS: dict[str, Any] = {
    "n_blocks": 2,
    "d_token": 64,
    "attention_n_heads": 8,
    "attention_dropout": 0.2,
    "ffn_d_hidden": 85,
    "ffn_dropout": 0.1,
    "residual_dropout": 0.0,
}
FT_ROWS = 10_000
FT_EPOCHS = 2
TARGET_TABLE = 1.05


@dataclass
class Table:
    """A mixed-type table: ``frame`` (numeric columns first, then categorical) and labels."""

    frame: pd.DataFrame
    y: np.ndarray

    @property
    def numeric(self) -> list[str]:
        return [c for c in self.frame.columns if c.startswith("num")]

    @property
    def categorical(self) -> list[str]:
        return [c for c in self.frame.columns if c.startswith("cat")]


def make_table(n: int, seed: int = 0) -> Table:
    """``n`` rows; the label is a noisy rule over numeric values and per-level effects."""
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    numeric = rng.standard_normal((n, N_NUMERIC), dtype=np.float32)
    logits = numeric @ rng.standard_normal((N_NUMERIC, N_CLASSES)).astype(np.float32)
    for i in range(N_NUMERIC):
        columns[f"num{i}"] = numeric[:, i]
    for j, k in enumerate(CARDINALITIES):
        codes = rng.integers(0, k, n)
        logits += rng.standard_normal((k, N_CLASSES)).astype(np.float32)[codes]
        # zero-padded names sort in code order
        columns[f"cat{j}"] = pd.Categorical.from_codes(codes, [f"level{v:04d}" for v in range(k)])
    y = (logits + rng.gumbel(size=logits.shape)).argmax(axis=1).astype(np.int64)
    y[:N_CLASSES] = np.arange(N_CLASSES)
    return Table(pd.DataFrame(columns), y)


def table_tensors(table: Table) -> tuple[torch.Tensor, torch.Tensor, FeatureInfo]:
    """What a hand-written loop derives from the frame: numeric values, codes + 1, layout."""
    frame = table.frame
    x_num = torch.from_numpy(frame[table.numeric].to_numpy(np.float32, copy=True))
    used = [frame[c].cat.remove_unused_categories() for c in table.categorical]
    x_cat = torch.from_numpy(np.stack([col.cat.codes.to_numpy(np.int64) + 1 for col in used], axis=1))
    info = FeatureInfo(table.numeric, table.categorical, [len(col.cat.categories) + 1 for col in used])
    return x_num, x_cat, info


class EmbeddingMLP(nn.Module):
    """The hand-written network: one embedding per categorical column (the same widths as
    mlrpy's), concatenated with the numeric values, then 64 → 64 → classes with ReLU."""

    def __init__(self, info: FeatureInfo, n_outputs: int, hidden: int = 64) -> None:
        super().__init__()
        # built in mlrpy's order (embeddings first), so the same seed gives the same weights
        self.embed = TabularInput(info)
        self.body = nn.Sequential(
            nn.Linear(self.embed.out_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_outputs),
        )

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        parts = [x_num] + [emb(x_cat[:, i]) for i, emb in enumerate(self.embed.embeddings)]
        return self.body(torch.cat(parts, dim=1))


def _train_raw(
    net: nn.Module,
    inputs: list[torch.Tensor],
    y: torch.Tensor,
    batch_size: int,
    epochs: int,
    two_inputs: bool,
) -> nn.Module:
    optimizer = torch.optim.Adam(net.parameters(), lr=LR, fused=True)
    loss_fn = nn.CrossEntropyLoss()
    n = len(y)
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(n)
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            batch = [t.index_select(0, idx) for t in inputs]
            out = net(*batch) if two_inputs else net(batch[0])
            loss = loss_fn(out, y.index_select(0, idx))
            loss.backward()
            optimizer.step()
    return net


def fit_table_raw(table: Table, batch_size: int, cfg: Config) -> nn.Module:
    """(j) The hand-written loop: codes from pandas, two tensors, the embedding MLP."""
    torch.manual_seed(cfg.seed)
    x_num, x_cat, info = table_tensors(table)
    net = EmbeddingMLP(info, N_CLASSES)
    return _train_raw(net, [x_num, x_cat], torch.from_numpy(table.y), batch_size, cfg.epochs, True)


def fit_table_mlrpy(table: Table, batch_size: int, cfg: Config) -> nn.Module:
    """(j) ``lrn("classif.mlp", neurons=(64, 64)).fit(frame, y)``."""
    learner = mlrpy.lrn(
        "classif.mlp", neurons=(64, 64), epochs=cfg.epochs, batch_size=batch_size, random_state=cfg.seed,
        num_threads=1, device="cpu", **{"opt.lr": LR},
    )
    learner.fit(table.frame, table.y)
    return learner.model.network


def fit_ft_raw(table: Table, batch_size: int, epochs: int, seed: int) -> nn.Module:
    """(l) mlrpy's ``FTTransformer`` module trained by the hand-written loop."""
    torch.manual_seed(seed)
    x_num, x_cat, info = table_tensors(table)
    x = torch.cat([x_num, x_cat.float()], dim=1)  # the module's input layout
    net = FTTransformer(info, N_CLASSES, **FT_PARAMS)
    return _train_raw(net, [x], torch.from_numpy(table.y), batch_size, epochs, False)


def fit_ft_mlrpy(table: Table, batch_size: int, epochs: int, seed: int) -> nn.Module:
    """(l) ``lrn("classif.ft_transformer", ...).fit(frame, y)`` with the same module."""
    learner = mlrpy.lrn(
        "classif.ft_transformer", epochs=epochs, batch_size=batch_size, random_state=seed, num_threads=1,
        device="cpu", ffn_d_hidden_multiplier=None, **FT_PARAMS, **{"opt.lr": LR},
    )
    learner.fit(table.frame, table.y)
    return learner.model.network


def section_table(cfg: Config) -> list[dict[str, Any]]:
    """(j) the embedding MLP on the mixed table, raw and mlrpy interleaved."""
    n = 2000 if cfg.quick else TABLE_ROWS
    table = make_table(n, cfg.seed)
    warm = make_table(500, cfg.seed)  # first-call costs (kernels, allocator) out of the timings
    fit_table_raw(warm, TABLE_BATCH_SIZE, cfg), fit_table_mlrpy(warm, TABLE_BATCH_SIZE, cfg)
    variants = {
        "raw": partial(fit_table_raw, table, TABLE_BATCH_SIZE, cfg),
        "mlrpy": partial(fit_table_mlrpy, table, TABLE_BATCH_SIZE, cfg),
    }
    timings, nets = interleaved(variants, cfg.repeats, cfg.device, cfg.min_seconds)
    log(f"table n={n}: " + ", ".join(f"{k} {t.median:.3f}s" for k, t in timings.items()))
    return [{
        "n": n, "batch_size": TABLE_BATCH_SIZE, "epochs": cfg.epochs,
        "raw": vars(timings["raw"]), "mlrpy": vars(timings["mlrpy"]),
        "weights_max_abs_diff": max_weight_diff(nets["raw"], nets["mlrpy"]),
    }]


def section_ft(cfg: Config) -> list[dict[str, Any]]:
    """(l) FT-Transformer seconds per epoch, raw and mlrpy interleaved."""
    n = 500 if cfg.quick else FT_ROWS
    table = make_table(n, cfg.seed)
    epochs = 1 if cfg.quick else FT_EPOCHS
    warm = make_table(300, cfg.seed)
    fit_ft_raw(warm, TABLE_BATCH_SIZE, 1, cfg.seed), fit_ft_mlrpy(warm, TABLE_BATCH_SIZE, 1, cfg.seed)
    variants = {
        "raw": partial(fit_ft_raw, table, TABLE_BATCH_SIZE, epochs, cfg.seed),
        "mlrpy": partial(fit_ft_mlrpy, table, TABLE_BATCH_SIZE, epochs, cfg.seed),
    }
    timings, nets = interleaved(variants, cfg.repeats, cfg.device, cfg.min_seconds)
    log(f"ft_transformer n={n}: " + ", ".join(f"{k} {t.median:.3f}s" for k, t in timings.items()))
    return [{
        "n": n, "batch_size": TABLE_BATCH_SIZE, "epochs": epochs,
        "raw": vars(timings["raw"]), "mlrpy": vars(timings["mlrpy"]),
        "weights_max_abs_diff": max_weight_diff(nets["raw"], nets["mlrpy"]),
    }]
