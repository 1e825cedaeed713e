"""The timed sections: fit time (a-c), callbacks (d), prediction (e), scaling (g), paired (h).

Each returns JSON-ready rows: the configuration plus, per variant, the wall and CPU
seconds of every repeat (``Timing`` as a dict). Memory (f) is in ``benchmarks.memory``,
the GPU sync check in ``benchmarks.gpu``.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from dataclasses import asdict, replace
from functools import partial
from typing import Any

import numpy as np

import mlrpy
from benchmarks.task import (
    CALLBACK_REPEATS,
    PAIRED_MAX_REPEATS,
    PAIRED_REPEATS,
    PAIRED_SECONDS,
    PREDICT_CHUNK,
    Config,
    log,
    make_data,
)
from benchmarks.timing import Timing, interleaved, max_weight_diff
from benchmarks.variants import (
    fit_mlrpy,
    fit_raw,
    fit_raw_fused,
    fit_skorch,
    make_mlrpy,
    noop_callbacks,
    predict_raw,
)


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


def _row(config: dict[str, Any], timings: dict[str, Timing]) -> dict[str, Any]:
    return {**config, **{name: asdict(t) for name, t in timings.items()}}


def _log_row(label: str, timings: dict[str, Timing]) -> None:
    log(f"{label}: " + ", ".join(f"{k} {t.median:.3f}s" for k, t in timings.items()))


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
            row = _row({"n": n, "batch_size": bs}, timings)
            if "raw" in nets and "mlrpy" in nets:
                # each mlrpy variant against the hand-written loop doing the same computation
                row["weights_max_abs_diff"] = max(
                    max_weight_diff(nets["raw"], nets["mlrpy_forloop"]),
                    max_weight_diff(nets["raw_fused"], nets["mlrpy"]),
                )
            rows.append(row)
            _log_row(f"fit n={n} bs={bs}", timings)
    return rows


def section_paired(cfg: Config) -> list[dict[str, Any]]:
    """(h) mlrpy against the fastest hand-written loop, two variants only, every batch size.

    With two variants a round takes two fits, so both runs of a pair meet nearly the same
    state of the host and the ratio within the pair is steadier than a ratio of medians
    taken over rounds of five variants.
    """
    n = min(cfg.sizes)
    data = make_data(n, cfg.seed)
    repeats = cfg.repeats if cfg.quick else max(cfg.repeats, PAIRED_REPEATS)
    rows = []
    for bs in cfg.batch_sizes:
        variants = {
            "raw_fused": partial(fit_raw_fused, data, bs, cfg),
            "mlrpy": partial(fit_mlrpy, data, bs, cfg),
        }
        seconds = cfg.min_seconds if cfg.quick else max(cfg.min_seconds, PAIRED_SECONDS)
        timings, nets = interleaved(variants, repeats, cfg.device, seconds, PAIRED_MAX_REPEATS)
        row = _row({"n": n, "batch_size": bs}, timings)
        row["weights_max_abs_diff"] = max_weight_diff(nets["raw_fused"], nets["mlrpy"])
        rows.append(row)
        _log_row(f"paired n={n} bs={bs}", timings)
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
    # the effect sought (a few %) is smaller than the fit-to-fit noise: more repeats than (a-c)
    repeats = cfg.repeats if cfg.quick else max(cfg.repeats, CALLBACK_REPEATS)
    rows = []
    for bs in cfg.batch_sizes:
        variants = {f"cb{k}": partial(fit_mlrpy, data, bs, cfg, cbs) for k, cbs in callbacks.items()}
        timings, _ = interleaved(variants, repeats, cfg.device, cfg.min_seconds)
        config = {
            "n": n,
            "batch_size": bs,
            "stage_calls_per_callback": stage_calls(n, bs, cfg.epochs),
            "dispatch_ns_per_call": dispatch_ns,
        }
        rows.append(_row(config, timings))
        _log_row(f"callbacks n={n} bs={bs}", timings)
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
        row = _row({"n": n}, timings)
        row["same"] = bool(np.allclose(out["raw"], out["mlrpy"], atol=1e-5))
        rows.append(row)
        _log_row(f"predict n={n}", timings)
    return rows


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
        rows.append(_row({"n": n, "batch_size": bs}, timings))
        _log_row(f"scaling n={n}", timings)
    return rows
