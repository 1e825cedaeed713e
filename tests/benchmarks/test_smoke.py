"""Smoke test of the benchmark entry point: it runs end to end on tiny sizes.

No timing assertions: only that ``python -m benchmarks --quick`` exits 0 and writes the
Markdown table, the JSON numbers and the PNG chart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("matplotlib")
pytest.importorskip("psutil")


def run_quick_benchmark(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m benchmarks --quick ARGS --out OUT``; asserts that it exits 0."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", *args, "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


def test_quick_benchmark_writes_table_and_chart(tmp_path: Path) -> None:
    proc = run_quick_benchmark(tmp_path)

    table = (tmp_path / "results.md").read_text(encoding="utf-8")
    for heading in (
        "## Fit time",
        "## Paired",
        "## Callback overhead",
        "## Prediction",
        "## Peak memory",
        "## Scaling",
        "## Dataset path (i)",
        "## Categorical columns (j)",
        "## Image files (k)",
        "## FT-Transformer (l)",
        "## Data-parallel training (m)",
        "## Targets",
    ):
        assert heading in table
    assert "mlrpy/raw" in table and "skorch/mlrpy" in table
    assert "GPU rows not run" in table or "syncs: mlrpy" in table
    assert table.strip() in proc.stdout  # the same table is printed

    png = (tmp_path / "benchmark.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000

    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert {
        "fit", "paired", "callbacks", "predict", "memory", "scaling", "table", "ft_transformer", "ddp"
    } <= set(results)
    # the paired section covers every batch size, each a paired row in the targets table
    assert [row["batch_size"] for row in results["paired"]] == [32, 128, 1024]
    for bs in (32, 128, 1024):
        assert f"(paired, batch size {bs})" in table
    # identical seeds, init and batches: mlrpy trains exactly the weights the raw loop does
    for section in ("fit", "paired", "table"):
        assert [row["weights_max_abs_diff"] for row in results[section]] == [0.0] * len(results[section])
    # every round timed both variants of a pair
    assert all(len(row["mlrpy"]["wall"]) == len(row["raw_fused"]["wall"]) >= 1 for row in results["paired"])
    # section m: every variant ran, and its training, timed inside the workers, is part of its run
    ddp = results["ddp"][0]
    for variant in ("mlrpy_1", "mlrpy_ddp", "hand_ddp"):
        runs = ddp[variant]
        assert len(runs["wall"]) == len(runs["train"]) >= 1
        assert all(0 < train < wall for train, wall in zip(runs["train"], runs["wall"]))
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes left no temporary files behind


def test_device_cuda_runs_the_gpu_path_or_says_why_not(tmp_path: Path) -> None:
    import torch

    run_quick_benchmark(tmp_path, "--device", "cuda", "--sections", "ab", "--skip-skorch")
    table = (tmp_path / "results.md").read_text(encoding="utf-8")
    if torch.cuda.is_available():
        assert "syncs: mlrpy" in table
    else:  # falls back to the CPU and says so in the report, not silently
        assert "--device cuda was given but no CUDA device is present; ran on the CPU" in table
        assert "## Fit time" in table
