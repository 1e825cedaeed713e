"""(m) One training on several processes: mlrpy ``strategy="ddp"`` against a hand-written
``DistributedDataParallel`` script, and one process as the reference.

The main task (MLP 32-64-64-3, Adam, cross-entropy) on 200,000 rows at batch size 1024 per
process, so that the training loop and not the start of the processes takes most of a run:

- ``mlrpy 1 process``: ``classif.module`` as in section b;
- ``mlrpy ddp``: the same learner with ``strategy="ddp", devices=2``: ``fit`` spawns the
  workers, each trains on its shard of every epoch, rank 0's network comes back;
- ``hand ddp``: what one writes by hand: ``torch.multiprocessing.spawn`` of 2 workers, each
  joining a gloo process group through a ``file://`` store in a temporary folder, seeding and
  building the same network, wrapping it in ``DistributedDataParallel``, and training on
  ``DistributedSampler`` shards (``set_epoch`` every epoch) with ``index_select`` gathers and
  fused Adam; rank 0 saves its ``state_dict`` to a file the parent reads.

Every worker uses one torch thread. Timed: the whole call in the parent (the workers' start,
imports and process group included) and, on rank 0, the training itself: from the start of
the first epoch to the end of the last. For mlrpy a small module-level callback records the
first ``on_epoch_begin`` (after the ranks' first collective) and the last ``on_epoch_end`` in
its state; the hand-written script starts its clock once its network, DDP wrapper (whose
construction synchronises the ranks), optimizer and sampler exist. mlrpy wraps the network in
the first epoch, inside its window (milliseconds). Both windows leave out torch's one-time
import of ``torch._dynamo`` (seconds), which the first optimizer or DDP wrapper of a process
triggers.
With ``--device cuda`` the section uses every visible GPU (``devices`` = the number of GPUs,
nccl) and needs at least two.
"""

from __future__ import annotations

import math
import statistics
import time
from functools import partial
from typing import Any

import torch
import torch.multiprocessing as mp

import mlrpy
from benchmarks.hand_ddp import Trained, fit_hand_ddp
from benchmarks.task import Config, Data, log, make_data
from benchmarks.timing import interleaved, max_weight_diff
from benchmarks.variants import make_mlrpy
from mlrpy.errors import DistributedError

DDP_ROWS = 200_000
DDP_BATCH_SIZE = 1024  # per process: the effective batch is this times the processes
QUICK_ROWS = 2000
QUICK_BATCH_SIZE = 256
CPU_PROCESSES = 2
#: mlrpy ddp / hand-written ddp, training time inside the workers
TARGET_DDP = 1.05
VARIANTS = ("mlrpy_1", "mlrpy_ddp", "hand_ddp")
CLOCK_ID = "train_clock"
#: a run whose worker fails is run again; this many failures of one variant end the section
MAX_FAILURES = 3


class CallbackSetTrainClock(mlrpy.CallbackSet):
    """Records when the first epoch starts and the last one ends (``time.perf_counter``).

    The first ``on_epoch_begin`` comes after the ranks' first collective, so on every rank the
    clock starts once all ranks are ready, as the hand-written script's does after building its
    ``DistributedDataParallel`` wrapper (a broadcast); ``on_epoch_end`` comes before the
    end-of-epoch collective. Defined at module level: the workers of a DDP fit are spawned and
    unpickle it by name.
    """

    def __init__(self) -> None:
        self.start = math.nan
        self.end = math.nan

    def on_epoch_begin(self) -> None:
        if math.isnan(self.start):
            self.start = time.perf_counter()

    def on_epoch_end(self) -> None:
        if self.ctx.device is not None and torch.device(self.ctx.device).type == "cuda":
            torch.cuda.synchronize()
        self.end = time.perf_counter()

    def state_dict(self) -> dict[str, float]:
        return {"start": self.start, "end": self.end, "seconds": self.end - self.start}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.start, self.end = state["start"], state["end"]


train_clock = mlrpy.TorchCallback(CLOCK_ID, CallbackSetTrainClock)


def fit_mlrpy_processes(data: Data, batch_size: int, cfg: Config, devices: int) -> Trained:
    """``lrn("classif.module", ...)`` with ``strategy="ddp", devices=devices`` (``devices``
    1: no strategy, the ordinary single-process fit)."""
    learner = make_mlrpy(batch_size, cfg, callbacks=[train_clock])
    if devices > 1:
        learner.set_params(strategy="ddp", devices=devices)
    learner.fit(data.X, data.y)
    return Trained(learner.model.network, learner.model.callbacks[CLOCK_ID]["seconds"])


def ddp_processes(cfg: Config) -> int:
    """The processes of the parallel variants: 2 on the CPU, one per GPU with CUDA."""
    return torch.cuda.device_count() if cfg.device == "cuda" else CPU_PROCESSES


def section_ddp(cfg: Config) -> list[dict[str, Any]]:
    """(m) mlrpy on 1 process, mlrpy ddp and the hand-written ddp, interleaved."""
    devices = ddp_processes(cfg)
    if devices < 2:
        cfg.notes.append(f"Section m not run: it needs at least 2 CUDA devices, found {devices}.")
        return []
    n = cfg.ddp_rows
    batch_size = QUICK_BATCH_SIZE if cfg.quick else DDP_BATCH_SIZE
    data = make_data(n, cfg.seed)
    fits = {
        "mlrpy_1": partial(fit_mlrpy_processes, data, batch_size, cfg, 1),
        "mlrpy_ddp": partial(fit_mlrpy_processes, data, batch_size, cfg, devices),
        "hand_ddp": partial(fit_hand_ddp, data, batch_size, cfg, devices),
    }
    if not cfg.quick:  # the first spawn pays for cold caches; quick mode keeps its seconds
        warm = make_data(4 * batch_size * devices, cfg.seed)
        for fit in (fit_mlrpy_processes, fit_hand_ddp):
            try:
                fit(warm, batch_size, cfg, devices)
            except (DistributedError, mp.ProcessException) as err:
                log(f"ddp warm-up: a run failed ({err})")
    runs: dict[str, dict[str, list[Any]]] = {name: {"wall": [], "train": [], "failures": []} for name in fits}

    def timed(name: str) -> Trained:
        """One run of ``name``, its wall and training seconds recorded; a run whose worker
        failed is recorded as a failure and run again (at most ``MAX_FAILURES`` per variant)."""
        run = runs[name]
        while True:
            start = time.perf_counter()
            try:
                trained = fits[name]()
            except (DistributedError, mp.ProcessException) as err:
                run["failures"].append(f"{type(err).__name__}: {err}")
                log(f"ddp {name}: a run failed ({err}); running it again")
                if len(run["failures"]) >= MAX_FAILURES:
                    raise
                continue
            run["wall"].append(time.perf_counter() - start)
            run["train"].append(trained.train_seconds)
            return trained

    # interleaved() gives the order; the seconds are timed()'s, without failed runs
    _, last = interleaved(
        {name: partial(timed, name) for name in fits}, cfg.repeats, cfg.device, cfg.min_seconds
    )
    row: dict[str, Any] = {"n": n, "batch_size": batch_size, "processes": devices, "epochs": cfg.epochs}
    row.update(runs)
    row["weights_max_abs_diff"] = max_weight_diff(last["mlrpy_ddp"].network, last["hand_ddp"].network)
    log(
        f"ddp n={n} bs={batch_size}x{devices}: "
        + ", ".join(
            f"{k} {statistics.median(v['wall']):.3f}s (train {statistics.median(v['train']):.3f}s)"
            for k, v in runs.items()
        )
    )
    return [row]


_LABELS = {"mlrpy_1": "mlrpy, 1 process", "mlrpy_ddp": "mlrpy ddp", "hand_ddp": "hand-written ddp"}


def ddp_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The report's section: seconds per variant, the ratios and the target's verdict."""
    from benchmarks.report import fmt, md_table  # the report imports this module
    from benchmarks.timing import best, med, pair_ratios, quartiles, ratio, reps

    r = rows[0]
    p = r["processes"]
    lines = [
        f"## Data-parallel training (m): n={r['n']}, batch size {r['batch_size']} per process, "
        f"{r['epochs']} epochs, {p} processes",
        "",
        f'mlrpy `classif.module` on 1 process; the same with `strategy="ddp", devices={p}`; a '
        "hand-written script (`torch.multiprocessing.spawn`, a process group over a `file://` store, "
        "`DistributedDataParallel`, `DistributedSampler` shards, `index_select` gathers, fused Adam). "
        "One torch thread per process. total: the whole call in the calling process, the workers' "
        "start included; training: on rank 0, from the start of the first epoch (network, optimizer "
        "and shards ready, ranks in step) to the end of the last; start and stop: total minus "
        "training; failed runs: runs in which a worker failed, each run again and left out of the "
        "timings. Ratios are the median of the ratios within each round, best the ratio of the "
        "fastest runs.",
        "",
    ]
    table = []
    for name, label in _LABELS.items():
        v = r[name]
        start_stop = [w - t for w, t in zip(v["wall"], v["train"])]
        table.append(
            [
                label,
                1 if name == "mlrpy_1" else p,
                reps(r),
                fmt(med(v)),
                fmt(best(v)),
                fmt(med(v, "train")),
                fmt(best(v, "train")),
                fmt(med({"x": start_stop}, "x")),
                len(v["failures"]),
            ]
        )
    headers = [
        "variant",
        "processes",
        "reps",
        "total (s)",
        "total best (s)",
        "training (s)",
        "training best (s)",
        "start and stop (s)",
        "failed runs",
    ]
    lines += [md_table(headers, table), ""]

    def pair(num: str, den: str, key: str) -> tuple[float, str, float]:
        ratios = pair_ratios(r[num], r[den], key)
        q1, q3 = quartiles(ratios)
        spread = "-" if math.isnan(q1) else f"{q1:.3f}-{q3:.3f}"
        return statistics.median(ratios), spread, ratio(best(r[num], key), best(r[den], key))

    comparisons = [
        (f"speedup of {p} processes: mlrpy 1 process / mlrpy ddp", "mlrpy_1", "mlrpy_ddp"),
        (f"speedup of {p} processes: mlrpy 1 process / hand-written ddp", "mlrpy_1", "hand_ddp"),
        ("mlrpy ddp / hand-written ddp", "mlrpy_ddp", "hand_ddp"),
    ]
    ratio_rows = []
    for label, num, den in comparisons:
        train_mid, train_spread, train_best = pair(num, den, "train")
        wall_mid, _, wall_best = pair(num, den, "wall")
        ratio_rows.append(
            [label, fmt(train_mid), train_spread, fmt(train_best), fmt(wall_mid), fmt(wall_best)]
        )
    headers = [
        "ratio",
        "training (median)",
        "training (quartiles)",
        "training best",
        "total (median)",
        "total best",
    ]
    dw = r["weights_max_abs_diff"]
    lines += [
        md_table(headers, ratio_rows),
        "",
        f"max abs dw, mlrpy ddp against hand-written ddp (rank 0's weights): {dw:.1g}.",
        "",
    ]
    mid, _, best_ratio = pair("mlrpy_ddp", "hand_ddp", "train")
    verdict = "met" if mid <= TARGET_DDP else ("met by best-of" if best_ratio <= TARGET_DDP else "MISSED")
    target = f"mlrpy ddp / hand-written ddp ≤ {TARGET_DDP} (training time, {p} processes)"
    return lines, [(target, f"median pair ratio {mid:.3f} (best-of {best_ratio:.3f})", verdict)]
