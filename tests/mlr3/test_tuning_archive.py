"""tune(): failing configurations (on_error), checkpoint folders per configuration, logging."""

from __future__ import annotations

import logging
import math
import os

import pytest

from mlrpy import lrn, rsmp, t_clbk, torch_callback, tsk
from mlrpy.callbacks.checkpoint import checkpoint_files
from mlrpy.errors import CallbackStageError, ParameterError
from mlrpy.tuning import tune


def boom_init(self, alpha: float = 0.0):
    self.alpha = alpha


def boom_epoch_end(self):
    if self.alpha > 0.5:
        raise RuntimeError("boom")


boom = torch_callback("boom", initialize=boom_init, on_epoch_end=boom_epoch_end)


@pytest.fixture(scope="module")
def iris():
    return tsk("iris")


@pytest.fixture(scope="module")
def cv2(iris):
    return rsmp("cv", folds=2, seed=1).instantiate(iris)


def mlp(**kw):
    return lrn("classif.mlp", **{"epochs": 1, "random_state": 0, "neurons": (8,), **kw})


def test_failing_configuration_is_recorded_with_warn(iris, cv2):
    space = {"cb.boom.alpha": [0.0, 1.0, 0.2]}
    with pytest.warns(RuntimeWarning, match=r"configuration 1 \{'cb.boom.alpha': 1.0\} failed.*boom"):
        result = tune(mlp(callbacks=[boom]), iris, cv2, "classif.ce", space, on_error="warn")
    archive = result.archive
    assert archive["error"].isna().tolist() == [True, False, True]
    assert "CallbackStageError" in archive.loc[1, "error"] and "boom" in archive.loc[1, "error"]
    assert math.isnan(archive.loc[1, "classif.ce"]) and archive.loc[1, "scores"] == []
    assert archive.loc[1, "runtime"] > 0
    assert result.best_params["cb.boom.alpha"] in (0.0, 0.2)
    assert len(archive.loc[0, "scores"]) == 2


def test_failing_configuration_raises_by_default(iris, cv2):
    with pytest.raises(CallbackStageError, match="boom"):
        tune(mlp(callbacks=[boom]), iris, cv2, "classif.ce", {"cb.boom.alpha": [0.0, 1.0]})


def test_nothing_to_choose_when_every_configuration_fails(iris, cv2):
    with pytest.warns(RuntimeWarning), pytest.raises(ParameterError, match="no configuration has a score.*boom"):
        tune(mlp(callbacks=[boom]), iris, cv2, "classif.ce", {"cb.boom.alpha": [0.9, 1.0]}, on_error="warn")


def test_each_configuration_checkpoints_to_its_own_folder(iris, cv2, tmp_path):
    folder = tmp_path / "ckpt"
    learner = mlp(epochs=2, callbacks=[t_clbk("checkpoint", path=str(folder))])
    result = tune(learner, iris, cv2, "classif.ce", {"opt.lr": [0.01, 0.1]})
    assert sorted(os.listdir(folder)) == ["config_0", "config_1"]
    for j in range(2):
        assert sorted(os.listdir(folder / f"config_{j}")) == ["iter_0", "iter_1"]
        for i in range(2):
            assert [e for e, _ in checkpoint_files(folder / f"config_{j}" / f"iter_{i}")] == [1, 2]
    best = result.best_learner()
    assert [e for e, _ in checkpoint_files(folder / "best")] == [1, 2]
    assert best.get_params()["cb.checkpoint.path"] == str(folder / "best")
    assert learner.get_params()["cb.checkpoint.path"] == str(folder)


def test_tune_logs_each_configuration(iris, cv2, caplog):
    caplog.set_level(logging.INFO, logger="mlrpy")
    tune(mlp(), iris, cv2, "classif.ce", {"opt.lr": [0.01, 0.02]})
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("mlrpy")]
    assert any(m.startswith("tune: learner 'classif.mlp' on task 'iris'") for m in messages)
    assert sum("tune: configuration" in m for m in messages) == 2
