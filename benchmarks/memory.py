"""(f) Peak memory: each variant fits once in a fresh subprocess.

The parent starts ``python -m benchmarks --memory-child VARIANT ...``; the child prints one
line ``MEMORY_RESULT {json}`` that the parent parses.
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from benchmarks.task import Config, log, make_data
from benchmarks.variants import FITS

MEMORY_TAG = "MEMORY_RESULT "
REPO_ROOT = Path(__file__).resolve().parents[1]


def section_memory(cfg: Config, with_skorch: bool) -> list[dict[str, Any]]:
    """Peak RSS of raw, mlrpy and (unless ``--quick``) skorch, each fit in its own process.

    The children run at the same time (peak RSS is per process, so they do not disturb each
    other's numbers) to keep the section short.
    """
    n, bs = max(cfg.sizes), max(cfg.batch_sizes)
    with_skorch = with_skorch and not cfg.quick  # --quick: two children, to stay fast
    variants = ["raw", "mlrpy"] + (["skorch"] if with_skorch else [])
    procs = {}
    for variant in variants:
        cmd = [sys.executable, "-m", "benchmarks", "--memory-child", variant]
        cmd += ["--sizes", str(n), "--batch-sizes", str(bs), "--epochs", str(cfg.epochs)]
        cmd += ["--seed", str(cfg.seed), "--device", cfg.device]
        if with_skorch:
            cmd.append("--import-skorch")
        procs[variant] = subprocess.Popen(
            cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    rows = []
    for variant, proc in procs.items():
        result = child_result(variant, proc)
        rows.append({"variant": variant, "n": n, "batch_size": bs, **result})
        log(f"memory {variant}: peak {result['peak_rss_mib']:.0f} MiB ({result['method']})")
    return rows


def child_result(name: str, proc: subprocess.Popen[str]) -> dict[str, Any]:
    """The ``MEMORY_RESULT`` a child process printed, once it exits; its stderr if it failed."""
    stdout, stderr = proc.communicate()
    lines = [ln for ln in stdout.splitlines() if ln.startswith(MEMORY_TAG)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"memory child '{name}' failed ({proc.returncode}):\n{stderr[-3000:]}")
    return json.loads(lines[-1][len(MEMORY_TAG) :])


def _status_kib(field_name: str) -> int | None:
    """A ``kB`` field of ``/proc/self/status`` (Linux), or ``None``."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (``VmHWM``) of this process; ``False`` if impossible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


def _lifetime_peak_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def memory_child(variant: str, cfg: Config, import_skorch: bool) -> None:
    """Body of one ``--memory-child`` subprocess: fit once, print peak RSS as JSON.

    After a tiny warm-up fit of the same variant, the peak-RSS counter is reset (Linux) just
    before the measured fit, so the peak is that of the fit alone (transient memory of the
    imports and first-use costs do not mask it); elsewhere the process lifetime peak
    (``ru_maxrss``) is reported.
    """
    import sklearn  # noqa: F401  (same imports in every child: a common baseline)

    if import_skorch:
        import skorch  # noqa: F401
    data = make_data(cfg.sizes[0], cfg.seed)
    fit = FITS[variant]
    # a tiny warm-up fit first: the first forward/backward of a process maps ~80 MiB of
    # kernels and allocator arenas that every variant pays alike; the measured peak is the fit's
    fit(make_data(256, cfg.seed + 1), cfg.batch_sizes[0], replace(cfg, epochs=1))
    if cfg.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    result = measure_peak(lambda: fit(data, cfg.batch_sizes[0], cfg))
    if cfg.device == "cuda":
        result["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    print(MEMORY_TAG + json.dumps(result), flush=True)


def measure_peak(run: Callable[[], Any]) -> dict[str, Any]:
    """Peak RSS while ``run()`` runs, in MiB, with the RSS before it and how it was measured:
    the peak-RSS counter is reset first where the kernel allows it (Linux), else the peak is
    the process lifetime's (``ru_maxrss``)."""
    import psutil

    gc.collect()
    windowed = _reset_peak_rss()
    before = psutil.Process().memory_info().rss
    run()
    lifetime = _lifetime_peak_bytes()
    hwm = _status_kib("VmHWM") if windowed else None
    peak = hwm * 1024 if hwm is not None else lifetime
    return {
        "method": "VmHWM reset before the fit" if hwm is not None else "ru_maxrss (process lifetime)",
        "rss_before_mib": before / 2**20,
        "peak_rss_mib": peak / 2**20,
        "increase_mib": (peak - before) / 2**20,
        "lifetime_peak_mib": lifetime / 2**20,
    }
