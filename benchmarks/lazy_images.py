"""(k) Peak memory of training on image files: a lazy tensor column vs a hand-written loop.

Random RGB PNG files (64x64, which PNG cannot compress: ~12 KiB each; 200 MiB in all, 2 MiB
with ``--quick``) are written to a temporary folder. Each variant then trains the same small
CNN for ``--epochs`` epochs, in its own subprocess (``python -m benchmarks.lazy_images
VARIANT FOLDER ...``), and reports its peak RSS during training with
:func:`benchmarks.memory.measure_peak`:

- ``lazy``: ``classif.module`` on a task whose feature is ``as_lazy_tensor(paths)``;
- ``files``: a ``Dataset`` that opens each file with Pillow, a ``DataLoader`` and a plain
  training loop: what one writes by hand.

Both read images batch by batch, so neither peak should grow with the size of the data set;
the report gives the size the images would take decoded in memory (float32) for scale.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks.memory import MEMORY_TAG, REPO_ROOT, child_result, measure_peak
from benchmarks.task import Config, log
from benchmarks.timing import ratio

SIDE = 64
VARIANTS = ("lazy", "files")
BATCH_SIZE = 64
#: peak RSS of the lazy column at most this multiple of the hand-written loop's
TARGET_LAZY_MEMORY = 1.2


class SmallCNN(nn.Module):
    """A 4x4 stride-4 convolution, then a linear layer: cheap, so reading files dominates."""

    def __init__(self, n_features: int = 3, n_outputs: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(n_features, 8, 4, stride=4)
        self.head = nn.Linear(8 * (SIDE // 4) ** 2, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x).relu().flatten(1))


def write_images(folder: Path, total_mib: float, seed: int) -> list[Path]:
    """Random-noise RGB PNG files of about ``total_mib`` MiB in all (noise does not compress)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    n = max(8, int(total_mib * 2**20 / (SIDE * SIDE * 3)))
    paths = []
    for i in range(n):
        path = folder / f"{i:06d}.png"
        Image.fromarray(rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)).save(path, compress_level=1)
        paths.append(path)
    return paths


class FileImages(torch.utils.data.Dataset):  # type: ignore[type-arg]
    """The hand-written Dataset: file ``i`` decoded with Pillow, and its label."""

    def __init__(self, paths: list[Path], labels: np.ndarray) -> None:
        self.paths, self.labels = paths, labels

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        with Image.open(self.paths[i]) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        return torch.from_numpy(pixels).permute(2, 0, 1), int(self.labels[i])


def train_files(paths: list[Path], labels: np.ndarray, epochs: int, seed: int) -> None:
    torch.manual_seed(seed)
    net = SmallCNN()
    optimizer = torch.optim.Adam(net.parameters())
    generator = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(
        FileImages(paths, labels), batch_size=BATCH_SIZE, shuffle=True, generator=generator
    )
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(net(x), y).backward()
            optimizer.step()


def train_lazy(paths: list[Path], labels: np.ndarray, epochs: int, seed: int) -> None:
    import pandas as pd

    from mlrpy import as_lazy_tensor, as_task_classif, lrn

    task = as_task_classif(pd.DataFrame({"image": as_lazy_tensor(paths), "y": labels}), target="y")
    learner = lrn("classif.module", module=SmallCNN, epochs=epochs, batch_size=BATCH_SIZE, random_state=seed)
    learner.train(task)


TRAIN = {"lazy": train_lazy, "files": train_files}


def child(variant: str, folder: Path, epochs: int, seed: int) -> None:
    """One variant's process: a warm-up on 64 files, then the measured training on all."""
    import mlrpy  # noqa: F401  (every child imports the same modules: a common baseline)

    paths = sorted(folder.glob("*.png"))
    labels = np.random.default_rng(seed).integers(0, 3, len(paths))
    labels[:3] = [0, 1, 2]
    TRAIN[variant](paths[:64], labels[:64], 1, seed)
    result = measure_peak(lambda: TRAIN[variant](paths, labels, epochs, seed))
    print(MEMORY_TAG + json.dumps(result), flush=True)


def section_lazy_images(cfg: Config) -> list[dict[str, Any]]:
    """Peak RSS of each variant, training on the same files, each in its own process."""
    total_mib = 2.0 if cfg.quick else 200.0
    with tempfile.TemporaryDirectory(prefix="mlrpy-images-") as tmp:
        folder = Path(tmp)
        paths = write_images(folder, total_mib, cfg.seed)
        on_disk = sum(p.stat().st_size for p in paths) / 2**20
        log(f"lazy images: wrote {len(paths)} PNG files, {on_disk:.0f} MiB")
        procs = {
            variant: subprocess.Popen(
                [sys.executable, "-m", "benchmarks.lazy_images", variant, str(folder),
                 "--epochs", str(cfg.epochs), "--seed", str(cfg.seed)],
                cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for variant in VARIANTS
        }
        rows = []
        for variant, proc in procs.items():
            result = child_result(variant, proc)
            decoded = len(paths) * 3 * SIDE * SIDE * 4 / 2**20
            rows.append({"variant": variant, "files": len(paths), "on_disk_mib": on_disk,
                         "decoded_mib": decoded, **result})
            log(f"lazy images {variant}: peak {result['peak_rss_mib']:.0f} MiB")
    return rows


def lazy_images_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The report's section: a table of the peaks and the target's verdict."""
    from benchmarks.report import fmt, md_table  # the report imports this module

    first = rows[0]
    lines = [
        f"## Image files (k): peak memory, {first['files']} PNG files of {SIDE}x{SIDE} RGB, "
        f"{first['on_disk_mib']:.0f} MiB on disk, {first['decoded_mib']:.0f} MiB decoded as float32",
        "",
        "Each variant trains the same CNN in its own subprocess: `lazy` is classif.module on a "
        "lazy tensor column of the files, `files` a hand-written Dataset + DataLoader loop. "
        f"Peak: {first['method']}.",
        "",
    ]
    files = next(r for r in rows if r["variant"] == "files")
    table = [
        [r["variant"], fmt(r["rss_before_mib"], 0), fmt(r["peak_rss_mib"], 0), fmt(r["increase_mib"], 1),
         fmt(ratio(r["peak_rss_mib"], files["peak_rss_mib"]))]
        for r in rows
    ]
    headers = ["variant", "RSS before (MiB)", "peak RSS (MiB)", "increase (MiB)", "peak / files peak"]
    lines += [md_table(headers, table), ""]
    lazy = next(r for r in rows if r["variant"] == "lazy")
    peak_ratio = ratio(lazy["peak_rss_mib"], files["peak_rss_mib"])
    verdict = "met" if peak_ratio <= TARGET_LAZY_MEMORY else "MISSED"
    target = f"lazy image column peak ≤ {TARGET_LAZY_MEMORY}x hand loop"
    return lines, [(target, f"{peak_ratio:.3f}", verdict)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lazy_images", description=__doc__)
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    child(args.variant, args.folder, args.epochs, args.seed)


if __name__ == "__main__":
    main()
