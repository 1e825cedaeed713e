"""``csv_logger``: one CSV row per epoch, on disk as soon as the epoch ends."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from mlrpy import CallbackStageError, t_clbk, torch_callback
from tests.callbacks.support import learner


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
