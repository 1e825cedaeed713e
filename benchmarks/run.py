"""mlrpy vs a hand-written PyTorch loop vs skorch, on one tabular task (issue 6).

Everything runs in one process, interleaved (the variants of one configuration take turns,
repeat after repeat, with the starting variant rotated), on identical data, network
initialisation and seeds, with one torch thread. Sections (``--sections``):

a. the hand-written loop: ``randperm`` each epoch, ``x[idx]``, ``zero_grad(set_to_none=True)``,
   forward, ``CrossEntropyLoss``, backward, Adam step ("raw"); and the same loop doing exactly
   what mlrpy does by default: ``x.index_select(0, idx)`` and ``Adam(fused=True)`` ("raw fused");
b. mlrpy ``classif.module`` with the same network, ``lrn(...).fit(X, y)``, by default ("mlrpy")
   and with torch's default Adam implementation, ``opt.fused=False`` ("mlrpy for-loop");
c. skorch ``NeuralNetClassifier`` with the same network, optimizer, epochs and batch size;
d. mlrpy with 0, 10 and 50 no-op callbacks that implement every training stage;
e. prediction: mlrpy ``predict_proba`` vs a raw ``no_grad`` loop over the same network;
f. peak memory (RSS) of a, b and c, each in its own subprocess;
g. fit time of a and b as the number of rows doubles (10k to 160k).

The Markdown table is printed and written, with a PNG chart and the raw numbers as JSON,
to ``--out`` (default ``benchmarks/results/``). Usage: ``python -m benchmarks [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import mlrpy

N_FEATURES = 32
N_CLASSES = 3
HIDDEN = 64
LR = 1e-3
PREDICT_CHUNK = 1024  # mlrpy predicts in chunks of max(batch_size, 1024) rows
SECTIONS = "abcdefg"
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
MEMORY_TAG = "MEMORY_RESULT "
NO_GPU_LINE = "GPU rows not run: no CUDA device is present."
MAX_REPEATS = 21  # cap of the adaptive repeats (--min-seconds)
CALLBACK_REPEATS = 11  # minimum repeats of section d

# Targets of issue 6 (used only for the summary; nothing fails on them).
TARGET_FIT = 1.05
CEILING_FIT = 1.10
TARGET_SKORCH = 2.0
TARGET_CALLBACKS = 0.05
TARGET_PREDICT = 1.10
TARGET_MEMORY = 1.2


# -- the task ------------------------------------------------------------------------------


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
    """The run's settings (see ``build_parser`` and ``make_config``)."""

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
    notes: list[str] = field(default_factory=list)


# -- the variants --------------------------------------------------------------------------


def _raw_setup(
    data: Data, cfg: Config, fused: bool | None = None
) -> tuple[torch.Tensor, torch.Tensor, nn.Module, Any, nn.Module]:
    """Seed, data tensors, network, Adam and loss of the hand-written loops."""
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    x = torch.from_numpy(data.X).to(device)
    y = torch.from_numpy(data.y).to(device)
    net = MLP(N_FEATURES, N_CLASSES).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=LR, fused=fused)
    return x, y, net, optimizer, nn.CrossEntropyLoss()


def fit_raw(data: Data, batch_size: int, cfg: Config) -> nn.Module:
    """(a) The hand-written loop over in-memory tensors; returns the trained network."""
    x, y, net, optimizer, loss_fn = _raw_setup(data, cfg)
    n = len(x)
    net.train()
    for _ in range(cfg.epochs):
        perm = torch.randperm(n, device=x.device)
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
    return net


def fit_raw_fused(data: Data, batch_size: int, cfg: Config) -> nn.Module:
    """(a') The same loop doing what mlrpy does by default: rows gathered with ``index_select``
    (mlrpy's loader) and torch's fused Adam kernel (mlrpy's ``opt.fused=None``). It performs
    mlrpy's exact computation, so mlrpy / raw fused is the framework's own overhead."""
    x, y, net, optimizer, loss_fn = _raw_setup(data, cfg, fused=True)
    n = len(x)
    net.train()
    for _ in range(cfg.epochs):
        perm = torch.randperm(n, device=x.device)
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(x.index_select(0, idx)), y.index_select(0, idx))
            loss.backward()
            optimizer.step()
    return net


def make_mlrpy(
    batch_size: int, cfg: Config, callbacks: Sequence[Any] | None = None, fused: bool | None = None
) -> Any:
    """The mlrpy learner of variant (b); ``fused=False`` selects torch's default Adam."""
    return mlrpy.lrn(
        "classif.module",
        module=MLP,
        epochs=cfg.epochs,
        batch_size=batch_size,
        random_state=cfg.seed,
        num_threads=1,
        device=cfg.device,
        callbacks=list(callbacks) if callbacks else None,
        **{"opt.lr": LR, "opt.fused": fused},
    )


def fit_mlrpy(
    data: Data,
    batch_size: int,
    cfg: Config,
    callbacks: Sequence[Any] | None = None,
    fused: bool | None = None,
) -> nn.Module:
    """(b) ``lrn("classif.module", ...).fit(X, y)``; returns the trained network."""
    learner = make_mlrpy(batch_size, cfg, callbacks, fused)
    learner.fit(data.X, data.y)
    return learner.model.network


def skorch_available() -> bool:
    try:
        import skorch  # noqa: F401
    except ImportError:
        return False
    return True


def fit_skorch(data: Data, batch_size: int, cfg: Config) -> nn.Module:
    """(c) skorch ``NeuralNetClassifier`` with the same network, optimizer and schedule."""
    from skorch import NeuralNetClassifier

    torch.manual_seed(cfg.seed)
    net = NeuralNetClassifier(
        MLP,
        module__n_features=N_FEATURES,
        module__n_outputs=N_CLASSES,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=LR,
        max_epochs=cfg.epochs,
        batch_size=batch_size,
        train_split=None,
        iterator_train__shuffle=True,
        device=cfg.device,
        verbose=0,
    )
    net.fit(data.X, data.y)
    return net.module_


def _noop(self: Any) -> None:
    """A stage that does nothing."""


def noop_callbacks(k: int) -> list[Any]:
    """``k`` callbacks, each implementing every training stage as a no-op."""
    stages: dict[str, Any] = dict.fromkeys(mlrpy.STAGES, _noop)
    return [mlrpy.torch_callback(f"noop_{i}", **stages) for i in range(k)]


def predict_raw(net: nn.Module, X: np.ndarray, device: str) -> np.ndarray:
    """(e) Class probabilities from a plain ``no_grad`` loop in chunks of 1024 rows."""
    x = torch.from_numpy(X).to(device)
    net.eval()
    with torch.no_grad():
        out = torch.cat([net(x[i : i + PREDICT_CHUNK]) for i in range(0, len(x), PREDICT_CHUNK)])
        return torch.softmax(out, dim=1).cpu().numpy()


# -- timing --------------------------------------------------------------------------------


@dataclass
class Timing:
    """Wall-clock and process CPU seconds of the repeats of one variant."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.wall) if self.wall else math.nan

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu) if self.cpu else math.nan


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_once(fn: Callable[[], Any], device: str) -> tuple[float, float, Any]:
    """Run ``fn`` once; returns (wall seconds, CPU seconds, its result)."""
    gc.collect()
    synchronize(device)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = fn()
    synchronize(device)
    return time.perf_counter() - wall0, time.process_time() - cpu0, result


def interleaved(
    variants: Mapping[str, Callable[[], Any]], repeats: int, device: str, min_seconds: float = 0.0
) -> tuple[dict[str, Timing], dict[str, Any]]:
    """Time the variants in turns (ABC BCA CAB ...); returns timings and each last result.

    At least ``repeats`` rounds; more (up to ``MAX_REPEATS``) until every variant has run for
    ``min_seconds`` in total, so quick configurations get enough repeats for a stable median.
    """
    names = list(variants)
    timings = {name: Timing() for name in names}
    last: dict[str, Any] = {}
    r = 0
    while r < repeats or (r < MAX_REPEATS and min(sum(t.wall) for t in timings.values()) < min_seconds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            wall, cpu, last[name] = time_once(variants[name], device)
            timings[name].wall.append(wall)
            timings[name].cpu.append(cpu)
        r += 1
    return timings, last


def max_weight_diff(a: nn.Module, b: nn.Module) -> float:
    """Largest absolute difference between the parameters of two networks."""
    return max(
        float((p.detach().cpu() - q.detach().cpu()).abs().max())
        for p, q in zip(a.parameters(), b.parameters())
    )


def ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(b) else math.nan


def warm_up(cfg: Config, with_skorch: bool) -> None:
    """One untimed small run of every variant (lazy imports, allocator, first-call costs)."""
    data = make_data(256 if cfg.quick else 2000, cfg.seed)
    small = replace(cfg, epochs=1)
    fit_raw(data, 128, small)
    fit_raw_fused(data, 128, small)
    fit_mlrpy(data, 128, small)
    fit_mlrpy(data, 128, small, fused=False)
    fit_mlrpy(data, 128, small, noop_callbacks(2))
    if with_skorch:
        fit_skorch(data, 128, small)


# -- sections ------------------------------------------------------------------------------


def section_fit(cfg: Config, with_skorch: bool) -> list[dict[str, Any]]:
    """(a, b, c) fit time for every size and batch size."""
    rows = []
    for n in cfg.sizes:
        data = make_data(n, cfg.seed)
        for bs in cfg.batch_sizes:
            variants: dict[str, Callable[[], Any]] = {}
            if "a" in cfg.sections:
                variants["raw"] = partial(fit_raw, data, bs, cfg)
                variants["raw_fused"] = partial(fit_raw_fused, data, bs, cfg)
            if "b" in cfg.sections:
                variants["mlrpy"] = partial(fit_mlrpy, data, bs, cfg)
                variants["mlrpy_forloop"] = partial(fit_mlrpy, data, bs, cfg, fused=False)
            if with_skorch:
                variants["skorch"] = partial(fit_skorch, data, bs, cfg)
            timings, nets = interleaved(variants, cfg.repeats, cfg.device, cfg.min_seconds)
            row: dict[str, Any] = {"n": n, "batch_size": bs}
            for name, t in timings.items():
                row[name] = asdict(t)
            if "raw" in nets and "mlrpy" in nets:
                # each mlrpy variant against the hand-written loop doing the same computation
                row["weights_max_abs_diff"] = max(
                    max_weight_diff(nets["raw"], nets["mlrpy_forloop"]),
                    max_weight_diff(nets["raw_fused"], nets["mlrpy"]),
                )
            rows.append(row)
            log(f"fit n={n} bs={bs}: " + ", ".join(f"{k} {t.median:.3f}s" for k, t in timings.items()))
    return rows


def stage_calls(n: int, batch_size: int, epochs: int) -> int:
    """Stage calls per callback in one run without validation data."""
    batches = -(-n // batch_size)
    per_batch = ("on_batch_begin", "on_after_forward", "on_after_loss", "on_after_backward", "on_batch_end")
    per_epoch = ("on_epoch_begin", "on_before_valid", "on_epoch_end")
    per_run = ("on_begin", "on_end", "on_exit")
    return epochs * (batches * len(per_batch) + len(per_epoch)) + len(per_run)


def dispatch_ns_per_call(k: int = 50, number: int = 20_000) -> float:
    """Nanoseconds one no-op callback adds to one stage call of mlrpy's dispatcher.

    A ``timeit`` of ``StageCaller.call`` with ``k`` no-op callbacks against none (best of 7).
    Fit times on a shared host vary by ±10% from repeat to repeat, more than 50 callbacks
    cost; this isolates their cost (warm caches, so a lower bound on the in-loop cost).
    """
    from mlrpy.learners.loop import StageCaller

    with_k = StageCaller([tc.generate() for tc in noop_callbacks(k)], mlrpy.STAGES).call
    without = StageCaller([], mlrpy.STAGES).call
    t_with = min(timeit.repeat(partial(with_k, "on_batch_begin"), number=number, repeat=7))
    t_without = min(timeit.repeat(partial(without, "on_batch_begin"), number=number, repeat=7))
    return (t_with - t_without) / number / k * 1e9


def section_callbacks(cfg: Config) -> list[dict[str, Any]]:
    """(d) mlrpy with 0, 10 and 50 no-op callbacks on the smallest size."""
    n = min(cfg.sizes)
    data = make_data(n, cfg.seed)
    callbacks = {k: noop_callbacks(k) for k in (0, 10, 50)}
    dispatch_ns = dispatch_ns_per_call()
    rows = []
    for bs in cfg.batch_sizes:
        variants = {f"cb{k}": partial(fit_mlrpy, data, bs, cfg, cbs) for k, cbs in callbacks.items()}
        # the effect sought (a few %) is smaller than the fit-to-fit noise: more repeats than (a-c)
        repeats = cfg.repeats if cfg.quick else max(cfg.repeats, CALLBACK_REPEATS)
        timings, _ = interleaved(variants, repeats, cfg.device, cfg.min_seconds)
        row: dict[str, Any] = {
            "n": n,
            "batch_size": bs,
            "stage_calls_per_callback": stage_calls(n, bs, cfg.epochs),
            "dispatch_ns_per_call": dispatch_ns,
        }
        for name, t in timings.items():
            row[name] = asdict(t)
        rows.append(row)
        log(f"callbacks n={n} bs={bs}: " + ", ".join(f"{k} {t.median:.3f}s" for k, t in timings.items()))
    return rows


def section_predict(cfg: Config) -> list[dict[str, Any]]:
    """(e) ``predict_proba`` vs a raw ``no_grad`` loop, same trained network, every size."""
    rows = []
    for n in cfg.sizes:
        data = make_data(n, cfg.seed)
        learner = make_mlrpy(PREDICT_CHUNK, replace(cfg, epochs=1))
        learner.fit(data.X, data.y)
        variants = {
            "raw": partial(predict_raw, learner.model.network, data.X, cfg.device),
            "mlrpy": partial(learner.predict_proba, data.X),
        }
        timings, out = interleaved(variants, 2 if cfg.quick else max(10, 10 * cfg.repeats), cfg.device)
        same = bool(np.allclose(out["raw"], out["mlrpy"], atol=1e-5))
        rows.append({"n": n, "raw": asdict(timings["raw"]), "mlrpy": asdict(timings["mlrpy"]), "same": same})
        raw_ms, ml_ms = timings["raw"].median * 1e3, timings["mlrpy"].median * 1e3
        log(f"predict n={n}: raw {raw_ms:.1f}ms, mlrpy {ml_ms:.1f}ms")
    return rows


def section_memory(cfg: Config, with_skorch: bool) -> list[dict[str, Any]]:
    """(f) Peak RSS of each variant, each fit in a fresh subprocess.

    The children run at the same time (peak RSS is per process, so they do not disturb each
    other's numbers) to keep the section short.
    """
    n, bs = max(cfg.sizes), max(cfg.batch_sizes)
    with_skorch = with_skorch and not cfg.quick  # --quick: two children, to stay fast
    variants = ["raw", "mlrpy"] + (["skorch"] if with_skorch else [])
    procs = {}
    for variant in variants:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-child", variant]
        cmd += ["--sizes", str(n), "--batch-sizes", str(bs), "--epochs", str(cfg.epochs)]
        cmd += ["--seed", str(cfg.seed), "--device", cfg.device]
        if with_skorch:
            cmd.append("--import-skorch")
        procs[variant] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rows = []
    for variant, proc in procs.items():
        stdout, stderr = proc.communicate()
        lines = [ln for ln in stdout.splitlines() if ln.startswith(MEMORY_TAG)]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"memory child '{variant}' failed ({proc.returncode}):\n{stderr[-3000:]}")
        result = json.loads(lines[-1][len(MEMORY_TAG) :])
        rows.append({"variant": variant, "n": n, "batch_size": bs, **result})
        log(f"memory {variant}: peak {result['peak_rss_mib']:.0f} MiB ({result['method']})")
    return rows


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
    import psutil
    import sklearn  # noqa: F401  (same imports in every child: a common baseline)

    if import_skorch:
        import skorch  # noqa: F401
    data = make_data(cfg.sizes[0], cfg.seed)
    fit = {"raw": fit_raw, "mlrpy": fit_mlrpy, "skorch": fit_skorch}[variant]
    # a tiny warm-up fit first: the first forward/backward of a process maps ~80 MiB of
    # kernels and allocator arenas that every variant pays alike; the measured peak is the fit's
    fit(make_data(256, cfg.seed + 1), cfg.batch_sizes[0], replace(cfg, epochs=1))
    gc.collect()
    if cfg.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    windowed = _reset_peak_rss()
    before = psutil.Process().memory_info().rss
    fit(data, cfg.batch_sizes[0], cfg)
    lifetime = _lifetime_peak_bytes()
    hwm = _status_kib("VmHWM") if windowed else None
    peak = hwm * 1024 if hwm is not None else lifetime
    result = {
        "method": "VmHWM reset before the fit" if hwm is not None else "ru_maxrss (process lifetime)",
        "rss_before_mib": before / 2**20,
        "peak_rss_mib": peak / 2**20,
        "increase_mib": (peak - before) / 2**20,
        "lifetime_peak_mib": lifetime / 2**20,
    }
    if cfg.device == "cuda":
        result["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    print(MEMORY_TAG + json.dumps(result), flush=True)


def section_scaling(cfg: Config) -> list[dict[str, Any]]:
    """(g) raw and mlrpy fit time as the number of rows doubles."""
    rows = []
    bs = cfg.scale_batch_size
    for n in cfg.scale_sizes:
        data = make_data(n, cfg.seed)
        variants = {
            "raw": partial(fit_raw, data, bs, cfg),
            "mlrpy": partial(fit_mlrpy, data, bs, cfg),
        }
        timings, _ = interleaved(variants, cfg.repeats, cfg.device, cfg.min_seconds)
        rows.append({"n": n, "batch_size": bs, **{k: asdict(t) for k, t in timings.items()}})
        log(f"scaling n={n}: " + ", ".join(f"{k} {t.median:.3f}s" for k, t in timings.items()))
    return rows


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
    """Device→host syncs inside the training batch loops (CUDA only).

    A callback switches ``torch.cuda.set_sync_debug_mode("warn")`` on in ``on_epoch_begin``
    and off in ``on_before_valid``, so exactly the batch loops are watched; the warnings are
    counted. The raw loop is watched the same way (its ``randperm`` per epoch is the floor).
    """
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


# -- report --------------------------------------------------------------------------------


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def med(d: dict[str, Any] | None, key: str = "wall") -> float:
    """Median of the repeats (``nan`` when the variant did not run)."""
    return statistics.median(d[key]) if d and d.get(key) else math.nan


def _reps(row: dict[str, Any]) -> int:
    """Number of repeats behind a row (the same for all its variants)."""
    return max((len(v["wall"]) for v in row.values() if isinstance(v, dict) and "wall" in v), default=0)


def best(d: dict[str, Any] | None, key: str = "wall") -> float:
    """Fastest repeat: noise from other processes only ever adds time, so on a shared
    machine the best-of-N ratio is the steadier estimate of the true difference."""
    return min(d[key]) if d and d.get(key) else math.nan


def fmt(x: float, digits: int = 3, suffix: str = "") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}{suffix}"


def loglog_slope(ns: Sequence[int], ts: Sequence[float]) -> float:
    """Slope of log(time) against log(n): 1.0 means linear."""
    if len(ns) < 2:
        return math.nan
    return float(np.polyfit(np.log(ns), np.log(ts), 1)[0])


def _load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages (other processes competing for the cores)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "mlrpy": getattr(mlrpy, "__version__", "?"),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average_start": _load_average(),
    }


def render(results: dict[str, Any], cfg: Config) -> str:
    """The Markdown report: one table per section, then the targets."""
    env = results["environment"]
    out = [
        "# mlrpy benchmark results",
        "",
        f"{env['date']}; python {env['python']}, torch {env['torch']}, {env['cpu_count']} CPU cores, "
        f"torch threads {env['torch_threads']}, device {cfg.device}; {cfg.epochs} epochs, "
        f"{N_FEATURES} features, {N_CLASSES} classes, MLP {N_FEATURES}-{HIDDEN}-{HIDDEN}-{N_CLASSES} (ReLU), "
        f"Adam lr={LR}; median of at least {cfg.repeats} interleaved repeat(s)"
        + (
            f" (more, up to {MAX_REPEATS}, until each variant ran {cfg.min_seconds:g} s; column 'reps')"
            if cfg.min_seconds
            else ""
        )
        + (" (quick mode)" if cfg.quick else "")
        + ".",
        "",
        f"Load average (1/5/15 min) at the start: {env.get('load_average_start')}, at the end: "
        f"{env.get('load_average_end')} (with {env['cpu_count']} cores, a load above ~1 means other "
        "processes competed for the CPU and the timings are noisier).",
        "",
    ]
    out += [f"- {note}" for note in cfg.notes]
    if cfg.notes:
        out.append("")
    summary: list[tuple[str, str, str]] = []

    fit_rows = results.get("fit")
    if fit_rows:
        out += [
            "## Fit time (a: raw loop, b: mlrpy, c: skorch), seconds",
            "",
            "raw: the hand-written loop (`x[idx]`, torch's default Adam); raw fused: the same loop "
            "doing what mlrpy does by default (`x.index_select(0, idx)`, `Adam(fused=True)`); mlrpy: "
            "defaults; mlrpy for-loop: `opt.fused=False` (torch's default Adam). Ratios are of "
            'medians, "best" ratios of the fastest repeats. max abs dw: largest difference between '
            "the weights of mlrpy and raw fused, and of mlrpy for-loop and raw (0 = the same "
            "computation).",
            "",
        ]
        table = []
        for r in fit_rows:
            raw, raw_fused = med(r.get("raw")), med(r.get("raw_fused"))
            ml, ml_loop, sk = med(r.get("mlrpy")), med(r.get("mlrpy_forloop")), med(r.get("skorch"))
            table.append(
                [
                    r["n"],
                    r["batch_size"],
                    _reps(r),
                    fmt(raw),
                    fmt(raw_fused),
                    fmt(ml),
                    fmt(ml_loop),
                    fmt(sk),
                    fmt(ratio(ml, raw), 3),
                    fmt(ratio(best(r.get("mlrpy")), best(r.get("raw"))), 3),
                    fmt(ratio(ml, raw_fused), 3),
                    fmt(ratio(ml_loop, raw), 3),
                    fmt(ratio(sk, ml), 2),
                    fmt(ratio(sk, raw), 2),
                    "-" if "weights_max_abs_diff" not in r else f"{r['weights_max_abs_diff']:.1g}",
                ]
            )
        headers = ["n", "batch size", "reps", "raw (s)", "raw fused (s)", "mlrpy (s)", "mlrpy for-loop (s)"]
        headers += ["skorch (s)", "mlrpy/raw", "mlrpy/raw best", "mlrpy/raw fused", "mlrpy for-loop/raw"]
        headers += ["skorch/mlrpy", "skorch/raw"]
        headers += ["max abs dw"]
        out += [md_table(headers, table), ""]
        fit_ratios = [ratio(med(r.get("mlrpy")), med(r.get("raw"))) for r in fit_rows]
        fit_ratios = [x for x in fit_ratios if not math.isnan(x)]
        if fit_ratios:
            worst = max(fit_ratios)
            verdict = (
                "met" if worst <= TARGET_FIT else ("within ceiling" if worst <= CEILING_FIT else "MISSED")
            )
            best_ratios = [ratio(best(r.get("mlrpy")), best(r.get("raw"))) for r in fit_rows]
            summary.append(
                (
                    f"mlrpy/raw fit ≤ {TARGET_FIT} (ceiling {CEILING_FIT}) at every size and batch size",
                    f"worst {worst:.3f} (best-of-repeats: worst {max(best_ratios):.3f})",
                    verdict,
                )
            )
            for label, num, den in (
                ("framework overhead, same computation: mlrpy / raw fused", "mlrpy", "raw_fused"),
                ("framework overhead, torch's default Adam: mlrpy for-loop / raw", "mlrpy_forloop", "raw"),
            ):
                same_med = [ratio(med(r.get(num)), med(r.get(den))) for r in fit_rows]
                same_best = [ratio(best(r.get(num)), best(r.get(den))) for r in fit_rows]
                summary.append(
                    (
                        f"(for information) {label}",
                        f"worst {max(same_med):.3f} (best-of-repeats: worst {max(same_best):.3f})",
                        "-",
                    )
                )
        sk_ratios = [
            ratio(med(r.get("skorch")), med(r.get("mlrpy"))) for r in fit_rows if r["batch_size"] >= 128
        ]
        sk_ratios = [x for x in sk_ratios if not math.isnan(x)]
        if sk_ratios:
            lowest = min(sk_ratios)
            summary.append(
                (
                    f"skorch/mlrpy ≥ {TARGET_SKORCH} at batch size ≥ 128",
                    f"lowest {lowest:.2f}",
                    "met" if lowest >= TARGET_SKORCH else "MISSED",
                )
            )

    cb_rows = results.get("callbacks")
    if cb_rows:
        out += [
            "## Callback overhead (d): mlrpy with k no-op callbacks implementing every stage",
            "",
            "+k callbacks: median fit time over the 0-callback median; (best): the same of the fastest "
            "repeats; (dispatch): the cost of the stage calls alone, 50 * stage calls * `dispatch ns "
            "per call` (a timeit of the dispatcher, free of the fit-to-fit noise) over the fastest "
            "0-callback fit; ns per callback stage call: the median difference spread over the calls.",
            "",
        ]
        table = []
        for r in cb_rows:
            t0, t10, t50 = med(r["cb0"]), med(r["cb10"]), med(r["cb50"])
            per_call = (t50 - t0) / (50 * r["stage_calls_per_callback"]) * 1e9
            # the dispatch cost of 50 callbacks over the whole run, relative to a fit without them
            modelled = 50 * r["stage_calls_per_callback"] * r.get("dispatch_ns_per_call", math.nan) * 1e-9
            modelled_pct = 100 * ratio(modelled, best(r["cb0"]))
            measured_pct = 100 * (ratio(t50, t0) - 1)
            best_pct = 100 * (ratio(best(r["cb50"]), best(r["cb0"])) - 1)
            table.append(
                [
                    r["n"],
                    r["batch_size"],
                    _reps(r),
                    fmt(t0),
                    fmt(t10),
                    fmt(t50),
                    fmt(100 * (ratio(t10, t0) - 1), 1, "%"),
                    fmt(measured_pct, 1, "%"),
                    fmt(best_pct, 1, "%"),
                    fmt(modelled_pct, 1, "%"),
                    fmt(per_call, 0),
                    fmt(r.get("dispatch_ns_per_call", math.nan), 0),
                ]
            )
            target_pct = 100 * TARGET_CALLBACKS
            summary.append(
                (
                    f"50 no-op callbacks add ≤ {target_pct:.0f}% (batch size {r['batch_size']})",
                    f"{measured_pct:+.1f}% (best-of-repeats: {best_pct:+.1f}%; dispatch: "
                    f"{modelled_pct:+.1f}%)",
                    "met"
                    if measured_pct <= target_pct
                    else ("met by best-of; median noise" if best_pct <= target_pct else "MISSED"),
                )
            )
        out += [
            md_table(
                [
                    "n",
                    "batch size",
                    "reps",
                    "0 callbacks (s)",
                    "10 (s)",
                    "50 (s)",
                    "+10 callbacks",
                    "+50 callbacks",
                    "+50 callbacks (best)",
                    "+50 callbacks (dispatch)",
                    "ns per callback stage call",
                    "dispatch ns per call",
                ],
                table,
            ),
            "",
        ]

    pred_rows = results.get("predict")
    if pred_rows:
        out += ["## Prediction (e): class probabilities, same trained network, milliseconds", ""]
        table = []
        worst, worst_best = 0.0, 0.0
        for r in pred_rows:
            raw, ml = med(r["raw"]), med(r["mlrpy"])
            worst = max(worst, ratio(ml, raw))
            worst_best = max(worst_best, ratio(best(r["mlrpy"]), best(r["raw"])))
            table.append(
                [
                    r["n"],
                    fmt(raw * 1e3, 2),
                    fmt(ml * 1e3, 2),
                    fmt(ratio(ml, raw), 3),
                    fmt(ratio(best(r["mlrpy"]), best(r["raw"])), 3),
                    fmt(r["n"] / ml / 1e6, 2),
                    "yes" if r["same"] else "NO",
                ]
            )
        out += [
            md_table(
                [
                    "n",
                    "raw no_grad (ms)",
                    "mlrpy predict_proba (ms)",
                    "mlrpy/raw",
                    "mlrpy/raw best",
                    "mlrpy M rows/s",
                    "same probabilities",
                ],
                table,
            ),
            "",
        ]
        summary.append(
            (
                f"prediction ≤ {TARGET_PREDICT}x raw",
                f"worst {worst:.3f} (best-of-repeats: worst {worst_best:.3f})",
                "met" if worst <= TARGET_PREDICT else "MISSED",
            )
        )

    mem_rows = results.get("memory")
    if mem_rows:
        n, bs = mem_rows[0]["n"], mem_rows[0]["batch_size"]
        out += [
            f"## Peak memory (f): one fit per subprocess, n={n}, batch size {bs}",
            "",
            "Every child imports the same modules (torch, mlrpy, scikit-learn"
            + (", skorch" if any(r["variant"] == "skorch" for r in mem_rows) else "")
            + "), so the RSS before the fit is a common baseline. Peak: "
            + mem_rows[0]["method"]
            + "; lifetime peak: ru_maxrss of the whole child, imports included.",
            "",
        ]
        raw_peak = next((r["peak_rss_mib"] for r in mem_rows if r["variant"] == "raw"), math.nan)
        raw_inc = next((r["increase_mib"] for r in mem_rows if r["variant"] == "raw"), math.nan)
        has_cuda = any("peak_cuda_mib" in r for r in mem_rows)
        table = []
        for r in mem_rows:
            row = [
                r["variant"],
                fmt(r["rss_before_mib"], 0),
                fmt(r["peak_rss_mib"], 0),
                fmt(r["increase_mib"], 1),
                fmt(ratio(r["peak_rss_mib"], raw_peak), 3),
                fmt(ratio(r["increase_mib"], raw_inc), 2),
                fmt(r["lifetime_peak_mib"], 0),
            ]
            if has_cuda:
                row.append(fmt(r.get("peak_cuda_mib", math.nan), 1))
            table.append(row)
        headers = [
            "variant",
            "RSS before fit (MiB)",
            "peak RSS (MiB)",
            "increase (MiB)",
            "peak / raw peak",
            "increase / raw increase",
            "lifetime peak (MiB)",
        ] + (["peak CUDA (MiB)"] if has_cuda else [])
        out += [md_table(headers, table), ""]
        ml_mem = next((r for r in mem_rows if r["variant"] == "mlrpy"), None)
        if ml_mem is not None:
            summary.append(
                (
                    f"peak memory ≤ {TARGET_MEMORY}x raw",
                    f"{ratio(ml_mem['peak_rss_mib'], raw_peak):.3f}",
                    "met" if ratio(ml_mem["peak_rss_mib"], raw_peak) <= TARGET_MEMORY else "MISSED",
                )
            )

    sc_rows = results.get("scaling")
    if sc_rows:
        bs = sc_rows[0]["batch_size"]
        out += [f"## Scaling (g): fit time as n doubles, batch size {bs}", ""]
        table = []
        for r in sc_rows:
            raw, ml = med(r["raw"]), med(r["mlrpy"])
            table.append(
                [
                    r["n"],
                    _reps(r),
                    fmt(raw),
                    fmt(ml),
                    fmt(ratio(ml, raw), 3),
                    fmt(ratio(best(r["mlrpy"]), best(r["raw"])), 3),
                    fmt(ml / (r["n"] * cfg.epochs) * 1e6, 3),
                ]
            )
        headers = [
            "n",
            "reps",
            "raw (s)",
            "mlrpy (s)",
            "mlrpy/raw",
            "mlrpy/raw best",
            "mlrpy µs per row-epoch",
        ]
        out += [md_table(headers, table), ""]
        ns = [r["n"] for r in sc_rows]
        slope_ml = loglog_slope(ns, [med(r["mlrpy"]) for r in sc_rows])
        slope_raw = loglog_slope(ns, [med(r["raw"]) for r in sc_rows])
        out += [
            f"log-log slope of time against n: mlrpy {fmt(slope_ml, 3)}, raw {fmt(slope_raw, 3)} "
            "(1.0 = linear).",
            "",
        ]
        summary.append(
            (
                "fit time linear in n",
                f"log-log slope {fmt(slope_ml, 3)}",
                "met" if abs(slope_ml - 1) <= 0.1 else "check",
            )
        )

    out += ["## GPU", ""]
    gpu = results.get("cuda_sync")
    if gpu is None:
        out += [results.get("gpu_note", NO_GPU_LINE), ""]
    else:
        out += [
            md_table(
                [
                    "n",
                    "batch size",
                    "training batches",
                    "syncs: raw loop",
                    "syncs: mlrpy",
                    "syncs: mlrpy + loss reader",
                    "no per-batch sync",
                ],
                [
                    [
                        gpu["n"],
                        gpu["batch_size"],
                        gpu["batches"],
                        gpu["raw"],
                        gpu["mlrpy"],
                        gpu["mlrpy_with_loss_reader"],
                        "yes" if gpu["ok"] else "NO",
                    ]
                ],
            ),
            "",
        ]
        summary.append(
            (
                "no per-batch device→host sync without a loss reader",
                f"{gpu['mlrpy']} syncs in {gpu['batches']} batches",
                "met" if gpu["ok"] else "MISSED",
            )
        )

    if summary:
        out += ["## Targets", ""]
        if cfg.quick:
            out += ["Quick mode (tiny sizes, one repeat): these verdicts say nothing about performance.", ""]
        out += [md_table(["target", "measured", "verdict"], summary), ""]
    return "\n".join(out)


def plot(results: dict[str, Any], cfg: Config, path: Path) -> None:
    """A 2x2 PNG: fit ratios, callback overhead, scaling, peak memory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    ax = axes[0][0]
    fit_rows = results.get("fit") or []
    if fit_rows:
        labels = [f"n={_short(r['n'])}\nbs={r['batch_size']}" for r in fit_rows]
        xs = np.arange(len(fit_rows))
        bars = {
            "mlrpy / raw": [ratio(med(r.get("mlrpy")), med(r.get("raw"))) for r in fit_rows],
            "mlrpy / raw fused": [ratio(med(r.get("mlrpy")), med(r.get("raw_fused"))) for r in fit_rows],
            "mlrpy for-loop / raw": [ratio(med(r.get("mlrpy_forloop")), med(r.get("raw"))) for r in fit_rows],
            "skorch / raw": [ratio(med(r.get("skorch")), med(r.get("raw"))) for r in fit_rows],
        }
        bars = {k: v for k, v in bars.items() if not all(math.isnan(x) for x in v)}
        width = 0.8 / max(len(bars), 1)
        for i, (label, values) in enumerate(bars.items()):
            ax.bar(xs + (i - (len(bars) - 1) / 2) * width, values, width, label=label)
        ax.axhline(1.0, color="black", lw=0.8)
        ax.axhline(TARGET_FIT, color="green", ls="--", lw=0.8, label=f"target {TARGET_FIT}")
        ax.set_xticks(xs, labels, fontsize=8)
        ax.set_ylabel("fit time relative to the raw loop")
        ax.legend(fontsize=8)
    ax.set_title("(a-c) fit time vs hand-written loop")

    ax = axes[0][1]
    cb_rows = results.get("callbacks") or []
    if cb_rows:
        xs = np.arange(len(cb_rows))
        for off, k in ((-0.2, 10), (0.2, 50)):
            ax.bar(
                xs + off,
                [100 * (ratio(med(r[f"cb{k}"]), med(r["cb0"])) - 1) for r in cb_rows],
                0.4,
                label=f"{k} no-op callbacks",
            )
        ax.axhline(100 * TARGET_CALLBACKS, color="green", ls="--", lw=0.8, label="target 5%")
        ax.set_xticks(xs, [f"bs={r['batch_size']}" for r in cb_rows])
        ax.set_ylabel("extra fit time (%)")
        ax.legend(fontsize=8)
    ax.set_title("(d) callback overhead")

    ax = axes[1][0]
    sc_rows = results.get("scaling") or []
    if sc_rows:
        ns = [r["n"] for r in sc_rows]
        for name in ("raw", "mlrpy"):
            ax.loglog(ns, [med(r[name]) for r in sc_rows], "o-", label=name)
        t0 = med(sc_rows[0]["raw"])
        ax.loglog(ns, [t0 * n / ns[0] for n in ns], ":", color="gray", label="linear")
        ax.set_xlabel("rows (n)")
        ax.set_ylabel("fit time (s)")
        ax.legend(fontsize=8)
    ax.set_title("(g) scaling in n (log-log)")

    ax = axes[1][1]
    mem_rows = results.get("memory") or []
    if mem_rows:
        names = [r["variant"] for r in mem_rows]
        bars = ax.bar(names, [r["increase_mib"] for r in mem_rows], color="tab:orange")
        for bar, r in zip(bars, mem_rows):
            ax.annotate(
                f"peak {r['peak_rss_mib']:.0f} MiB",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_ylabel("peak RSS during the fit minus RSS before it (MiB)")
        n, bs = mem_rows[0]["n"], mem_rows[0]["batch_size"]
    ax.set_title("(f) memory added by one fit" + (f" (n={_short(n)}, bs={bs})" if mem_rows else ""))

    for a in axes.flat:
        if not a.has_data():
            a.text(0.5, 0.5, "not run", ha="center", va="center", transform=a.transAxes)
    fig.suptitle(
        f"mlrpy benchmark ({cfg.device}, {torch.get_num_threads()} thread(s), "
        f"{cfg.epochs} epochs, medians of interleaved repeats)"
    )
    fig.tight_layout()
    tmp = _temp_path(path)
    try:
        fig.savefig(tmp, format="png", dpi=100)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()


def _short(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def _temp_path(path: Path) -> Path:
    """A fresh temporary file next to ``path``, with the permissions a new file would get."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)
    return Path(name)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path``, then rename it into place."""
    tmp = _temp_path(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# -- command line --------------------------------------------------------------------------


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


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
    p.add_argument("--sizes", type=_int_list, default=None, help="rows for a-f (default 20000,100000)")
    p.add_argument("--batch-sizes", type=_int_list, default=None, help="default 32,128,1024")
    p.add_argument(
        "--scale-sizes",
        type=_int_list,
        default=None,
        help="rows for g (default 10000,20000,40000,80000,160000)",
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
        help="which of a..g to run, e.g. 'abc' or 'b,d,e' (default all)",
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
    )
    if cfg.repeats < 1 or cfg.epochs < 1:
        raise SystemExit("--repeats and --epochs must be >= 1")
    return cfg


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
        gpu_note = "GPU rows not run: --device cuda was given but no CUDA device is present; ran on the CPU."
        cfg.device = "cpu"
    print(gpu_note if cfg.device == "cpu" else f"CUDA device: {torch.cuda.get_device_name(0)}", flush=True)

    skorch_ok = not cfg.skip_skorch and skorch_available()
    if not cfg.skip_skorch and not skorch_ok:
        cfg.notes.append("skorch is not installed: its rows were not run (pip install 'mlrpy[bench]').")
    with_skorch = skorch_ok and "c" in cfg.sections
    if cfg.skip_skorch:
        cfg.notes.append("skorch left out (--skip-skorch).")

    cfg.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"environment": environment(), "config": {**asdict(cfg), "out": str(cfg.out)}}
    results["gpu_note"] = gpu_note
    started = time.perf_counter()
    warnings.filterwarnings("ignore", category=UserWarning, module="skorch")
    warm_up(cfg, with_skorch)  # (the memory children need no warm-up: each is a fresh process)
    if set("abc") & set(cfg.sections):
        results["fit"] = section_fit(cfg, with_skorch)
    if "d" in cfg.sections:
        results["callbacks"] = section_callbacks(cfg)
    if "e" in cfg.sections:
        results["predict"] = section_predict(cfg)
    if "f" in cfg.sections:
        results["memory"] = section_memory(cfg, skorch_ok)
    if "g" in cfg.sections:
        results["scaling"] = section_scaling(cfg)
    if cfg.device == "cuda":
        results["cuda_sync"] = section_cuda_sync(cfg)
    results["seconds"] = time.perf_counter() - started
    results["environment"]["load_average_end"] = _load_average()

    report = render(results, cfg) + f"\nTotal benchmark time: {results['seconds']:.0f} s.\n"
    print(report, flush=True)
    write_atomic(cfg.out / "results.md", report)
    write_atomic(cfg.out / "results.json", json.dumps(results, indent=1, default=str) + "\n")
    plot(results, cfg, cfg.out / "benchmark.png")
    log(f"wrote {cfg.out / 'results.md'}, results.json and benchmark.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
