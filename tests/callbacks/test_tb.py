"""``tb``: the event files hold the epoch losses and scores at the right steps."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from mlrpy import ParameterError, lrn, t_clbk

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read_scalars(path) -> dict[str, list[tuple[int, float]]]:
    acc = event_accumulator.EventAccumulator(str(path))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_epoch_scalars_match_history(iris_xy, tmp_path):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=3, batch_size=50, random_state=0, measures_train=["classif.acc"],
                  measures_valid=["classif.acc"], callbacks=[t_clbk("tb", path=str(tmp_path)), "history"])
    learner.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    scalars = read_scalars(tmp_path)
    assert set(scalars) == {"train.loss", "train.classif.acc", "valid.loss", "valid.classif.acc"}
    history = learner.model.callbacks["history"]
    for tag, values in scalars.items():
        steps = [s for s, _ in values]
        assert steps == [1, 2, 3], tag
        np.testing.assert_allclose([v for _, v in values], history[tag], rtol=1e-6, err_msg=tag)


def test_batch_losses_with_log_train_loss(iris_xy, tmp_path):
    X, y = iris_xy
    losses: list[float] = []
    from mlrpy import torch_callback

    def on_batch_end(self):
        losses.append(self.ctx.last_loss)

    probe = torch_callback("probe", on_batch_end=on_batch_end)
    lrn("classif.mlp", epochs=2, batch_size=50, random_state=0,
        callbacks=[t_clbk("tb", path=str(tmp_path / "run"), log_train_loss=True), probe]).fit(X, y)
    batch = read_scalars(tmp_path / "run")["train.batch_loss"]
    assert [s for s, _ in batch] == list(range(1, 7))  # 3 batches x 2 epochs, global steps
    np.testing.assert_allclose([v for _, v in batch], losses, rtol=1e-6)


def test_path_is_required(iris_xy):
    X, y = iris_xy
    with pytest.raises(ParameterError, match=r"cb\.tb\.path"):
        lrn("classif.mlp", epochs=1, callbacks=["tb"]).fit(X, y)
    with pytest.raises(ParameterError, match=r"cb\.tb\.path"):
        t_clbk("tb", path="")
    with pytest.raises(ParameterError, match=r"cb\.tb\.log_train_loss"):
        t_clbk("tb", path="x", log_train_loss="sometimes")


def test_missing_tensorboard_names_the_extra(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    with pytest.raises(ImportError, match=r"pip install 'mlrpy\[tensorboard\]'"):
        t_clbk("tb", path=str(tmp_path)).generate()
