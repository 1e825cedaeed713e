"""tune(): search spaces, grid and random search, internal tuning of epochs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlrpy import lrn, torch_callback, tsk
from mlrpy.errors import ParameterError, UnknownKeyError
from mlrpy.resample import resample
from mlrpy.resampling import rsmp
from mlrpy.tuning import TuningResult, parse_search_space, to_tune, tune


def penalty_init(self, alpha: float = 0.0):
    self.alpha = alpha


def penalty_after_loss(self):
    params = self.ctx.network.parameters()
    self.ctx.loss = self.ctx.loss + self.alpha * sum(p.pow(2).sum() for p in params)


penalty = torch_callback("penalty", initialize=penalty_init, on_after_loss=penalty_after_loss)


@pytest.fixture(scope="module")
def iris():
    return tsk("iris")


@pytest.fixture(scope="module")
def cv2(iris):
    return rsmp("cv", folds=2, seed=1).instantiate(iris)


def mlp(**kw):
    defaults = dict(epochs=3, random_state=0, neurons=(8,), batch_size=32)
    return lrn("classif.mlp", **{**defaults, **kw})


def dims(learner, space, resolution=3):
    parsed, _ = parse_search_space(learner, space)
    return {d.name: d.grid(resolution) for d in parsed}


def test_grid_search(iris, cv2):
    learner = mlp(callbacks=[penalty])
    space = {"cb.penalty.alpha": [0.0, 0.5], "opt.lr": (1e-3, 1e-1, "log")}
    result = tune(learner, iris, cv2, "classif.acc", space, resolution=3)
    assert isinstance(result, TuningResult)
    archive = result.archive
    assert list(archive.columns) == [
        "cb.penalty.alpha", "opt.lr", "classif.acc", "scores", "runtime", "error"
    ]
    assert len(archive) == 6
    assert sorted(set(archive["opt.lr"])) == pytest.approx([1e-3, 1e-2, 1e-1])
    best = archive["classif.acc"].idxmax()
    assert result.best_score == archive.loc[best, "classif.acc"]
    assert result.best_params == {k: archive.loc[best, k] for k in space}
    # each archive score is the aggregated resample score of that configuration
    row = archive.iloc[3]
    configured = mlp(callbacks=[penalty]).set_params(
        **{"cb.penalty.alpha": row["cb.penalty.alpha"], "opt.lr": row["opt.lr"]}
    )
    rr = resample(iris, configured, cv2)
    assert row["classif.acc"] == pytest.approx(rr.aggregate("classif.acc")["classif.acc"])
    assert row["scores"] == pytest.approx(rr.score("classif.acc")["classif.acc"].tolist())
    assert row["error"] is None and row["runtime"] > 0
    # the tuned learner is not changed
    assert learner.get_params()["cb.penalty.alpha"] == 0.0
    assert not learner.__sklearn_is_fitted__()


def test_minimised_measure_and_best_learner(iris, cv2):
    result = tune(mlp(), iris, cv2, search_space={"opt.lr": [1e-4, 0.05]})
    assert result.measure.id == "classif.ce"  # the default
    assert result.best_score == result.archive["classif.ce"].min()
    best = result.best_learner()
    assert best.get_params()["opt.lr"] == result.best_params["opt.lr"]
    assert best.model.epochs == 3 and best.model.n_features == 4


def test_random_search(iris, cv2):
    space = {
        "opt.lr": (1e-4, 1e-1, "log"),
        "neurons": [(4,), (8,)],
        "batch_size": (8, 64),
        "p": (0.0, 0.5),
    }
    kw = dict(tuner="random", n_evals=4, random_state=3)
    result = tune(mlp(epochs=1), iris, cv2, "classif.ce", space, **kw)
    archive = result.archive
    assert len(archive) == 4
    assert archive["opt.lr"].between(1e-4, 1e-1).all()
    assert archive["p"].between(0.0, 0.5).all()
    assert all(isinstance(b, int) and 8 <= b <= 64 for b in archive["batch_size"])
    assert set(archive["neurons"]) <= {(4,), (8,)}
    again = tune(mlp(epochs=1), iris, cv2, "classif.ce", space, **kw)
    pd.testing.assert_frame_equal(archive.drop(columns="runtime"), again.archive.drop(columns="runtime"))


def test_parallel_configurations(iris, cv2):
    space = {"opt.lr": [1e-3, 1e-2, 1e-1]}
    seq = tune(mlp(), iris, cv2, "classif.ce", space)
    par = tune(mlp(callbacks=[penalty]), iris, cv2, "classif.ce",  # loky worker processes
               {**space, "cb.penalty.alpha": [0.0]}, n_jobs=2)
    pd.testing.assert_frame_equal(
        seq.archive.drop(columns="runtime"), par.archive.drop(columns=["cb.penalty.alpha", "runtime"])
    )


def test_ranges_from_schema():
    learner = mlp(callbacks=[penalty])
    grids = dims(learner, {
        "loss.label_smoothing": "schema",  # ge=0, le=1
        "opt.amsgrad": to_tune(),  # bool
        "loss.reduction": "schema",  # Literal
        "shuffle": "schema",  # plain bool parameter
        "opt.lr": to_tune(upper=0.1),  # gt=0 from the schema
        "opt.weight_decay": to_tune(upper=1e-2),
        "loss.ignore_index": to_tune(-3, 3),
    })
    assert grids["loss.label_smoothing"] == [0.0, 0.5, 1.0]
    assert grids["opt.amsgrad"] == [False, True]
    assert grids["loss.reduction"] == ["mean", "sum"]
    assert grids["shuffle"] == [False, True]
    assert 0 < grids["opt.lr"][0] < 1e-300 and grids["opt.lr"][-1] == 0.1
    assert grids["opt.weight_decay"] == [0.0, 0.005, 0.01]
    assert grids["loss.ignore_index"] == [-3, 0, 3]
    assert dims(learner, {"opt.lr": to_tune([0.1, 0.2])}) == {"opt.lr": [0.1, 0.2]}


def test_schema_without_bounds():
    learner = mlp(callbacks=[penalty])
    with pytest.raises(ParameterError, match=r"'opt.lr'.*no upper bound"):
        dims(learner, {"opt.lr": "schema"})
    with pytest.raises(ParameterError, match=r"'cb.penalty.alpha'.*no lower and upper bound"):
        dims(learner, {"cb.penalty.alpha": to_tune()})
    with pytest.raises(ParameterError, match=r"'epochs'.*no (lower and )?upper bound"):
        dims(learner, {"epochs": "schema"})
    with pytest.raises(ParameterError, match=r"'activation'.*cannot derive"):
        dims(learner, {"activation": "schema"})


def test_integer_and_log_grids():
    grids = dims(mlp(), {"batch_size": (8, 64, "log"), "epochs": (1, 3), "p": (0.0, 0.2)}, 4)
    assert grids["batch_size"] == [8, 16, 32, 64]
    assert grids["epochs"] == [1, 2, 3]  # rounded, duplicates dropped
    assert grids["p"] == pytest.approx([0.0, 0.2 / 3, 0.4 / 3, 0.2])


def test_internal_epochs(iris, cv2):
    learner = mlp(epochs=15, patience=2, **{"opt.lr": 0.05})
    space = {"epochs": "internal", "cb.penalty.alpha": [0.0, 0.01]}
    learner.set_params(callbacks=[penalty])
    result = tune(learner, iris, cv2, "classif.ce", space)
    archive = result.archive
    assert list(archive.columns) == ["cb.penalty.alpha", "classif.ce", "epochs", "scores", "runtime", "error"]
    # per config: the early-stopping epochs of the folds, averaged and rounded up
    configured = learner.set_params(validate="test", **{"cb.penalty.alpha": 0.01})
    rr = resample(iris, configured, cv2)
    found = [v["epochs"] for v in rr.internal_tuned_values]
    assert archive.loc[1, "epochs"] == math.ceil(np.mean(found))
    assert archive.loc[1, "classif.ce"] == pytest.approx(rr.aggregate()["classif.ce"])
    assert result.internal_tuned_values == {"epochs": result.best_params["epochs"]}
    best = result.best_learner()
    assert best.patience == 0 and best.validate is None
    assert best.model.epochs == result.best_params["epochs"]
    assert best.internal_tuned_values is None


def test_internal_epochs_with_upper(iris, cv2):
    learner = mlp(epochs=100, patience=1, **{"opt.lr": 1e-7}, min_delta=0.5)
    result = tune(learner, iris, cv2, "classif.ce", {"epochs": to_tune(upper=4, internal=True)})
    assert len(result.archive) == 1 and result.best_params == {"epochs": 1}


def test_internal_epochs_needs_patience(iris, cv2):
    with pytest.raises(ParameterError, match="patience"):
        tune(mlp(), iris, cv2, "classif.ce", {"epochs": "internal"})
    with pytest.raises(ParameterError, match="only 'epochs'"):
        tune(mlp(patience=1), iris, cv2, "classif.ce", {"opt.lr": "internal"})


@pytest.mark.parametrize(
    "space, match",
    [
        ({"opt.lr": (0.1, 0.1)}, r"'opt.lr'.*empty range"),
        ({"opt.lr": (0.2, 0.1)}, r"'opt.lr'.*lower must be < upper"),
        ({"opt.lr": (0.0, 0.1, "log")}, r"'opt.lr'.*log range needs lower > 0"),
        ({"opt.lr": []}, r"'opt.lr'.*choices is empty"),
        ({"opt.lr": (0.1, 0.2, "ln")}, r"'opt.lr'.*\(lower, upper, 'log'\)"),
        ({"opt.lr": ("a", 0.2)}, r"'opt.lr'.*lower bound must be a finite number"),
        ({"opt.lr": 0.1}, r"'opt.lr'.*list of choices"),
        ({"opt.lr": "auto"}, r"'opt.lr'.*list of choices"),
        ({}, "non-empty"),
        ({"loss.label_smoothing": [0.1, 2.0]}, r"configuration.*label_smoothing"),
        ({"epochs": [-1]}, r"configuration.*epochs"),
    ],
)
def test_invalid_search_spaces(iris, cv2, space, match):
    with pytest.raises(ParameterError, match=match):
        tune(mlp(), iris, cv2, "classif.ce", space)


def test_unknown_search_space_key(iris, cv2):
    with pytest.raises(UnknownKeyError, match=r"'opt.lrr'.*Did you mean 'opt.lr'.*Valid names:.*epochs"):
        tune(mlp(), iris, cv2, "classif.ce", {"opt.lrr": [0.1]})
    with pytest.raises(UnknownKeyError, match="cb.penalty.alpha"):
        tune(mlp(), iris, cv2, "classif.ce", {"cb.penalty.alpha": [0.1]})  # not attached


def test_bad_arguments(iris, cv2):
    space = {"opt.lr": [0.01]}
    with pytest.raises(ParameterError, match="unknown tuner 'grd'.*grid_search"):
        tune(mlp(), iris, cv2, "classif.ce", space, tuner="grd")
    with pytest.raises(ParameterError, match="on_error"):
        tune(mlp(), iris, cv2, "classif.ce", space, on_error="ignore")
    with pytest.raises(ParameterError, match="for tuner='optuna'"):
        tune(mlp(), iris, cv2, "classif.ce", space, n_trials=3)
    with pytest.raises(ParameterError, match="n_evals"):
        tune(mlp(), iris, cv2, "classif.ce", space, method="random_search", n_evals=0)
    with pytest.raises(ParameterError, match="resolution"):
        tune(mlp(), iris, cv2, "classif.ce", space, resolution=0)
    with pytest.raises(UnknownKeyError, match="classif.cee"):
        tune(mlp(), iris, cv2, "classif.cee", space)
    with pytest.raises(ParameterError, match="regr.mse"):
        tune(mlp(), iris, cv2, "regr.mse", space)
    with pytest.raises(ParameterError, match="one measure"):
        tune(mlp(), iris, cv2, ["classif.ce", "classif.acc"], space)
