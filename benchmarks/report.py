"""The Markdown report: a header, one table per section that ran, then the targets.

Every ``_*_table`` function takes the section's rows and returns its Markdown lines and
its entries for the targets table, ``(target, measured, verdict)``.
"""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

import mlrpy
from benchmarks.ddp import ddp_table
from benchmarks.gpu import NO_GPU_LINE
from benchmarks.lazy_images import lazy_images_table
from benchmarks.tables import TARGET_TABLE
from benchmarks.task import (
    CEILING_FIT,
    HIDDEN,
    LR,
    MAX_REPEATS,
    N_CLASSES,
    N_FEATURES,
    TARGET_CALLBACKS,
    TARGET_DATASET,
    TARGET_FIT,
    TARGET_MEMORY,
    TARGET_PAIRED,
    TARGET_PREDICT,
    TARGET_SKORCH,
    Config,
)
from benchmarks.timing import best, med, pair_ratios, quartiles, ratio, reps

Lines = list[str]
Summary = list[tuple[str, str, str]]


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(x: float | None, digits: int = 3, suffix: str = "") -> str:
    return "-" if x is None or math.isnan(x) else f"{x:.{digits}f}{suffix}"


def loglog_slope(ns: Sequence[int], ts: Sequence[float]) -> float:
    """Slope of log(time) against log(n): 1.0 means linear."""
    if len(ns) < 2:
        return math.nan
    return float(np.polyfit(np.log(ns), np.log(ts), 1)[0])


def load_average() -> list[float] | None:
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
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average_start": load_average(),
    }


def _header(results: dict[str, Any], cfg: Config) -> Lines:
    env = results["environment"]
    repeats = f"median of at least {cfg.repeats} interleaved repeat(s)"
    if cfg.min_seconds:
        repeats += (
            f" (more, up to {MAX_REPEATS}, until each variant ran {cfg.min_seconds:g} s; column 'reps')"
        )
    lines = [
        "# mlrpy benchmark results",
        "",
        f"{env['date']}; python {env['python']}, torch {env['torch']}, {env['cpu_count']} CPU cores, "
        f"torch threads {env['torch_threads']}, device {cfg.device}; {cfg.epochs} epochs, "
        f"{N_FEATURES} features, {N_CLASSES} classes, MLP {N_FEATURES}-{HIDDEN}-{HIDDEN}-{N_CLASSES} (ReLU), "
        f"Adam lr={LR}; {repeats}" + (" (quick mode)" if cfg.quick else "") + ".",
        "",
        f"Load average (1/5/15 min) at the start: {env.get('load_average_start')}, at the end: "
        f"{env.get('load_average_end')} (with {env['cpu_count']} cores, a load above ~1 means other "
        "processes competed for the CPU and the timings are noisier).",
        "",
    ]
    lines += [f"- {note}" for note in cfg.notes]
    return [*lines, ""] if cfg.notes else lines


def _worst(values: Iterable[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return max(values) if values else math.nan


def _fit_table(rows: list[dict[str, Any]]) -> tuple[Lines, Summary]:
    lines = [
        "## Fit time (a: raw loop, b: mlrpy, c: skorch), seconds",
        "",
        "raw: the textbook loop (`x[idx]`, torch's default Adam); raw fused: the fastest hand-written "
        "loop, doing what mlrpy does by default (`x.index_select(0, idx)`, `Adam(fused=True)`); mlrpy: "
        "defaults; mlrpy for-loop: `opt.fused=False` (torch's default Adam). Ratios are of medians, "
        '"best" ratios of the fastest repeats. max abs dw: largest difference between the weights of '
        "mlrpy and raw fused, and of mlrpy for-loop and raw (0 = the same computation).",
        "",
    ]
    table = []
    for r in rows:
        raw, raw_fused = med(r.get("raw")), med(r.get("raw_fused"))
        ml, ml_loop, sk = med(r.get("mlrpy")), med(r.get("mlrpy_forloop")), med(r.get("skorch"))
        dw = r.get("weights_max_abs_diff")
        table.append([
            r["n"], r["batch_size"], reps(r), fmt(raw), fmt(raw_fused), fmt(ml), fmt(ml_loop), fmt(sk),
            fmt(ratio(ml, raw)), fmt(ratio(best(r.get("mlrpy")), best(r.get("raw")))),
            fmt(ratio(ml, raw_fused)), fmt(ratio(ml_loop, raw)), fmt(ratio(sk, ml), 2),
            fmt(ratio(sk, raw), 2), "-" if dw is None else f"{dw:.1g}",
        ])
    headers = ["n", "batch size", "reps", "raw (s)", "raw fused (s)", "mlrpy (s)", "mlrpy for-loop (s)",
               "skorch (s)", "mlrpy/raw", "mlrpy/raw best", "mlrpy/raw fused", "mlrpy for-loop/raw",
               "skorch/mlrpy", "skorch/raw", "max abs dw"]
    lines += [md_table(headers, table), ""]

    summary: Summary = []
    worst = _worst(ratio(med(r.get("mlrpy")), med(r.get("raw"))) for r in rows)
    if not math.isnan(worst):
        worst_best = _worst(ratio(best(r.get("mlrpy")), best(r.get("raw"))) for r in rows)
        verdict = "met" if worst <= TARGET_FIT else ("within ceiling" if worst <= CEILING_FIT else "MISSED")
        summary.append((
            f"mlrpy/raw fit ≤ {TARGET_FIT} (ceiling {CEILING_FIT}) at every size and batch size",
            f"worst {worst:.3f} (best-of-repeats: worst {worst_best:.3f})",
            verdict,
        ))
        for label, num, den in (
            ("framework overhead, same computation: mlrpy / raw fused", "mlrpy", "raw_fused"),
            ("framework overhead, torch's default Adam: mlrpy for-loop / raw", "mlrpy_forloop", "raw"),
        ):
            same_med = _worst(ratio(med(r.get(num)), med(r.get(den))) for r in rows)
            same_best = _worst(ratio(best(r.get(num)), best(r.get(den))) for r in rows)
            summary.append((
                f"(for information) {label}",
                f"worst {same_med:.3f} (best-of-repeats: worst {same_best:.3f})",
                "-",
            ))
    sk_ratios = [ratio(med(r.get("skorch")), med(r.get("mlrpy"))) for r in rows if r["batch_size"] >= 128]
    sk_ratios = [x for x in sk_ratios if not math.isnan(x)]
    if sk_ratios:
        lowest = min(sk_ratios)
        summary.append((
            f"skorch/mlrpy ≥ {TARGET_SKORCH} at batch size ≥ 128",
            f"lowest {lowest:.2f}",
            "met" if lowest >= TARGET_SKORCH else "MISSED",
        ))
    return lines, summary


def _pair_stats(num: dict[str, Any], den: dict[str, Any]) -> tuple[float, str, float]:
    """Median pair ratio ``num / den``, its quartiles as text, and the best-of ratio."""
    pairs = pair_ratios(num, den)
    q1, q3 = quartiles(pairs)
    spread = "-" if math.isnan(q1) else f"{q1:.3f}-{q3:.3f}"
    return float(np.median(pairs)), spread, ratio(best(num), best(den))


def _paired_table(rows: list[dict[str, Any]]) -> tuple[Lines, Summary]:
    n = rows[0]["n"]
    lines = [
        f"## Paired (h): mlrpy against the fastest hand-written loop, n={n}",
        "",
        "Two variants only, in alternating order (raw fused, mlrpy; mlrpy, raw fused; ...): "
        "raw fused is `Adam(fused=True)`, `x.index_select(0, idx)` gathers and "
        "`zero_grad(set_to_none=True)`, the same computation as mlrpy's defaults (max abs dw = 0). "
        "pair ratio: mlrpy / raw fused within each pair; the median and the middle half "
        "(quartiles) of those ratios; CPU: the median pair ratio of process CPU time, which leaves "
        "out the time other processes held the cores; best: the ratio of the fastest runs.",
        "",
    ]
    table, summary = [], []
    for r in rows:
        mid, spread, best_ratio = _pair_stats(r["mlrpy"], r["raw_fused"])
        mid_cpu = float(np.median(pair_ratios(r["mlrpy"], r["raw_fused"], "cpu")))
        dw = r["weights_max_abs_diff"]
        table.append([
            r["batch_size"], reps(r), fmt(med(r["raw_fused"])), fmt(best(r["raw_fused"])),
            fmt(med(r["mlrpy"])), fmt(best(r["mlrpy"])), fmt(mid), spread, fmt(mid_cpu), fmt(best_ratio),
            fmt(1e3 * (best(r["mlrpy"]) - best(r["raw_fused"])), 1), f"{dw:.1g}",
        ])
        verdict = "met" if mid <= TARGET_PAIRED else (
            "met by best-of" if best_ratio <= TARGET_PAIRED else "MISSED"
        )
        summary.append((
            f"mlrpy / fastest hand-written loop ≤ {TARGET_PAIRED} (paired, batch size {r['batch_size']})",
            f"median pair ratio {mid:.3f} (CPU time {mid_cpu:.3f}; best-of {best_ratio:.3f})",
            verdict,
        ))
    headers = ["batch size", "pairs", "raw fused (s)", "raw fused best (s)", "mlrpy (s)", "mlrpy best (s)",
               "pair ratio (median)", "pair ratio (quartiles)", "pair ratio CPU (median)", "best ratio",
               "best mlrpy - raw (ms)",
               "max abs dw"]
    return [*lines, md_table(headers, table), ""], summary


def _callbacks_table(rows: list[dict[str, Any]]) -> tuple[Lines, Summary]:
    lines = [
        "## Callback overhead (d): mlrpy with k no-op callbacks implementing every stage",
        "",
        "+k callbacks: median fit time over the 0-callback median; (best): the same of the fastest "
        "repeats; (dispatch): the cost of the stage calls alone, 50 * stage calls * `dispatch ns "
        "per call` (a timeit of the dispatcher, free of the fit-to-fit noise) over the fastest "
        "0-callback fit; ns per callback stage call: the median difference spread over the calls.",
        "",
    ]
    table, summary = [], []
    target_pct = 100 * TARGET_CALLBACKS
    for r in rows:
        t0, t10, t50 = med(r["cb0"]), med(r["cb10"]), med(r["cb50"])
        calls = 50 * r["stage_calls_per_callback"]
        dispatch_pct = 100 * ratio(calls * r["dispatch_ns_per_call"] * 1e-9, best(r["cb0"]))
        median_pct = 100 * (ratio(t50, t0) - 1)
        best_pct = 100 * (ratio(best(r["cb50"]), best(r["cb0"])) - 1)
        table.append([
            r["n"], r["batch_size"], reps(r), fmt(t0), fmt(t10), fmt(t50),
            fmt(100 * (ratio(t10, t0) - 1), 1, "%"), fmt(median_pct, 1, "%"), fmt(best_pct, 1, "%"),
            fmt(dispatch_pct, 1, "%"), fmt((t50 - t0) / calls * 1e9, 0), fmt(r["dispatch_ns_per_call"], 0),
        ])
        verdict = "met" if median_pct <= target_pct else (
            "met by best-of; median noise" if best_pct <= target_pct else "MISSED"
        )
        summary.append((
            f"50 no-op callbacks add ≤ {target_pct:.0f}% (batch size {r['batch_size']})",
            f"{median_pct:+.1f}% (best-of-repeats: {best_pct:+.1f}%; dispatch: {dispatch_pct:+.1f}%)",
            verdict,
        ))
    headers = ["n", "batch size", "reps", "0 callbacks (s)", "10 (s)", "50 (s)", "+10 callbacks",
               "+50 callbacks", "+50 callbacks (best)", "+50 callbacks (dispatch)",
               "ns per callback stage call", "dispatch ns per call"]
    return [*lines, md_table(headers, table), ""], summary


def _predict_table(rows: list[dict[str, Any]]) -> tuple[Lines, Summary]:
    table = []
    for r in rows:
        raw, ml = med(r["raw"]), med(r["mlrpy"])
        table.append([
            r["n"], fmt(raw * 1e3, 2), fmt(ml * 1e3, 2), fmt(ratio(ml, raw)),
            fmt(ratio(best(r["mlrpy"]), best(r["raw"]))), fmt(r["n"] / ml / 1e6, 2),
            "yes" if r["same"] else "NO",
        ])
    worst = _worst(ratio(med(r["mlrpy"]), med(r["raw"])) for r in rows)
    worst_best = _worst(ratio(best(r["mlrpy"]), best(r["raw"])) for r in rows)
    headers = ["n", "raw no_grad (ms)", "mlrpy predict_proba (ms)", "mlrpy/raw", "mlrpy/raw best",
               "mlrpy M rows/s", "same probabilities"]
    lines = ["## Prediction (e): class probabilities, same trained network, milliseconds", "",
             md_table(headers, table), ""]
    summary = [(
        f"prediction ≤ {TARGET_PREDICT}x raw",
        f"worst {worst:.3f} (best-of-repeats: worst {worst_best:.3f})",
        "met" if worst <= TARGET_PREDICT else "MISSED",
    )]
    return lines, summary


def _memory_table(rows: list[dict[str, Any]]) -> tuple[Lines, Summary]:
    n, bs = rows[0]["n"], rows[0]["batch_size"]
    with_skorch = any(r["variant"] == "skorch" for r in rows)
    lines = [
        f"## Peak memory (f): one fit per subprocess, n={n}, batch size {bs}",
        "",
        "Every child imports the same modules (torch, mlrpy, scikit-learn"
        + (", skorch" if with_skorch else "")
        + f"), so the RSS before the fit is a common baseline. Peak: {rows[0]['method']}; "
        "lifetime peak: ru_maxrss of the whole child, imports included.",
        "",
    ]
    raw = next((r for r in rows if r["variant"] == "raw"), {})
    raw_peak, raw_inc = raw.get("peak_rss_mib", math.nan), raw.get("increase_mib", math.nan)
    has_cuda = any("peak_cuda_mib" in r for r in rows)
    table = []
    for r in rows:
        row = [
            r["variant"], fmt(r["rss_before_mib"], 0), fmt(r["peak_rss_mib"], 0), fmt(r["increase_mib"], 1),
            fmt(ratio(r["peak_rss_mib"], raw_peak)), fmt(ratio(r["increase_mib"], raw_inc), 2),
            fmt(r["lifetime_peak_mib"], 0),
        ]
        table.append(row + ([fmt(r.get("peak_cuda_mib", math.nan), 1)] if has_cuda else []))
    headers = ["variant", "RSS before fit (MiB)", "peak RSS (MiB)", "increase (MiB)", "peak / raw peak",
               "increase / raw increase", "lifetime peak (MiB)"] + (["peak CUDA (MiB)"] if has_cuda else [])
    lines += [md_table(headers, table), ""]
    summary: Summary = []
    ml = next((r for r in rows if r["variant"] == "mlrpy"), None)
    if ml is not None:
        peak_ratio = ratio(ml["peak_rss_mib"], raw_peak)
        summary.append((f"peak memory ≤ {TARGET_MEMORY}x raw", f"{peak_ratio:.3f}",
                        "met" if peak_ratio <= TARGET_MEMORY else "MISSED"))
    return lines, summary


def _scaling_table(rows: list[dict[str, Any]], epochs: int) -> tuple[Lines, Summary]:
    table = []
    for r in rows:
        raw, ml = med(r["raw"]), med(r["mlrpy"])
        table.append([r["n"], reps(r), fmt(raw), fmt(ml), fmt(ratio(ml, raw)),
                      fmt(ratio(best(r["mlrpy"]), best(r["raw"]))), fmt(ml / (r["n"] * epochs) * 1e6)])
    ns = [r["n"] for r in rows]
    slope_ml = loglog_slope(ns, [med(r["mlrpy"]) for r in rows])
    slope_raw = loglog_slope(ns, [med(r["raw"]) for r in rows])
    headers = ["n", "reps", "raw (s)", "mlrpy (s)", "mlrpy/raw", "mlrpy/raw best", "mlrpy µs per row-epoch"]
    lines = [
        f"## Scaling (g): fit time as n doubles, batch size {rows[0]['batch_size']}", "",
        md_table(headers, table), "",
        f"log-log slope of time against n: mlrpy {fmt(slope_ml)}, raw {fmt(slope_raw)} (1.0 = linear).", "",
    ]
    verdict = "met" if abs(slope_ml - 1) <= 0.1 else "check"
    return lines, [("fit time linear in n", f"log-log slope {fmt(slope_ml)}", verdict)]


def _gpu_table(results: dict[str, Any]) -> tuple[Lines, Summary]:
    gpu = results.get("cuda_sync")
    if gpu is None:
        return ["## GPU", "", results.get("gpu_note", NO_GPU_LINE), ""], []
    headers = ["n", "batch size", "training batches", "syncs: raw loop", "syncs: mlrpy",
               "syncs: mlrpy + loss reader", "no per-batch sync"]
    row = [gpu["n"], gpu["batch_size"], gpu["batches"], gpu["raw"], gpu["mlrpy"],
           gpu["mlrpy_with_loss_reader"], "yes" if gpu["ok"] else "NO"]
    summary = [("no per-batch device→host sync without a loss reader",
                f"{gpu['mlrpy']} syncs in {gpu['batches']} batches", "met" if gpu["ok"] else "MISSED")]
    return ["## GPU", "", md_table(headers, [row]), ""], summary


def _datasets_table(rows: list[dict[str, Any]]) -> tuple[Lines, Summary]:
    r0 = rows[0]
    lines = [
        f"## Dataset path (i): {r0['n']} images {r0['image_shape']}, small CNN, {r0['epochs']} epochs, "
        f"batch size {r0['batch_size']}",
        "",
        "mlrpy `classif.module` on a `torch.utils.data.Dataset` against a hand-written loop over "
        "`torch.utils.data.DataLoader` with the same `num_workers`, in alternating pairs; pair ratio: "
        "mlrpy / raw loader within each pair (median and quartiles); best: the ratio of the fastest runs.",
        "",
    ]
    table, summary = [], []
    for r in rows:
        mid, spread, best_ratio = _pair_stats(r["mlrpy"], r["raw_loader"])
        table.append([
            r["num_workers"], reps(r), fmt(med(r["raw_loader"])), fmt(med(r["mlrpy"])), fmt(mid),
            spread, fmt(best_ratio),
            f"{r['weights_max_abs_diff']:.1g}",
        ])
        verdict = "met" if mid <= TARGET_DATASET else (
            "met by best-of" if best_ratio <= TARGET_DATASET else "MISSED"
        )
        summary.append((
            f"mlrpy Dataset path / DataLoader loop ≤ {TARGET_DATASET} (num_workers={r['num_workers']})",
            f"median pair ratio {mid:.3f} (best-of {best_ratio:.3f})",
            verdict,
        ))
    headers = ["num_workers", "pairs", "raw loader (s)", "mlrpy (s)", "pair ratio (median)",
               "pair ratio (quartiles)", "best ratio", "max abs dw"]
    return [*lines, md_table(headers, table), ""], summary


def _mixed_table(rows: list[dict[str, Any]], title: str, what: str, per_epoch: bool) -> tuple[Lines, Summary]:
    """(j) and (l): mlrpy and the hand-written loop on the table with categorical columns."""
    r = rows[0]
    unit = r["epochs"] if per_epoch else 1
    mid, spread, best_ratio = _pair_stats(r["mlrpy"], r["raw"])
    lines = [
        f"## {title}, n={r['n']}, batch size {r['batch_size']}, {r['epochs']} epochs",
        "",
        what,
        "",
        md_table(
            ["reps", f"raw (s{'/epoch' if per_epoch else ''})", f"mlrpy (s{'/epoch' if per_epoch else ''})",
             "pair ratio (median)", "pair ratio (quartiles)", "best ratio", "max abs dw"],
            [[reps(r), fmt(med(r["raw"]) / unit), fmt(med(r["mlrpy"]) / unit), fmt(mid), spread,
              fmt(best_ratio), f"{r['weights_max_abs_diff']:.1g}"]],
        ),
        "",
    ]
    if per_epoch:
        return lines, [(f"{title}: mlrpy / hand-written loop (for information)", f"{mid:.3f}", "-")]
    verdict = "met" if mid <= TARGET_TABLE else ("met by best-of" if best_ratio <= TARGET_TABLE else "MISSED")
    target = f"{title}: mlrpy / hand-written loop ≤ {TARGET_TABLE}"
    return lines, [(target, f"median pair ratio {mid:.3f} (best-of {best_ratio:.3f})", verdict)]


_TABLE_WHAT = (
    "10 numeric and 5 categorical columns (3, 10, 50, 200 and 1,000 levels). mlrpy: "
    "`lrn(\"classif.mlp\", neurons=(64, 64)).fit(frame, y)`, which learns the levels and embeds each "
    "categorical column; raw: a hand-written loop over pandas' category codes with the same "
    "embedding network (weights equal: max abs dw)."
)
_FT_WHAT = (
    "The same table, smaller; mlrpy's `FTTransformer` module (n_blocks=2, d_token=64, 8 heads, "
    "dropout as the paper's defaults) trained by `lrn(\"classif.ft_transformer\", ...)` and by a "
    "hand-written loop. Seconds per epoch (whole fit divided by the epochs)."
)


def render(results: dict[str, Any], cfg: Config) -> str:
    """The whole report; sections that did not run are left out."""
    out = _header(results, cfg)
    summary: Summary = []
    parts = [
        ("fit", _fit_table), ("paired", _paired_table), ("callbacks", _callbacks_table),
        ("predict", _predict_table), ("memory", _memory_table),
        ("scaling", lambda rows: _scaling_table(rows, cfg.epochs)), ("datasets", _datasets_table),
        ("table", lambda rows: _mixed_table(rows, "Categorical columns (j)", _TABLE_WHAT, False)),
        ("lazy_images", lazy_images_table),
        ("ft_transformer", lambda rows: _mixed_table(rows, "FT-Transformer (l)", _FT_WHAT, True)),
        ("ddp", ddp_table),
    ]
    for key, table in parts:
        if results.get(key):
            lines, entries = table(results[key])
            out += lines
            summary += entries
    lines, entries = _gpu_table(results)
    out += lines
    summary += entries
    if summary:
        out += ["## Targets", ""]
        if cfg.quick:
            out += ["Quick mode (tiny sizes, one repeat): these verdicts say nothing about performance.", ""]
        out += [md_table(["target", "measured", "verdict"], summary), ""]
    return "\n".join(out)
