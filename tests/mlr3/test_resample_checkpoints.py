"""Checkpoints and resume inside resample() and benchmark(): one subfolder per iteration."""

from __future__ import annotations

import os

import numpy as np
import pytest

from mlrpy import lrn, t_clbk, tsk
from mlrpy.benchmark import benchmark, benchmark_grid
from mlrpy.callbacks.checkpoint import checkpoint_files
from mlrpy.errors import ParameterError
from mlrpy.resample import resample
from mlrpy.resampling import rsmp


@pytest.fixture(scope="module")
def iris():
    return tsk("iris")


@pytest.fixture(scope="module")
def cv2(iris):
    return rsmp("cv", folds=2, seed=3).instantiate(iris)


def mlp(folder, epochs=2, **kw):
    callbacks = [t_clbk("checkpoint", path=str(folder))] if folder is not None else []
    return lrn("classif.mlp", epochs=epochs, batch_size=25, neurons=(8,), random_state=4,
               callbacks=callbacks, **kw)


def probs(rr):
    return np.concatenate([p.prob.to_numpy() for p in rr.predictions()])


def test_each_iteration_checkpoints_to_its_own_subfolder(iris, cv2, tmp_path):
    learner = mlp(tmp_path / "ckpt", predict_type="prob")
    rr = resample(iris, learner, cv2, store_models=True)
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["iter_0", "iter_1"]
    for i in range(2):
        assert [e for e, _ in checkpoint_files(tmp_path / "ckpt" / f"iter_{i}")] == [1, 2]
        assert rr.learners[i].get_params()["cb.checkpoint.path"] == str(tmp_path / "ckpt" / f"iter_{i}")
    # the learner passed in, and the result's template, keep the folder given
    assert learner.get_params()["cb.checkpoint.path"] == str(tmp_path / "ckpt")
    assert rr.learner.get_params()["cb.checkpoint.path"] == str(tmp_path / "ckpt")


def test_resume_continues_every_iteration_from_its_own_checkpoint(iris, cv2, tmp_path):
    folder = tmp_path / "ckpt"
    resample(iris, mlp(folder, epochs=2, predict_type="prob"), cv2)
    resumed = resample(iris, mlp(folder, epochs=4, predict_type="prob", resume=True), cv2,
                       store_models=True)
    fresh = resample(iris, mlp(tmp_path / "fresh", epochs=4, predict_type="prob"), cv2)
    # each iteration went on from epoch 2 of its own run: the same model as 4 epochs in one go
    np.testing.assert_array_equal(probs(resumed), probs(fresh))
    for i in range(2):
        assert [e for e, _ in checkpoint_files(folder / f"iter_{i}")] == [1, 2, 3, 4]
        assert resumed.learners[i].model.epochs == 4


def test_resume_path_gets_the_iteration_subfolder_too(iris, cv2, tmp_path):
    folder = tmp_path / "ckpt"
    resample(iris, mlp(folder, epochs=2, predict_type="prob"), cv2)
    rr = resample(iris, mlp(folder, epochs=3, predict_type="prob", resume=str(folder)), cv2,
                  store_models=True)
    assert [lr.get_params()["resume"] for lr in rr.learners] == [
        str(folder / "iter_0"), str(folder / "iter_1"),
    ]
    assert [e for e, _ in checkpoint_files(folder / "iter_1")] == [1, 2, 3]


def test_parallel_iterations_checkpoint_separately(iris, cv2, tmp_path):
    rr = resample(iris, mlp(tmp_path, predict_type="prob"), cv2, n_jobs=2)
    seq = resample(iris, mlp(tmp_path / "seq", predict_type="prob"), cv2)
    assert {"iter_0", "iter_1"} <= set(os.listdir(tmp_path))
    np.testing.assert_array_equal(probs(rr), probs(seq))


def test_callable_path_is_called_once_per_resample(iris, cv2, tmp_path):
    calls = []

    def path():
        calls.append(1)
        return str(tmp_path / f"run_{len(calls)}")

    learner = lrn("classif.mlp", epochs=1, random_state=0, callbacks=[t_clbk("checkpoint", path=path)])
    resample(iris, learner, cv2)
    assert sorted(os.listdir(tmp_path / "run_1")) == ["iter_0", "iter_1"]
    assert len(calls) == 1


def test_without_checkpoints_nothing_is_set(iris, cv2):
    rr = resample(iris, mlp(None, epochs=1), cv2, store_models=True)
    assert all(lr.resume is None for lr in rr.learners)


def test_benchmark_gives_each_row_and_iteration_its_folder(iris, tmp_path):
    design = benchmark_grid(
        iris,
        [mlp(tmp_path / "a", epochs=1), mlp(tmp_path / "b", epochs=1, p=0.1)],
        rsmp("cv", folds=2, seed=1),
    )
    bmr = benchmark(design)
    assert len(bmr) == 2
    for name in ("a", "b"):
        assert sorted(os.listdir(tmp_path / name)) == ["iter_0", "iter_1"]
        assert all(checkpoint_files(tmp_path / name / f"iter_{i}") for i in range(2))


def test_benchmark_rows_sharing_a_folder_are_refused_before_training(iris, tmp_path):
    learner = mlp(tmp_path / "shared", epochs=1)
    design = benchmark_grid([iris, tsk("wine")], learner, rsmp("holdout", seed=1))
    with pytest.raises(ParameterError, match=r"rows 0 and 1.*shared"):
        benchmark(design)
    assert not (tmp_path / "shared").exists()
