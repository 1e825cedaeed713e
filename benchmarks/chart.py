"""The 2x2 PNG chart: fit ratios, callback overhead, scaling, peak memory."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.task import TARGET_CALLBACKS, TARGET_FIT, TARGET_PAIRED, Config
from benchmarks.timing import med, pair_ratios, ratio
from mlrpy.io import atomic_write


def _short(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def _fit_ratios(ax: Any, results: dict[str, Any]) -> None:
    fit_rows = results.get("fit") or []
    paired_rows = results.get("paired") or []
    labels = [f"n={_short(r['n'])}\nbs={r['batch_size']}" for r in fit_rows]
    bars = {
        "mlrpy / raw": [ratio(med(r.get("mlrpy")), med(r.get("raw"))) for r in fit_rows],
        "mlrpy / raw fused": [ratio(med(r.get("mlrpy")), med(r.get("raw_fused"))) for r in fit_rows],
        "mlrpy for-loop / raw": [ratio(med(r.get("mlrpy_forloop")), med(r.get("raw"))) for r in fit_rows],
        "skorch / raw": [ratio(med(r.get("skorch")), med(r.get("raw"))) for r in fit_rows],
    }
    bars = {k: v + [math.nan] * len(paired_rows) for k, v in bars.items()}
    if paired_rows:
        labels += [f"paired\nbs={r['batch_size']}" for r in paired_rows]
        bars["mlrpy / raw fused (paired median)"] = [math.nan] * len(fit_rows) + [
            float(np.median(pair_ratios(r["mlrpy"], r["raw_fused"]))) for r in paired_rows
        ]
    bars = {k: v for k, v in bars.items() if not all(math.isnan(x) for x in v)}
    if not bars:
        return
    xs = np.arange(len(labels))
    width = 0.8 / len(bars)
    for i, (label, values) in enumerate(bars.items()):
        ax.bar(xs + (i - (len(bars) - 1) / 2) * width, values, width, label=label)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.axhline(TARGET_FIT, color="green", ls="--", lw=0.8, label=f"target {TARGET_FIT}")
    if paired_rows:
        ax.axhline(TARGET_PAIRED, color="purple", ls=":", lw=0.8, label=f"paired target {TARGET_PAIRED}")
    ax.set_xticks(xs, labels, fontsize=8)
    ax.set_ylabel("fit time relative to the raw loop")
    ax.legend(fontsize=7)


def _callbacks(ax: Any, results: dict[str, Any]) -> None:
    cb_rows = results.get("callbacks") or []
    if not cb_rows:
        return
    xs = np.arange(len(cb_rows))
    for off, k in ((-0.2, 10), (0.2, 50)):
        extra = [100 * (ratio(med(r[f"cb{k}"]), med(r["cb0"])) - 1) for r in cb_rows]
        ax.bar(xs + off, extra, 0.4, label=f"{k} no-op callbacks")
    ax.axhline(100 * TARGET_CALLBACKS, color="green", ls="--", lw=0.8, label="target 5%")
    ax.set_xticks(xs, [f"bs={r['batch_size']}" for r in cb_rows])
    ax.set_ylabel("extra fit time (%)")
    ax.legend(fontsize=8)


def _scaling(ax: Any, results: dict[str, Any]) -> None:
    sc_rows = results.get("scaling") or []
    if not sc_rows:
        return
    ns = [r["n"] for r in sc_rows]
    for name in ("raw", "mlrpy"):
        ax.loglog(ns, [med(r[name]) for r in sc_rows], "o-", label=name)
    t0 = med(sc_rows[0]["raw"])
    ax.loglog(ns, [t0 * n / ns[0] for n in ns], ":", color="gray", label="linear")
    ax.set_xlabel("rows (n)")
    ax.set_ylabel("fit time (s)")
    ax.legend(fontsize=8)


def _memory(ax: Any, results: dict[str, Any]) -> str:
    mem_rows = results.get("memory") or []
    if not mem_rows:
        return ""
    bars = ax.bar([r["variant"] for r in mem_rows], [r["increase_mib"] for r in mem_rows], color="tab:orange")
    for bar, r in zip(bars, mem_rows):
        ax.annotate(
            f"peak {r['peak_rss_mib']:.0f} MiB",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_ylabel("peak RSS during the fit minus RSS before it (MiB)")
    return f" (n={_short(mem_rows[0]['n'])}, bs={mem_rows[0]['batch_size']})"


def plot(results: dict[str, Any], cfg: Config, path: Path) -> None:
    """Draw the chart and write it to ``path`` atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    try:
        _fit_ratios(axes[0][0], results)
        axes[0][0].set_title("(a-c, h) fit time vs hand-written loop")
        _callbacks(axes[0][1], results)
        axes[0][1].set_title("(d) callback overhead")
        _scaling(axes[1][0], results)
        axes[1][0].set_title("(g) scaling in n (log-log)")
        axes[1][1].set_title("(f) memory added by one fit" + _memory(axes[1][1], results))
        for a in axes.flat:
            if not a.has_data():
                a.text(0.5, 0.5, "not run", ha="center", va="center", transform=a.transAxes)
        fig.suptitle(
            f"mlrpy benchmark ({cfg.device}, {torch.get_num_threads()} thread(s), "
            f"{cfg.epochs} epochs, medians of interleaved repeats)"
        )
        fig.tight_layout()
        atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))
    finally:
        plt.close(fig)
