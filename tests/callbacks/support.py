"""Helpers shared by the callback tests: a small learner, probes that record what the loop did,
torch's own learning-rate schedules for comparison, and the parameters each built-in needs
to run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

import mlrpy
from mlrpy import lrn, mlr_callbacks, t_clbk, torch_callback

LR0 = 0.1


def learner(callbacks, epochs=3, batch_size=50, **kw):
    return lrn("classif.mlp", epochs=epochs, batch_size=batch_size, callbacks=callbacks, random_state=0,
               device="cpu", **kw)


def grad_probe():
    """Total gradient 2-norm and largest entry seen in on_after_backward, after weight-0 callbacks."""
    norms: list[float] = []
    maxima: list[float] = []

    def on_after_backward(self):
        grads = [p.grad for p in self.ctx.network.parameters() if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))
        maxima.append(float(max(g.abs().max() for g in grads)))

    return torch_callback("grad_probe", weight=10, on_after_backward=on_after_backward), norms, maxima


# -- learning-rate schedules ----------------------------------------------------------------------
def torch_lrs(scheduler_class, epochs: int, batches: int = 1, per_batch: bool = False, **args) -> list[float]:
    """The learning rate at the start of every epoch (or batch) from torch's scheduler alone."""
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.Adam([p], lr=LR0)
    sched = scheduler_class(opt, **args)
    out = []
    for _ in range(epochs):
        for b in range(batches):
            if per_batch or b == 0:
                out.append(opt.param_groups[0]["lr"])
            opt.step()
            if per_batch:
                sched.step()
        if not per_batch:
            sched.step()
    return out


def lr_probe():
    """A callback recording the learning rate the optimizer has at the start of each batch."""
    seen: list[float] = []

    def on_batch_begin(self):
        seen.append(mlrpy.callbacks.lr_scheduler.unwrap_optimizer(self.ctx.optimizer).param_groups[0]["lr"])

    return torch_callback("lr_probe", on_batch_begin=on_batch_begin), seen


def fit_lr(iris_xy, callbacks, epochs=4, batch_size=50, **kw):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=epochs, batch_size=batch_size, callbacks=callbacks,
                  random_state=0, device="cpu", **{"opt.lr": LR0}, **kw)
    return learner.fit(X, y)


def check_epoch_schedule_matches_torch(iris_xy, key, args, torch_class):
    """The rate in every epoch is torch's, the optimizer really used it, and the state is the
    scheduler's after 5 steps."""
    probe, seen = lr_probe()
    learner = fit_lr(iris_xy, [t_clbk(key, **args), "history", probe], epochs=5)
    expected = torch_lrs(torch_class, 5, **args)
    history = learner.model.callbacks["history"]
    np.testing.assert_allclose(history["lr"], expected, rtol=1e-12)
    # 3 batches per epoch, the same rate within an epoch
    np.testing.assert_allclose(seen, np.repeat(expected, 3), rtol=1e-12)
    assert learner.model.callbacks[key]["last_epoch"] == 5


# -- every built-in -------------------------------------------------------------------------------
def builtin_keys() -> list[str]:
    """The registered callbacks that mlrpy itself defines."""
    return [k for k in mlr_callbacks if mlr_callbacks.get(k).generator.__module__.startswith("mlrpy.")]


def halve(epoch: int) -> float:
    """A picklable lr_lambda."""
    return 0.5


def _values(key: str, folder: Path) -> dict[str, Any]:
    """Values a built-in needs beyond its defaults (required parameters, or a setting under
    which it keeps state on the CPU)."""
    return {
        "checkpoint": {"path": str(folder / "checkpoints")},
        "csv_logger": {"path": str(folder / "log.csv")},
        "tb": {"path": str(folder / "tb")},
        "mlflow": {"tracking_uri": f"sqlite:///{folder / 'mlflow.db'}", "experiment": "builtins",
                   "artifact_location": str(folder / "mlruns")},
        "lr_step": {"step_size": 1, "gamma": 0.7},
        "lr_cosine_annealing": {"T_max": 3},
        "lr_lambda": {"lr_lambda": halve},
        "lr_multiplicative": {"lr_lambda": halve},
        "lr_one_cycle": {"max_lr": 0.05},
        "lr_reduce_on_plateau": {"patience": 0, "factor": 0.5, "threshold": 0.5},
        "early_stopping": {"patience": 10, "restore_best_weights": True},
        "ema": {"decay": 0.9},
        "mixed_precision": {"dtype": "float16", "grad_scaler": True, "init_scale": 1024.0},
        "time_limit": {"max_seconds": 1e9},
    }.get(key, {})


def builtin(key: str, folder: Path):
    """``t_clbk(key)`` with what it needs to run; fails for a new built-in with a required
    parameter until it gets an entry above."""
    tc = t_clbk(key, **_values(key, folder))
    required = [n for n, f in tc.param_set.model_fields.items() if f.is_required() and n not in tc.param_values]
    assert not required, f"give the built-in '{key}' values for {required} in tests/callbacks/support.py"
    return tc
