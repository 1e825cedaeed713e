"""resample(), benchmark_grid(), benchmark() and their results."""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn import metrics
from sklearn.base import clone

from mlrpy import lrn, torch_callback, tsk
from mlrpy.benchmark import BenchmarkResult, benchmark, benchmark_grid
from mlrpy.errors import ParameterError, UnknownKeyError
from mlrpy.measures import msr
from mlrpy.prediction import PredictionClassif
from mlrpy.resample import ResampleResult, resample
from mlrpy.resampling import rsmp


@pytest.fixture(scope="module")
def iris():
    return tsk("iris")


@pytest.fixture(scope="module")
def diabetes():
    return tsk("diabetes")


def mlp(**kw):
    defaults = dict(epochs=3, random_state=0, neurons=(8,), batch_size=32)
    return lrn("classif.mlp", **{**defaults, **kw})


@pytest.fixture(scope="module")
def rr(iris):
    return resample(iris, mlp(), rsmp("cv", folds=3, seed=1))


def test_resample_result_shape(rr, iris):
    assert isinstance(rr, ResampleResult)
    assert rr.iters == 3
    scores = rr.score(["classif.acc", "classif.ce"])
    assert list(scores.columns) == [
        "task_id", "learner_id", "resampling_id", "iteration", "classif.acc", "classif.ce",
    ]
    assert scores["iteration"].tolist() == [0, 1, 2]
    assert set(scores["task_id"]) == {"iris"}
    assert set(scores["learner_id"]) == {"classif.mlp"}
    assert set(scores["resampling_id"]) == {"cv"}
    np.testing.assert_allclose(scores["classif.acc"] + scores["classif.ce"], 1.0)
    agg = rr.aggregate(["classif.acc", "classif.ce"])
    assert agg == pytest.approx({
        "classif.acc": scores["classif.acc"].mean(), "classif.ce": scores["classif.ce"].mean(),
    })


def test_default_measure(rr, diabetes):
    assert list(rr.aggregate()) == ["classif.ce"]
    assert rr.score().columns[-1] == "classif.ce"
    rr_regr = resample(diabetes, lrn("regr.mlp", epochs=1, random_state=0), rsmp("holdout", seed=1))
    assert list(rr_regr.aggregate()) == ["regr.mse"]


def test_predictions(rr, iris):
    preds = rr.predictions()
    assert len(preds) == 3
    for i, p in enumerate(preds):
        assert p.row_ids == rr.resampling.test_set(i)
    combined = rr.prediction()
    assert isinstance(combined, PredictionClassif)
    assert sorted(combined.row_ids) == iris.row_ids
    assert (combined.truth == iris.truth(combined.row_ids)).all()
    assert combined.score("classif.acc")["classif.acc"] == pytest.approx(
        rr.aggregate("classif.acc")["classif.acc"]
    )


def test_prob_measures_and_combined_prob(iris):
    rr = resample(iris, mlp(predict_type="prob"), rsmp("cv", folds=2, seed=1))
    assert 0.0 <= rr.aggregate("classif.auc")["classif.auc"] <= 1.0
    prob = rr.prediction().prob
    assert list(prob.columns) == iris.class_names and len(prob) == 150
    np.testing.assert_allclose(prob.sum(axis=1), 1.0)


def test_learner_and_resampling_not_mutated(iris):
    learner = mlp()
    learner.id = "my_mlp"
    before = learner.get_params(deep=True)
    resampling = rsmp("cv", folds=2, seed=1)
    rr = resample(iris, learner, resampling)
    assert not learner.__sklearn_is_fitted__()
    assert learner.get_params(deep=True) == before
    assert not resampling.is_instantiated
    assert rr.resampling.is_instantiated and rr.learner_id == "my_mlp"
    # not stored: unfitted copies
    assert len(rr.learners) == 2
    assert all(lr is not learner and not lr.__sklearn_is_fitted__() for lr in rr.learners)


def test_store_models(iris):
    rr = resample(iris, mlp(), rsmp("holdout", seed=3), store_models=True)
    fitted = rr.learners[0]
    assert fitted.model.epochs == 3
    pred = fitted.predict(iris, row_ids=rr.resampling.test_set(0))
    np.testing.assert_array_equal(pred.response, rr.predictions()[0].response)


def test_instantiated_resampling_is_used_as_is(iris):
    r = rsmp("cv", folds=3, seed=5).instantiate(iris)
    rr = resample(iris, mlp(epochs=1), r)
    assert rr.resampling is r
    assert [p.row_ids for p in rr.predictions()] == [r.test_set(i) for i in range(3)]


def test_resampling_instantiated_on_other_rows(iris):
    small = tsk("iris").filter(range(0, 150, 2))
    r = rsmp("holdout", seed=1).instantiate(iris)
    with pytest.raises(ParameterError, match="row ids"):
        resample(small, mlp(), r)


def test_reproducible_and_equal_to_manual_sklearn_loop(iris):
    learner = mlp(epochs=5)
    resampling = rsmp("cv", folds=3, seed=11)
    rr = resample(iris, learner, resampling)
    again = resample(iris, learner, resampling)
    pd.testing.assert_frame_equal(rr.score("classif.acc"), again.score("classif.acc"))

    manual = []
    X, y = iris.data(cols=iris.feature_names), iris.truth()
    for i in range(rr.iters):
        train, test = rr.resampling.train_set(i), rr.resampling.test_set(i)
        est = clone(learner).fit(X.loc[train], y[train])
        manual.append(metrics.accuracy_score(y[test], est.predict(X.loc[test])))
    np.testing.assert_array_equal(rr.score("classif.acc")["classif.acc"].to_numpy(), manual)


def test_parallel_equals_sequential(iris, rr):
    learner, resampling = mlp(), rr.resampling
    seq = resample(iris, learner, resampling).score()
    # processes (loky): torch's global RNG makes concurrent fits in threads irreproducible
    par = resample(iris, learner, resampling, n_jobs=2).score()
    pd.testing.assert_frame_equal(seq, par)


def test_results_survive_pickling(iris):
    # what process-based backends (loky, dask workers) send back and forth
    rr = resample(iris, mlp(epochs=1), rsmp("holdout", seed=1), store_models=True)
    back = pickle.loads(pickle.dumps(rr))
    pd.testing.assert_frame_equal(back.score(), rr.score())
    assert back.learners[0].model.epochs == 1


def test_dask_backend(iris, rr):
    distributed = pytest.importorskip("dask.distributed")
    learner, resampling = mlp(), rr.resampling
    seq = resample(iris, learner, resampling).score()
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1,
                            dashboard_address=":0"), joblib.parallel_backend("dask"):
        par = resample(iris, learner, resampling).score()
    pd.testing.assert_frame_equal(seq, par)


def test_bad_measures(rr):
    with pytest.raises(UnknownKeyError, match="classif.acx"):
        rr.score("classif.acx")
    with pytest.raises(ParameterError, match=r"'regr.mse' is for regr tasks.*'iris'"):
        rr.aggregate(["regr.mse"])
    with pytest.raises(ParameterError, match="unique"):
        rr.score(["classif.acc", "classif.acc"])
    with pytest.raises(ParameterError, match="prob"):
        rr.score("classif.auc")  # needs predict_type="prob"


def test_learner_of_wrong_task_type(diabetes):
    with pytest.raises(ParameterError, match="classif"):
        resample(diabetes, mlp(), rsmp("holdout"))


def test_keys_are_accepted(iris):
    rr = resample("iris", "classif.torch_featureless", "holdout")
    assert rr.iters == 1 and rr.learner_id == "classif.torch_featureless"


def test_benchmark_grid_and_aggregate(iris):
    learners = [mlp(), lrn("classif.torch_featureless", epochs=1, random_state=0)]
    design = benchmark_grid(iris, learners, [rsmp("cv", folds=2, seed=1), rsmp("holdout", seed=1)])
    assert list(design.columns) == ["task", "learner", "resampling"]
    assert len(design) == 4
    # the same instantiated resampling for every learner on a task
    assert design["resampling"].iloc[0] is design["resampling"].iloc[2]
    bmr = benchmark(design)
    assert isinstance(bmr, BenchmarkResult) and len(bmr) == 4
    agg = bmr.aggregate(["classif.acc", msr("classif.ce")])
    assert list(agg.columns) == [
        "task_id", "learner_id", "resampling_id", "iters", "classif.acc", "classif.ce",
    ]
    assert agg["iters"].tolist() == [2, 1, 2, 1]
    assert agg["learner_id"].tolist() == ["classif.mlp"] * 2 + ["classif.torch_featureless"] * 2
    scores = bmr.score("classif.acc")
    assert list(scores.columns) == [
        "task_id", "learner_id", "resampling_id", "iteration", "classif.acc",
    ]
    assert len(scores) == 6
    # benchmark == resample on each row
    single = resample(iris, learners[0], design["resampling"].iloc[0]).aggregate("classif.acc")
    assert agg.loc[0, "classif.acc"] == pytest.approx(single["classif.acc"])


def test_benchmark_mixed_task_types(iris, diabetes):
    design = pd.concat([
        benchmark_grid(iris, mlp(epochs=1), rsmp("holdout", seed=1)),
        benchmark_grid(diabetes, lrn("regr.mlp", epochs=1, random_state=0), rsmp("holdout", seed=1)),
    ], ignore_index=True)
    bmr = benchmark(design, n_jobs=1)
    agg = bmr.aggregate()
    assert list(agg.columns) == [
        "task_id", "learner_id", "resampling_id", "iters", "classif.ce", "regr.mse",
    ]
    assert np.isnan(agg.loc[0, "regr.mse"]) and np.isnan(agg.loc[1, "classif.ce"])
    with pytest.raises(ParameterError, match="rsq"):
        benchmark(benchmark_grid(iris, mlp(epochs=1), rsmp("holdout"))).aggregate("regr.rsq")


def test_benchmark_bad_input(iris, diabetes):
    with pytest.raises(ParameterError, match="classif"):
        benchmark_grid(diabetes, mlp(), rsmp("holdout"))
    with pytest.raises(ParameterError, match="empty"):
        benchmark_grid(iris, [], rsmp("holdout"))
    with pytest.raises(ParameterError, match="columns"):
        benchmark(pd.DataFrame({"task": [iris]}))
    with pytest.raises(ParameterError, match="no rows"):
        benchmark([])


def test_validate_test_validates_on_each_iterations_test_rows(iris):
    seen = []

    def grab(self):
        seen.append((self.ctx.task_train.row_ids, self.ctx.task_valid.row_ids))

    task = tsk("iris")
    learner = mlp(epochs=1, validate="test", callbacks=[torch_callback("grab", on_begin=grab)])
    rr = resample(task, learner, rsmp("cv", folds=3, seed=4))
    assert seen == [(rr.resampling.train_set(i), rr.resampling.test_set(i)) for i in range(3)]
    # the task passed in gets no validation task of its own
    assert task.internal_valid_task is None and task.nrow == 150


def test_public_score_and_aggregate_take_measure_objects(rr):
    ms = [msr("classif.acc", id="acc"), msr("classif.ce")]
    scores = rr.score(ms)
    assert list(scores.columns[-2:]) == ["acc", "classif.ce"]
    assert rr.aggregate(ms) == pytest.approx({
        "acc": scores["acc"].mean(), "classif.ce": scores["classif.ce"].mean(),
    })
    assert rr.aggregate([]) == rr.aggregate(None) == rr.aggregate("classif.ce")
