"""csv_logger, gradient_clip, terminate_on_nan, mixed_precision, ema, time_limit, lr_monitor:
each test checks the callback's effect."""

from __future__ import annotations

import csv
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from mlrpy import CallbackStageError, ParameterError, lrn, t_clbk, torch_callback


def learner(callbacks, epochs=3, batch_size=50, **kw):
    return lrn("classif.mlp", epochs=epochs, batch_size=batch_size, callbacks=callbacks, random_state=0,
               device="cpu", **kw)


# -- csv_logger ---------------------------------------------------------------------------------
def test_csv_rows_equal_history(iris_xy, tmp_path):
    X, y = iris_xy
    path = tmp_path / "sub" / "log.csv"
    lr = learner([t_clbk("csv_logger", path=str(path)), "history"], measures_valid=["classif.acc"],
                 eval_freq=2)
    lr.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    logged = pd.read_csv(path)
    history = lr.model.callbacks["history"]
    assert logged.columns.tolist() == ["epoch", "train.loss", "valid.loss", "valid.classif.acc"]
    assert logged["epoch"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(logged["train.loss"], history["train.loss"], rtol=1e-12)
    assert np.isnan(logged["valid.loss"][0])  # epoch 1 is no evaluation epoch
    np.testing.assert_allclose(logged["valid.classif.acc"][1:], history["valid.classif.acc"][1:])
    assert path.read_text().count("epoch") == 1  # header once


def test_csv_rows_of_completed_epochs_survive_a_crash(iris_xy, tmp_path):
    X, y = iris_xy
    path = tmp_path / "log.csv"

    def on_epoch_begin(self):
        if self.ctx.epoch == 3:
            with open(path) as f:  # while the run is alive, the rows are already on disk
                assert len(list(csv.reader(f))) == 3
            raise RuntimeError("boom")

    crash = torch_callback("crash", on_epoch_begin=on_epoch_begin)
    with pytest.raises(CallbackStageError, match="boom"):
        learner([t_clbk("csv_logger", path=str(path)), crash], epochs=5).fit(X, y)
    logged = pd.read_csv(path)
    assert logged["epoch"].tolist() == [1, 2]
    assert logged["train.loss"].notna().all()


def test_csv_new_run_overwrites(iris_xy, tmp_path):
    X, y = iris_xy
    path = tmp_path / "log.csv"
    learner([t_clbk("csv_logger", path=str(path))], epochs=3).fit(X, y)
    learner([t_clbk("csv_logger", path=str(path))], epochs=2).fit(X, y)
    assert pd.read_csv(path)["epoch"].tolist() == [1, 2]


def test_csv_warm_start_appends(iris_xy, tmp_path):
    X, y = iris_xy
    path = tmp_path / "log.csv"
    lr = learner([t_clbk("csv_logger", path=str(path))], epochs=2, warm_start=True)
    lr.fit(X, y).fit(X, y)
    assert pd.read_csv(path)["epoch"].tolist() == [1, 2, 3, 4]


# -- gradient_clip ------------------------------------------------------------------------------
def grad_probe():
    """Total gradient 2-norm and largest entry seen in on_after_backward, after weight-0 callbacks."""
    norms: list[float] = []
    maxima: list[float] = []

    def on_after_backward(self):
        grads = [p.grad for p in self.ctx.network.parameters() if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))
        maxima.append(float(max(g.abs().max() for g in grads)))

    return torch_callback("grad_probe", weight=10, on_after_backward=on_after_backward), norms, maxima


def test_clip_by_norm(iris_xy):
    X, y = iris_xy
    probe, norms, _ = grad_probe()
    learner([probe], epochs=2, **{"opt.lr": 0.05}).fit(X, y)
    assert max(norms) > 0.05  # unclipped gradients are larger than the threshold
    probe, norms, _ = grad_probe()
    learner([t_clbk("gradient_clip", max_norm=0.05), probe], epochs=2, **{"opt.lr": 0.05}).fit(X, y)
    assert len(norms) == 6 and max(norms) <= 0.05 * (1 + 1e-5)


def test_clip_by_value(iris_xy):
    X, y = iris_xy
    probe, _, maxima = grad_probe()
    learner([t_clbk("gradient_clip", mode="value", value=0.01), probe], epochs=1).fit(X, y)
    assert max(maxima) <= 0.01


def test_gradient_clip_bad_input(iris_xy):
    X, y = iris_xy
    for values, name in (({"max_norm": 0}, "max_norm"), ({"value": -1.0}, "value"), ({"mode": "l2"}, "mode"),
                         ({"norm_type": 0}, "norm_type")):
        with pytest.raises(ParameterError, match=rf"cb\.gradient_clip\.{name}"):
            t_clbk("gradient_clip", **values)
    with pytest.raises(ParameterError, match="needs value"):
        learner([t_clbk("gradient_clip", mode="value")], epochs=1).fit(X, y)


# -- terminate_on_nan ---------------------------------------------------------------------------
class NaNAfter(torch.nn.Module):
    """Outputs NaN on its ``bad``-th training forward pass."""

    def __init__(self, n_features: int, n_outputs: int, bad: int = 5):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_outputs)
        self.bad = bad
        self.calls = 0

    def forward(self, x):
        out = self.linear(x)
        if self.training:
            self.calls += 1
            if self.calls == self.bad:
                out = out * float("nan")
        return out


def test_terminates_after_the_epoch_with_a_nan_loss(iris_xy):
    X, y = iris_xy
    snaps = []

    def on_batch_end(self):
        snaps.append(self.ctx.network.linear.weight.detach().clone())

    probe = torch_callback("snap", weight=5, on_batch_end=on_batch_end)
    lr = lrn("classif.module", module=NaNAfter, epochs=5, batch_size=50, random_state=0,
             callbacks=["terminate_on_nan", probe], **{"module.bad": 5})
    with pytest.warns(RuntimeWarning, match=r"nan at epoch 2, batch 2"):
        lr.fit(X, y)
    assert lr.model.epochs == 2  # stopped after the epoch in which the loss was NaN
    state = lr.model.callbacks["terminate_on_nan"]
    assert (state["epoch"], state["batch"]) == (2, 2) and np.isnan(state["loss"])
    # no update from the NaN batch on: the weights stay those after batch 4 and are finite
    assert torch.isfinite(lr.model.network.linear.weight).all()
    assert torch.equal(snaps[-1], snaps[3]) and torch.equal(snaps[4], snaps[3])
    assert not torch.equal(snaps[3], snaps[2])


def test_finite_losses_train_all_epochs(iris_xy):
    X, y = iris_xy
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lr = learner(["terminate_on_nan"], epochs=2).fit(X, y)
    assert lr.model.epochs == 2
    assert lr.model.callbacks["terminate_on_nan"] == {"epoch": None, "batch": None, "loss": None}


# -- mixed_precision ----------------------------------------------------------------------------
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
    assert history["train.loss"].iloc[-1] < 0.8 * history["train.loss"].iloc[0]
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
    assert history["train.loss"].iloc[-1] < history["train.loss"].iloc[0]
    assert lr.model.callbacks["mixed_precision"]["scale"] > 0
    assert isinstance(lr.model.optimizer, dict) and "state" in lr.model.optimizer


def test_mixed_precision_bad_input():
    with pytest.raises(ParameterError, match=r"cb\.mixed_precision\.dtype"):
        t_clbk("mixed_precision", dtype="float8")
    with pytest.raises(ParameterError, match=r"cb\.mixed_precision\.init_scale"):
        t_clbk("mixed_precision", init_scale=0)


# -- ema ----------------------------------------------------------------------------------------
def test_final_weights_are_the_ema(iris_xy):
    X, y = iris_xy
    decay = 0.8
    manual: dict[str, torch.Tensor] = {}
    checks: list[bool] = []

    def on_batch_end(self):  # runs after ema (weight 0): the weights after this step
        for n, p in self.ctx.network.named_parameters():
            manual[n] = p.detach().clone() if n not in manual else decay * manual[n] + (1 - decay) * p.detach()

    def on_valid_end(self):  # validation sees the averaged weights
        checks.append(all(torch.allclose(p, manual[n], atol=1e-6)
                          for n, p in self.ctx.network.named_parameters()))

    probe = torch_callback("manual_ema", weight=5, on_batch_end=on_batch_end, on_valid_end=on_valid_end)
    lr = learner([t_clbk("ema", decay=decay), probe], epochs=3)
    lr.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    assert checks == [True, True, True]
    for n, p in lr.model.network.named_parameters():
        torch.testing.assert_close(p.detach(), manual[n], atol=1e-6, rtol=1e-5)
    state = lr.model.callbacks["ema"]
    assert state["updates"] == 6 and state["decay"] == decay
    torch.testing.assert_close(state["averages"]["0.weight"], manual["0.weight"], atol=1e-6, rtol=1e-5)


def test_training_weights_are_back_after_validation(iris_xy):
    X, y = iris_xy
    trained: list[torch.Tensor] = []
    after: list[torch.Tensor] = []

    def on_batch_end(self):
        trained.append(self.ctx.network[0].weight.detach().clone())

    def on_epoch_end(self):
        after.append(self.ctx.network[0].weight.detach().clone())

    probe = torch_callback("w", weight=5, on_batch_end=on_batch_end, on_epoch_end=on_epoch_end)
    lr = learner([t_clbk("ema", decay=0.9), probe], epochs=2)
    lr.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    assert torch.equal(after[0], trained[1]) and torch.equal(after[1], trained[3])
    assert not torch.equal(lr.model.network[0].weight, trained[3])  # but the final model is the EMA


@pytest.mark.parametrize("decay", [0, 1, 1.5, -0.1])
def test_ema_decay_bounds(decay):
    with pytest.raises(ParameterError, match=r"cb\.ema\.decay"):
        t_clbk("ema", decay=decay)


# -- time_limit ---------------------------------------------------------------------------------
@pytest.fixture
def fake_clock(monkeypatch):
    """Time advances by one second per training batch."""
    now = [100.0]
    monkeypatch.setattr(sys.modules["mlrpy.callbacks.time_limit"], "clock", lambda: now[0])

    def on_batch_end(self):
        now[0] += 1.0

    return torch_callback("tick", on_batch_end=on_batch_end)


@pytest.mark.parametrize(
    ("max_seconds", "epochs"),
    [
        (100, 10),  # never reached
        (10, 3),  # 9 s used, the next 3-s epoch would end at 12 s
        (7.5, 2),
        (2, 1),  # the first epoch alone takes longer
    ],
)
def test_stops_when_the_next_epoch_does_not_fit(iris_xy, fake_clock, max_seconds, epochs):
    X, y = iris_xy  # 150 rows / 50 = 3 batches = 3 s per epoch
    lr = learner([t_clbk("time_limit", max_seconds=max_seconds), fake_clock], epochs=10).fit(X, y)
    assert lr.model.epochs == epochs
    state = lr.model.callbacks["time_limit"]
    assert state["epoch_seconds"] == [3.0] * epochs
    assert state["elapsed"] == 3.0 * epochs
    assert state["stopped"] == (epochs < 10)


def test_time_limit_bounds():
    with pytest.raises(ParameterError, match=r"cb\.time_limit\.max_seconds"):
        t_clbk("time_limit", max_seconds=0)
    with pytest.raises(ParameterError, match=r"cb\.time_limit\.max_seconds"):
        t_clbk("time_limit", max_seconds="1h")


# -- lr_monitor ---------------------------------------------------------------------------------
def test_lr_monitor_per_epoch_and_history(iris_xy):
    X, y = iris_xy
    lr = learner([t_clbk("lr_step", step_size=1, gamma=0.5), "lr_monitor", "history"], epochs=3,
                 **{"opt.lr": 0.08}).fit(X, y)
    frame = lr.model.callbacks["lr_monitor"]
    assert frame.columns.tolist() == ["epoch", "lr"]
    np.testing.assert_allclose(frame["lr"], [0.08, 0.04, 0.02])
    np.testing.assert_allclose(lr.model.callbacks["history"]["lr"], [0.08, 0.04, 0.02])


def test_lr_monitor_per_batch_follows_a_batch_schedule(iris_xy):
    X, y = iris_xy
    lr = learner([t_clbk("lr_one_cycle", max_lr=0.2), t_clbk("lr_monitor", per_batch=True)],
                 epochs=2).fit(X, y)
    frame = lr.model.callbacks["lr_monitor"]
    assert frame["global_step"].tolist() == list(range(1, 7)) and frame["step"].tolist() == [1, 2, 3] * 2
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=0.001)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=6)
    expected = []
    for _ in range(6):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(frame["lr"], expected)


def test_lr_monitor_param_groups():
    cb = t_clbk("lr_monitor").generate()
    net = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD([{"params": [net.weight], "lr": 0.1}, {"params": [net.bias], "lr": 0.01}])
    from mlrpy import ContextTorch

    cb.ctx = ContextTorch(optimizer=opt, epoch=1)
    cb.on_epoch_begin()
    assert cb.state_dict().to_dict("records") == [{"epoch": 1, "lr.0": 0.1, "lr.1": 0.01}]
    with pytest.raises(ParameterError, match=r"cb\.lr_monitor\.per_batch"):
        t_clbk("lr_monitor", per_batch="often")
