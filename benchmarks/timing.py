"""Interleaved timing and the statistics the report draws from it.

On a shared machine, noise only ever adds time and comes in bursts of seconds. So the
variants of one configuration take turns (ABC BCA CAB ...), the report gives medians and
best-of-repeats, and the paired section takes the ratio within each round, whose two runs
were seconds apart.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from benchmarks.task import MAX_REPEATS


@dataclass
class Timing:
    """Wall-clock and process CPU seconds of the repeats of one variant, in round order."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.wall) if self.wall else math.nan


def synchronize(device: str) -> None:
    if device == "cuda":
        import torch

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
    variants: Mapping[str, Callable[[], Any]],
    repeats: int,
    device: str,
    min_seconds: float = 0.0,
    max_repeats: int = MAX_REPEATS,
) -> tuple[dict[str, Timing], dict[str, Any]]:
    """Time the variants in turns (ABC BCA CAB ...); returns timings and each last result.

    At least ``repeats`` rounds; more (up to ``max_repeats``) until every variant has run
    for ``min_seconds`` in total, so quick configurations get enough repeats for a stable
    median. Repeat ``i`` of every variant comes from round ``i``.
    """
    names = list(variants)
    timings = {name: Timing() for name in names}
    last: dict[str, Any] = {}
    r = 0
    while r < repeats or (r < max_repeats and min(sum(t.wall) for t in timings.values()) < min_seconds):
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


def med(d: Mapping[str, Any] | None, key: str = "wall") -> float:
    """Median of the repeats (``nan`` when the variant did not run)."""
    return statistics.median(d[key]) if d and d.get(key) else math.nan


def best(d: Mapping[str, Any] | None, key: str = "wall") -> float:
    """Fastest repeat: noise from other processes only ever adds time, so on a shared
    machine the best-of-N ratio is the steadier estimate of the true difference."""
    return min(d[key]) if d and d.get(key) else math.nan


def pair_ratios(num: Mapping[str, Any], den: Mapping[str, Any], key: str = "wall") -> list[float]:
    """``num / den`` within each round (both runs of a round were seconds apart)."""
    return [a / b for a, b in zip(num[key], den[key])]


def quartiles(values: list[float]) -> tuple[float, float]:
    """First and third quartile (``nan`` for fewer than two values): the middle half."""
    if len(values) < 2:
        return math.nan, math.nan
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def reps(row: Mapping[str, Any]) -> int:
    """Number of repeats behind a row (the same for all its variants)."""
    return max((len(v["wall"]) for v in row.values() if isinstance(v, dict) and "wall" in v), default=0)
