"""scikit-learn compliance, persistence, warm start and scale-out."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import mlrpy
from mlrpy import DataError, lrn, t_clbk, tsk
from tests.callbacks.test_definitions import custom_logger
from tests.learners.test_learners import Net

FEATURELESS_REASON = "a featureless baseline ignores X by design, so it cannot reach the accuracy this check asks"


def _learner(key: str):
    kw = {"module": Net} if key.endswith("module") else {}
    return lrn(key, epochs=30, random_state=0, num_threads=1, **{"opt.lr": 0.01}, **kw)


WEIGHTS_REASON = (
    "in float32, weighting a row and repeating it give the same loss only up to rounding "
    "(relative differences near 1e-6, above this check's rtol of 1e-7); tests/tables checks "
    "the equivalence at float32 tolerance"
)


def _expected_failed_checks(estimator):
    expected = {"check_sample_weight_equivalence_on_dense_data": WEIGHTS_REASON}
    if "featureless" in estimator.id:
        check = "check_classifiers_train" if estimator.task_type == "classif" else "check_regressors_train"
        expected[check] = FEATURELESS_REASON
    return expected


ESTIMATORS = [
    _learner(k)
    for k in (
        "classif.mlp",
        "regr.mlp",
        "classif.module",
        "regr.module",
        "classif.torch_featureless",
        "regr.torch_featureless",
    )
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


def test_at_most_one_expected_failure_per_learner():
    for est in ESTIMATORS:
        assert len(_expected_failed_checks(est)) <= 2


# -- routing ----------------------------------------------------------------------------------


@pytest.fixture
def mixed_frame():
    task = tsk("iris")
    df = task.data(cols=task.feature_names).copy()
    df["colour"] = np.where(df["petal_width"] > 1.0, "red", "blue")
    return df, task.truth()


def test_pipeline_with_column_transformer_and_dotted_params(mixed_frame):
    df, y = mixed_frame
    pre = ColumnTransformer(
        [("num", StandardScaler(), list(df.columns[:4])), ("cat", OneHotEncoder(), ["colour"])]
    )
    pipe = Pipeline([("pre", pre), ("mlp", lrn("classif.mlp", callbacks=[custom_logger], random_state=0))])
    pipe.set_params(**{"mlp__cb.custom_logger.alpha": 0.5, "mlp__opt.lr": 0.01, "mlp__epochs": 3})
    pipe.fit(df, y)
    mlp = pipe.named_steps["mlp"]
    assert mlp.n_features_in_ == 6 and mlp.model.epochs == 3
    assert mlp.get_params()["cb.custom_logger.alpha"] == 0.5
    assert custom_logger.get_values() == {"alpha": 0.1}


@pytest.mark.parametrize("search_cls", [GridSearchCV, RandomizedSearchCV])
def test_search_n_jobs_1_and_2_agree(search_cls, iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, callbacks=[custom_logger], random_state=0)
    grid = {"cb.custom_logger.alpha": [0.1, 0.9], "opt.lr": [0.001, 0.01], "epochs": [1, 2]}
    extra = {"n_iter": 4, "random_state": 0} if search_cls is RandomizedSearchCV else {}
    results = []
    for n_jobs in (1, 2):
        search = search_cls(learner, grid, cv=2, n_jobs=n_jobs, **extra).fit(X, y)
        results.append(search.cv_results_)
    np.testing.assert_array_equal(results[0]["mean_test_score"], results[1]["mean_test_score"])
    assert [p for p in results[0]["params"]] == [p for p in results[1]["params"]]


def test_cross_validate_over_callback_params(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, callbacks=[custom_logger], random_state=0,
                  **{"cb.custom_logger.alpha": 0.3})
    out = cross_validate(learner, X, y, cv=3, n_jobs=2, return_estimator=True)
    assert len(out["test_score"]) == 3
    for est in out["estimator"]:
        assert isinstance(est.model.callbacks["custom_logger"], float)


MAIN_SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.model_selection import GridSearchCV
    import mlrpy

    def init(self, alpha: float = 0.1):
        self.alpha = alpha
        self.seen = []

    def on_epoch_end(self):
        self.seen.append(self.alpha)

    probe = mlrpy.torch_callback("probe", initialize=init, on_epoch_end=on_epoch_end,
                                 state_dict=lambda self: list(self.seen),
                                 load_state_dict=lambda self, s: None)

    if __name__ == "__main__":
        X, y = load_iris(return_X_y=True)
        learner = mlrpy.lrn("classif.mlp", epochs=2, callbacks=[probe], random_state=0)
        search = GridSearchCV(learner, {"cb.probe.alpha": [0.2, 0.7]}, cv=2, n_jobs=2, refit=True)
        search.fit(X, y)
        best = search.best_estimator_
        print("STATE", best.model.callbacks["probe"], search.best_params_["cb.probe.alpha"])
    """
)


def test_callbacks_defined_in_main_script_work_with_n_jobs_2(tmp_path):
    script = tmp_path / "search.py"
    script.write_text(MAIN_SCRIPT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("STATE"))
    alpha = line.split()[-1]
    assert f"[{alpha}, {alpha}]" in line  # the tuned value reached the callback in the worker


def test_grid_search_on_local_dask_cluster(iris_xy):
    distributed = pytest.importorskip("distributed")
    X, y = iris_xy
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        learner = lrn("classif.mlp", epochs=2, callbacks=[custom_logger], random_state=0)
        search = GridSearchCV(learner, {"cb.custom_logger.alpha": [0.1, 0.9]}, cv=2)
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
    local = GridSearchCV(learner, {"cb.custom_logger.alpha": [0.1, 0.9]}, cv=2).fit(X, y)
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])


# -- persistence --------------------------------------------------------------------------------


@pytest.mark.parametrize("dump", ["pickle", "joblib", "save"])
def test_round_trips_give_identical_predictions(dump, tmp_path, iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, callbacks=["history", custom_logger], random_state=0).fit(X, y)
    path = tmp_path / "model.bin"
    if dump == "pickle":
        path.write_bytes(pickle.dumps(learner))
        back = pickle.loads(path.read_bytes())
    elif dump == "joblib":
        joblib.dump(learner, path)
        back = joblib.load(path)
    else:
        learner.save(path)
        back = mlrpy.load(path, map_location="cpu", trusted=[custom_logger])
    np.testing.assert_array_equal(back.predict_proba(X), learner.predict_proba(X))
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.model.callbacks["history"]), pd.DataFrame(learner.model.callbacks["history"])
    )
    assert back.model.callbacks["custom_logger"] == learner.model.callbacks["custom_logger"]
    assert back.get_params()["cb.custom_logger.alpha"] == 0.1


def test_pickled_learner_predicts_in_another_process(tmp_path, iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, callbacks=["history"], random_state=0).fit(X, y)
    joblib.dump(learner, tmp_path / "m.joblib")
    np.save(tmp_path / "X.npy", X)
    code = (
        "import joblib, numpy as np, sys; d = sys.argv[1]; "
        "m = joblib.load(d + '/m.joblib'); np.save(d + '/p.npy', m.predict_proba(np.load(d + '/X.npy')))"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, timeout=120)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), learner.predict_proba(X))


def test_save_is_atomic(tmp_path, iris_xy, monkeypatch):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=1, random_state=0).fit(X, y)
    path = tmp_path / "m.pt"
    learner.save(path)
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", disk_full)  # the new content is written but never committed
    with pytest.raises(OSError, match="disk full"):
        learner.set_params(epochs=2).fit(X, y).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before  # the previous file is untouched
    assert os.listdir(tmp_path) == ["m.pt"]  # no temporary left behind
    assert mlrpy.load(path).model.epochs == 1


def test_save_before_fit_errors(tmp_path):
    with pytest.raises(mlrpy.NotFittedError):
        lrn("classif.mlp").save(tmp_path / "m.pt")


# -- warm start ---------------------------------------------------------------------------------


def test_warm_start_continues_training(iris_xy):
    X, y = iris_xy
    counted = mlrpy.torch_callback(
        "counter",
        initialize=lambda self: setattr(self, "batches", 0),
        on_batch_end=lambda self: setattr(self, "batches", self.batches + 1),
        state_dict=lambda self: self.batches,
        load_state_dict=lambda self, s: setattr(self, "batches", s),
    )
    learner = lrn("classif.mlp", epochs=2, batch_size=50, warm_start=True, random_state=0,
                  callbacks=["history", counted])
    learner.fit(X, y)
    opt_steps = learner.model.optimizer["state"][0]["step"].item()
    learner.fit(X, y)
    assert learner.model.epochs == 4
    assert learner.model.callbacks["history"]["epoch"].tolist() == [1, 2, 3, 4]
    assert learner.model.callbacks["counter"] == 12  # load_state_dict received the saved count
    assert learner.model.optimizer["state"][0]["step"].item() == 2 * opt_steps  # optimizer state kept
    cold = lrn("classif.mlp", epochs=2, batch_size=50, random_state=0, callbacks=["history"])
    cold.fit(X, y)
    cold.fit(X, y)
    assert cold.model.epochs == 2


# -- DataFrame fidelity --------------------------------------------------------------------------


def test_dataframe_columns_checked_at_predict(iris_xy):
    X, y = iris_xy
    df = pd.DataFrame(X.astype(np.float64), columns=["a", "b", "c", "d"])
    learner = lrn("classif.mlp", epochs=1, random_state=0).fit(df, y)
    assert list(learner.feature_names_in_) == ["a", "b", "c", "d"]
    assert next(learner.model.network.parameters()).dtype == torch.float32  # float64 trained as float32
    with pytest.raises(DataError, match="feature names"):
        learner.predict(df.rename(columns={"a": "z"}))
    with pytest.raises(DataError, match="feature names"):
        learner.predict(df[["d", "c", "b", "a"]])
    with pytest.raises(DataError):
        learner.predict(df[["a", "b", "c"]])


@pytest.mark.parametrize("labels", [np.array([3, 7, 11]), np.array(["x", "y", "z"], dtype=object)])
def test_class_labels_round_trip(labels, iris_xy):
    X, y = iris_xy
    mapped = labels[np.unique(y, return_inverse=True)[1]]
    learner = lrn("classif.mlp", epochs=5, random_state=0, **{"opt.lr": 0.01}).fit(X, mapped)
    pred = learner.predict(X)
    assert pred.dtype == labels.dtype and set(pred) <= set(labels)
    assert (pred == mapped).mean() > 0.6


def test_set_params_does_not_mutate_user_callback():
    cb = t_clbk("progress")
    learner = lrn("classif.mlp", callbacks=[cb])
    learner.set_params(**{"cb.progress.digits": 1})
    assert cb.get_values()["digits"] == 3
    assert learner.callbacks[0] is not cb
