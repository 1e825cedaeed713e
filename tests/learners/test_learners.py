"""Learners: both faces, dotted parameters, data checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import mlrpy
from mlrpy import DataError, NotFittedError, ParameterError, UnknownKeyError, lrn, t_clbk, t_opt, tsk
from tests.callbacks.test_definitions import custom_logger


class Net(torch.nn.Module):
    def __init__(self, n_features: int, n_outputs: int, hidden: int = 8):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(n_features, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, n_outputs)
        )

    def forward(self, x):
        return self.layers(x)


ALL_KEYS = [
    "classif.mlp",
    "regr.mlp",
    "classif.module",
    "regr.module",
    "classif.torch_featureless",
    "regr.torch_featureless",
]


def make(key, **kw):
    if key.endswith("module"):
        kw.setdefault("module", Net)
    return lrn(key, **kw)


@pytest.mark.parametrize("key", ALL_KEYS)
def test_train_predict_task(key):
    task = tsk("iris") if key.startswith("classif") else tsk("diabetes")
    learner = make(key, epochs=2, random_state=0, predict_type="prob" if key.startswith("classif") else "response")
    assert learner.id == key and learner.task_type == task.task_type
    assert learner.train(task, row_ids=task.row_ids[::2]) is learner
    pred = learner.predict(task, row_ids=task.row_ids[1::2])
    assert pred.row_ids == task.row_ids[1::2]
    assert len(pred.response) == len(pred.truth) == len(pred.row_ids)
    if key.startswith("classif"):
        assert list(pred.prob.columns) == task.class_names
        np.testing.assert_allclose(pred.prob.sum(axis=1), 1.0)
        assert set(pred.response) <= set(task.class_names)


def test_mlp_learns_iris(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=40, random_state=1, **{"opt.lr": 0.01}).fit(X, y)
    assert learner.score(X, y) > 0.9


def test_featureless_learns_class_frequencies():
    y = np.array(["a"] * 30 + ["b"] * 10)
    X = np.zeros((40, 2))
    learner = lrn("classif.torch_featureless", epochs=60, random_state=0, **{"opt.lr": 0.1}).fit(X, y)
    np.testing.assert_allclose(learner.predict_proba(X[:1])[0], [0.75, 0.25], atol=0.05)


def test_mlp_architecture_parameters():
    net = lrn("classif.mlp", neurons=5, n_layers=3, p=0.2, activation="tanh", epochs=0)
    net.fit(np.zeros((4, 2)), [0, 1, 0, 1])
    layers = list(net.model.network)
    assert sum(isinstance(m, torch.nn.Linear) for m in layers) == 4
    assert sum(isinstance(m, torch.nn.Tanh) for m in layers) == 3
    assert sum(isinstance(m, torch.nn.Dropout) for m in layers) == 3
    assert layers[0].out_features == 5
    with pytest.raises(ParameterError, match="activation.*Did you mean 'relu'"):
        lrn("classif.mlp", activation="rleu").fit(np.zeros((4, 2)), [0, 1, 0, 1])


# -- dotted parameters ----------------------------------------------------------------------


def test_get_params_deep_lists_all_dotted_with_defaults():
    learner = lrn("classif.mlp", callbacks=[custom_logger, "history"])
    params = learner.get_params(deep=True)
    assert params["cb.custom_logger.alpha"] == 0.1
    assert params["opt.lr"] == 0.001 and params["opt.betas"] == (0.9, 0.999)
    assert params["loss.label_smoothing"] == 0.0
    shallow = learner.get_params(deep=False)
    assert "opt.lr" not in shallow and set(shallow) <= set(params)


def test_set_params_copies_and_never_mutates_user_objects():
    opt = t_opt("adam")
    learner = lrn("classif.mlp", callbacks=[custom_logger], optimizer=opt)
    assert learner.set_params(**{"cb.custom_logger.alpha": 0.05, "opt.lr": 0.1}) is learner
    assert custom_logger.get_values() == {"alpha": 0.1}
    assert opt.get_values()["lr"] == 0.001
    assert learner.get_params()["cb.custom_logger.alpha"] == 0.05
    assert learner.get_params()["opt.lr"] == 0.1


def test_lrn_accepts_dotted_keywords():
    learner = lrn("classif.mlp", callbacks=[custom_logger], **{"cb.custom_logger.alpha": 0.05})
    assert learner.get_params()["cb.custom_logger.alpha"] == 0.05


def test_dotted_value_reaches_the_callback(iris_xy):
    X, y = iris_xy
    seen = []
    probe = mlrpy.torch_callback(
        "probe", initialize=lambda self, alpha=0.0: setattr(self, "alpha", alpha),
        on_begin=lambda self: seen.append(self.alpha),
    )
    lrn("classif.mlp", epochs=0, callbacks=[probe], **{"cb.probe.alpha": 0.25}).fit(X, y)
    assert seen == [0.25]


def test_dotted_unknown_names_list_valid():
    learner = lrn("classif.mlp", callbacks=["history"])
    with pytest.raises(UnknownKeyError, match="cb.custom_logger.alpha.*Attached callbacks: history"):
        learner.set_params(**{"cb.custom_logger.alpha": 0.1})
    with pytest.raises(UnknownKeyError, match="Did you mean 'opt.lr'"):
        learner.set_params(**{"opt.lrr": 0.1})


def test_invalid_dotted_value():
    with pytest.raises(ParameterError, match=r"'opt\.lr'.*-1"):
        lrn("classif.mlp", **{"opt.lr": -1})
    with pytest.raises(ParameterError, match=r"cb\.progress\.digits"):
        lrn("classif.mlp", callbacks=["progress"], **{"cb.progress.digits": "many"})


def test_clone_pipeline_and_grid_search_route_dotted(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, callbacks=[custom_logger], random_state=0)
    cloned = clone(learner.set_params(**{"cb.custom_logger.alpha": 0.3}))
    assert cloned.get_params()["cb.custom_logger.alpha"] == 0.3
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", learner)])
    pipe.set_params(**{"mlp__cb.custom_logger.alpha": 0.2, "mlp__opt.lr": 0.01})
    assert pipe.get_params()["mlp__cb.custom_logger.alpha"] == 0.2
    search = GridSearchCV(pipe, {"mlp__cb.custom_logger.alpha": [0.1, 0.9], "mlp__epochs": [1, 2]}, cv=2)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_.named_steps["mlp"]
    assert best.model.callbacks["custom_logger"] is not None


@pytest.mark.parametrize("key", ["classif.module", "regr.module"])
def test_module_args_are_deep_params(key):
    learner = make(key, epochs=1, random_state=0, **{"module.hidden": 3})
    assert learner.get_params()["module.hidden"] == 3
    X = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    y = np.arange(20) % 2 if key.startswith("classif") else X[:, 0]
    learner.fit(X, y)
    assert learner.model.network.layers[0].out_features == 3
    assert learner.model.network.layers[0].in_features == 4


def test_param_set_table():
    table = lrn("classif.mlp", callbacks=["progress"]).param_set
    assert {"epochs", "opt.lr", "cb.progress.digits", "loss.reduction"} <= set(table["id"])


# -- sklearn face and data checks ---------------------------------------------------------


@settings(max_examples=8, deadline=None)
@given(labels=st.sampled_from([[0, 1], ["no", "yes"], [-3, 10, 7], ["a", "b", "c", "d"], [True, False]]))
def test_arbitrary_label_types_round_trip(labels):
    rng = np.random.default_rng(0)
    y = np.array(labels * 10, dtype=object if isinstance(labels[0], str) else None)
    X = rng.normal(size=(len(y), 3)).astype(np.float32)
    learner = lrn("classif.mlp", epochs=1, random_state=0).fit(X, y)
    assert set(learner.classes_) == set(labels)
    pred = learner.predict(X)
    assert set(pred) <= set(labels)
    assert learner.predict_proba(X).shape == (len(y), len(labels))


def test_fitted_attributes_and_dataframe(iris_xy):
    X, y = iris_xy
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    learner = lrn("classif.mlp", epochs=1, random_state=0).fit(df, y)
    assert learner.n_features_in_ == 4 and list(learner.feature_names_in_) == ["a", "b", "c", "d"]
    assert learner.model is learner.model_
    assert learner.model.feature_names == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="feature names"):
        learner.predict(df[["b", "a", "c", "d"]])


def test_not_fitted_errors():
    learner = lrn("classif.mlp")
    with pytest.raises(NotFittedError, match="not been trained"):
        learner.model
    with pytest.raises(NotFittedError):
        learner.predict(np.zeros((2, 4)))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"epochs": -1}, "'epochs' must be an integer >= 0, got -1"),
        ({"batch_size": 0}, "batch_size"),
        ({"device": "tpu"}, "device"),
        ({"predict_type": "prob", "loss": "mse"}, "loss 'mse' is for regr"),
        ({"validate": 1.5}, "validate"),
        ({"optimizer": 42}, "optimizer must be"),
    ],
)
def test_bad_plain_params(params, match, iris_xy):
    X, y = iris_xy
    with pytest.raises(ParameterError, match=match):
        lrn("classif.mlp", **{"epochs": 1, **params}).fit(X, y)


def test_bad_data(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=1)
    with pytest.raises(DataError, match="different numbers of rows: 150 vs 149"):
        learner.fit(X, y[:-1])
    y_nan = np.array([0.0, 1.0, np.nan, 1.0])
    with pytest.raises(DataError, match="NaN"):
        lrn("regr.mlp", epochs=1).fit(np.zeros((4, 2)), y_nan)
    with pytest.raises(DataError, match="NaN"):
        learner.fit(np.zeros((4, 2)), np.array(["a", None, "b", "a"], dtype=object))
    fitted = lrn("classif.mlp", epochs=1).fit(X, y)
    with pytest.raises(DataError, match="3 features.*expecting 4"):
        fitted.predict(X[:, :3])
    with pytest.raises(DataError, match="only one class"):
        lrn("classif.mlp", epochs=1).fit(X[:5], ["a"] * 5)
    with pytest.raises(DataError, match="empty"):
        lrn("classif.mlp").train(tsk("iris"), row_ids=[])


def test_task_type_mismatch():
    with pytest.raises(ParameterError, match="classif tasks.*regr"):
        lrn("classif.mlp").train(tsk("diabetes"))


def test_validation_data_and_validate_fraction(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, callbacks=["history"], random_state=0)
    learner.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    assert learner.internal_valid_scores["loss"] > 0
    frac = lrn("classif.mlp", epochs=1, validate=0.2, random_state=0).fit(X, y)
    assert frac.internal_valid_scores is not None
    none = lrn("classif.mlp", epochs=1, random_state=0).fit(X, y)
    assert none.internal_valid_scores is None


def test_predefined_validation_task():
    task = tsk("iris")
    valid = tsk("iris").filter(list(range(0, 150, 5)))
    task.filter([i for i in range(150) if i % 5])
    task.internal_valid_task = valid
    learner = lrn("classif.mlp", epochs=1, validate="predefined", random_state=0).train(task)
    assert learner.internal_valid_scores is not None


def test_num_threads_restored(iris_xy):
    X, y = iris_xy
    torch.set_num_threads(1)
    lrn("classif.mlp", epochs=1, num_threads=2).fit(X, y)
    assert torch.get_num_threads() == 1


def test_callback_key_strings_and_t_clbk_mix(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=1, callbacks=["history", t_clbk("history_2")]).fit(X, y)
    assert set(learner.model.callbacks) == {"history", "history_2"}
