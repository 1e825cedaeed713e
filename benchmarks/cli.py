"""``python -m benchmarks``: parse the flags, run the sections, print and write the report.

Everything runs in one process, interleaved, on identical data, network initialisation
and seeds, with one torch thread. Sections (``--sections``):

a. the hand-written loops: "raw" (``x[idx]``, torch's default Adam) and "raw fused"
   (``x.index_select(0, idx)``, ``Adam(fused=True)``: mlrpy's default computation);
b. mlrpy ``classif.module`` with the same network, by default and with ``opt.fused=False``;
c. skorch ``NeuralNetClassifier`` with the same network, optimizer, epochs and batch size;
d. mlrpy with 0, 10 and 50 no-op callbacks that implement every training stage;
e. prediction: mlrpy ``predict_proba`` vs a raw ``no_grad`` loop over the same network;
f. peak memory (RSS) of a, b and c, each in its own subprocess;
g. fit time of a and b as the number of rows doubles (10k to 160k);
h. paired: mlrpy against raw fused alone, ratio within each pair, every batch size;
i. the Dataset path: mlrpy on a Dataset of 3x32x32 images with a small CNN against a
   hand-written ``DataLoader`` loop, ``num_workers`` 0 and 2, paired (``--image-rows``);
j. a 100k-row table with 5 categorical columns: ``classif.mlp`` vs a hand-written loop with
   the same embedding network;
k. peak memory of training on PNG files: a lazy tensor column vs a hand-written Dataset loop;
l. FT-Transformer seconds per epoch: ``classif.ft_transformer`` vs its module in a hand loop;
m. one training on 2 processes: mlrpy ``strategy="ddp"`` vs a hand-written
   ``DistributedDataParallel`` script, and mlrpy on 1 process (``--ddp-rows``).

The Markdown report is printed and written, with a PNG chart and the raw numbers as JSON,
to ``--out`` (default ``benchmarks/results/``), each file atomically.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from benchmarks.chart import plot
from benchmarks.datasets import section_datasets
from benchmarks.ddp import DDP_ROWS, QUICK_ROWS, section_ddp
from benchmarks.gpu import NO_GPU_FALLBACK_LINE, NO_GPU_LINE, section_cuda_sync
from benchmarks.lazy_images import section_lazy_images
from benchmarks.memory import memory_child, section_memory
from benchmarks.report import environment, load_average, render
from benchmarks.sections import (
    section_callbacks,
    section_fit,
    section_paired,
    section_predict,
    section_scaling,
    warm_up,
)
from benchmarks.tables import section_ft, section_table
from benchmarks.task import DEFAULT_OUT, MAX_REPEATS, SECTIONS, Config, log
from benchmarks.variants import skorch_available
from mlrpy.io import atomic_write


def _int_list(text: str) -> list[int]:
    try:
        values = [int(float(v)) for v in text.replace(",", " ").split()]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from err
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _sections(text: str) -> str:
    letters = "".join(c for c in text.lower() if c not in ", ")
    bad = sorted(set(letters) - set(SECTIONS))
    if bad or not letters:
        raise argparse.ArgumentTypeError(f"sections are letters among {SECTIONS!r}, got {text!r}")
    return "".join(c for c in SECTIONS if c in letters)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="mlrpy vs a hand-written PyTorch loop vs skorch (see benchmarks/README.md).",
    )
    p.add_argument("--quick", action="store_true", help="tiny sizes and 1 repeat (smoke test)")
    p.add_argument(
        "--repeats", type=int, default=None, help="interleaved repeats per configuration (default 5)"
    )
    p.add_argument("--sizes", type=_int_list, default=None, help="rows for a-f and h (default 20000,100000)")
    p.add_argument("--batch-sizes", type=_int_list, default=None, help="default 32,128,1024")
    p.add_argument(
        "--scale-sizes",
        type=_int_list,
        default=None,
        help="rows for g (default 10000,20000,40000,80000,160000)",
    )
    p.add_argument(
        "--image-rows", type=int, default=None, help="images in section i's Dataset (default 10000)"
    )
    p.add_argument(
        "--ddp-rows", type=int, default=None, help="rows in section m (default 200000; 2000 with --quick)"
    )
    p.add_argument("--scale-batch-size", type=int, default=128, help="batch size for g (default 128)")
    p.add_argument(
        "--min-seconds",
        type=float,
        default=5.0,
        help=f"repeat a configuration until each variant ran this long in total (at most {MAX_REPEATS} "
        "repeats; default 5; 0 = exactly --repeats; ignored with --quick)",
    )
    p.add_argument("--epochs", type=int, default=5, help="epochs per fit (default 5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--skip-skorch", action="store_true", help="leave skorch out (c and its memory row)")
    p.add_argument(
        "--sections",
        type=_sections,
        default=SECTIONS,
        help=f"which of {SECTIONS[0]}..{SECTIONS[-1]} to run, e.g. 'abc' or 'b,d,h' (default all)",
    )
    p.add_argument("--memory-child", choices=("raw", "mlrpy", "skorch"), help=argparse.SUPPRESS)
    p.add_argument("--import-skorch", action="store_true", help=argparse.SUPPRESS)
    return p


def make_config(args: argparse.Namespace) -> Config:
    quick = bool(args.quick)
    cfg = Config(
        sizes=args.sizes or ([600] if quick else [20_000, 100_000]),
        batch_sizes=args.batch_sizes or [32, 128, 1024],
        scale_sizes=args.scale_sizes or ([200, 400] if quick else [10_000 * 2**i for i in range(5)]),
        scale_batch_size=args.scale_batch_size,
        repeats=args.repeats or (1 if quick else 5),
        min_seconds=0.0 if quick else args.min_seconds,
        epochs=args.epochs,
        seed=args.seed,
        device=args.device,
        skip_skorch=bool(args.skip_skorch),
        sections=args.sections,
        out=args.out,
        quick=quick,
        image_rows=args.image_rows or (256 if quick else 10_000),
        ddp_rows=args.ddp_rows or (QUICK_ROWS if quick else DDP_ROWS),
    )
    if cfg.repeats < 1 or cfg.epochs < 1:
        raise SystemExit("--repeats and --epochs must be >= 1")
    return cfg


def run_sections(cfg: Config, with_skorch: bool, skorch_ok: bool) -> dict[str, Any]:
    """Every selected section, in the order of the report; returns the rows by section."""
    results: dict[str, Any] = {}
    warm_up(cfg, with_skorch)  # (the memory children need no warm-up: each is a fresh process)
    if "i" in cfg.sections:
        results["datasets"] = section_datasets(cfg)
    if set("abc") & set(cfg.sections):
        results["fit"] = section_fit(cfg, with_skorch)
    if "h" in cfg.sections:
        results["paired"] = section_paired(cfg)
    if "d" in cfg.sections:
        results["callbacks"] = section_callbacks(cfg)
    if "e" in cfg.sections:
        results["predict"] = section_predict(cfg)
    if "f" in cfg.sections:
        results["memory"] = section_memory(cfg, skorch_ok)
    if "g" in cfg.sections:
        results["scaling"] = section_scaling(cfg)
    if "j" in cfg.sections:
        results["table"] = section_table(cfg)
    if "k" in cfg.sections:
        results["lazy_images"] = section_lazy_images(cfg)
    if "l" in cfg.sections:
        results["ft_transformer"] = section_ft(cfg)
    if "m" in cfg.sections:
        results["ddp"] = section_ddp(cfg)
    if cfg.device == "cuda":
        results["cuda_sync"] = section_cuda_sync(cfg)
    return results


def _write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected sections, print the Markdown report, write it, JSON and a PNG."""
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)
    cfg = make_config(args)
    if args.memory_child:
        memory_child(args.memory_child, cfg, args.import_skorch)
        return 0

    gpu_note = NO_GPU_LINE
    if cfg.device == "cuda" and not torch.cuda.is_available():
        gpu_note = NO_GPU_FALLBACK_LINE
        cfg.device = "cpu"
    print(gpu_note if cfg.device == "cpu" else f"CUDA device: {torch.cuda.get_device_name(0)}", flush=True)

    skorch_ok = not cfg.skip_skorch and skorch_available()
    if not cfg.skip_skorch and not skorch_ok:
        cfg.notes.append("skorch is not installed: its rows were not run (pip install 'mlrpy[bench]').")
    if cfg.skip_skorch:
        cfg.notes.append("skorch left out (--skip-skorch).")
    with_skorch = skorch_ok and "c" in cfg.sections

    cfg.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"environment": environment(), "config": {**asdict(cfg), "out": str(cfg.out)}}
    results["gpu_note"] = gpu_note
    started = time.perf_counter()
    warnings.filterwarnings("ignore", category=UserWarning, module="skorch")
    results.update(run_sections(cfg, with_skorch, skorch_ok))
    results["seconds"] = time.perf_counter() - started
    results["environment"]["load_average_end"] = load_average()

    report = render(results, cfg) + f"\nTotal benchmark time: {results['seconds']:.0f} s.\n"
    print(report, flush=True)
    _write_text(cfg.out / "results.md", report)
    _write_text(cfg.out / "results.json", json.dumps(results, indent=1, default=str) + "\n")
    plot(results, cfg, cfg.out / "benchmark.png")
    log(f"wrote {cfg.out / 'results.md'}, results.json and benchmark.png")
    return 0
