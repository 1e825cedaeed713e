"""``mixed_precision``: autocast dtypes in training and validation, and the grad-scaler path."""

from __future__ import annotations

import pytest
import torch

from mlrpy import ParameterError, t_clbk, torch_callback
from tests.callbacks.support import grad_probe, learner


def dtype_probe():
    seen: dict[str, set] = {"train": set(), "valid": set(), "loss": set(), "optimizer": set()}

    def on_after_forward(self):
        seen["train"].add(self.ctx.y_hat.dtype)

    def on_batch_valid_end(self):
        seen["valid"].add(self.ctx.y_hat.dtype)

    def on_batch_end(self):
        seen["loss"].add(float(self.ctx.loss.detach()))
        seen["optimizer"].add(type(self.ctx.optimizer).__name__)

    tc = torch_callback("dtypes", weight=200, on_after_forward=on_after_forward,
                        on_batch_valid_end=on_batch_valid_end, on_batch_end=on_batch_end)
    return tc, seen


def test_bfloat16_autocast_on_cpu(iris_xy):
    X, y = iris_xy
    probe, seen = dtype_probe()
    lr = learner(["mixed_precision", "history", probe], epochs=8, **{"opt.lr": 0.01})
    lr.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    assert seen["train"] == {torch.bfloat16}
    assert seen["valid"] == {torch.float32}  # cast back for scoring
    assert seen["optimizer"] == {"Adam"}  # no grad scaler on CPU by default
    history = lr.model.callbacks["history"]
    assert history["train.loss"][-1] < 0.8 * history["train.loss"][0]
    assert all(p.dtype == torch.float32 for p in lr.model.network.parameters())
    assert lr.model.callbacks.get("mixed_precision") is None
    assert lr.predict(X).dtype == y.dtype


def test_grad_scaler_path(iris_xy):
    """float16 with a GradScaler (the CUDA setup) exercised on CPU: the loss the other callbacks
    see is unscaled, gradients are unscaled before clipping, the optimizer is restored."""
    X, y = iris_xy
    probe, seen = dtype_probe()
    gprobe, norms, _ = grad_probe()
    mp = t_clbk("mixed_precision", dtype="float16", grad_scaler=True, init_scale=1024.0)
    lr = learner([mp, t_clbk("gradient_clip", max_norm=0.5), "history", probe, gprobe], epochs=6,
                 **{"opt.lr": 0.01})
    lr.fit(X, y)
    assert seen["train"] == {torch.float16}
    assert seen["optimizer"] == {"ScaledOptimizer"}
    assert max(seen["loss"]) < 5  # not multiplied by the scale
    assert max(norms) <= 0.5 * (1 + 1e-3)  # clipped after unscaling (the probe runs after both)
    history = lr.model.callbacks["history"]
    assert history["train.loss"][-1] < history["train.loss"][0]
    assert lr.model.callbacks["mixed_precision"]["scale"] > 0
    assert isinstance(lr.model.optimizer, dict) and "state" in lr.model.optimizer


def test_mixed_precision_bad_input():
    with pytest.raises(ParameterError, match=r"cb\.mixed_precision\.dtype"):
        t_clbk("mixed_precision", dtype="float8")
    with pytest.raises(ParameterError, match=r"cb\.mixed_precision\.init_scale"):
        t_clbk("mixed_precision", init_scale=0)
