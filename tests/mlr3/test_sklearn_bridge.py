"""rsmp("sklearn", cv=...) with column roles; msr("sklearn", scorer=...); Measure.as_scorer()."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, StratifiedKFold, cross_val_score

from mlrpy import as_task, lrn, msr, rsmp
from mlrpy.errors import ParameterError, UnknownKeyError
from mlrpy.prediction import PredictionClassif, PredictionRegr
from mlrpy.resample import resample
from mlrpy.resampling import NotInstantiatedError

FAST = settings(max_examples=30, deadline=None)


def grouped_task(roles=None):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "x": rng.normal(size=60),
        "site": np.repeat(list("abcdef"), 10),
        "batch": np.tile(["u", "v"], 30),
        "y": np.tile(["p", "q", "q"], 20),
    })
    task = as_task(df, target="y", id="grouped")
    task.select(["x"])
    if roles:
        task.col_roles = roles
    return task


def test_group_splitter_keeps_each_group_on_one_side():
    task = grouped_task({"group": ["site"]})
    r = rsmp("sklearn", cv=GroupKFold(3)).instantiate(task)
    site = task.backend["site"]
    assert r.iters == 3
    for i in range(r.iters):
        assert set(site[r.train_set(i)]).isdisjoint(site[r.test_set(i)])
    assert sorted(row for i in range(3) for row in r.test_set(i)) == task.row_ids


def test_stratified_splitter_uses_the_stratum_column():
    task = grouped_task({"stratum": ["batch"]})
    r = rsmp("sklearn", cv=StratifiedKFold(5, shuffle=True, random_state=0)).instantiate(task)
    batch = task.backend["batch"]
    for i in range(r.iters):
        assert (batch[r.test_set(i)] == "u").sum() == 6  # half of each test fold, as in the data
    # without a stratum role it stratifies on the target
    plain = rsmp("sklearn", cv=StratifiedKFold(5)).instantiate(grouped_task())
    y = grouped_task().truth()
    assert all((y[plain.test_set(i)] == "p").sum() == 4 for i in range(5))


def test_several_group_columns_are_combined():
    task = grouped_task({"group": ["site", "batch"]})
    r = rsmp("sklearn", cv=GroupKFold(4)).instantiate(task)
    combos = task.backend["site"] + task.backend["batch"]
    for i in range(r.iters):
        assert set(combos[r.train_set(i)]).isdisjoint(combos[r.test_set(i)])


def test_splitter_resampling_in_resample_and_its_errors():
    task = grouped_task({"group": ["site"]})
    rr = resample(task, lrn("classif.torch_featureless", epochs=1), rsmp("sklearn", cv=GroupKFold(2)))
    assert rr.iters == 2 and rr.resampling_id == "sklearn"
    with pytest.raises(ParameterError, match="'groups' parameter.*no 'group' column role"):
        rsmp("sklearn", cv=GroupKFold(2)).instantiate(grouped_task())
    with pytest.raises(ParameterError, match="needs a splitter"):
        rsmp("sklearn").instantiate(task)
    with pytest.raises(ParameterError, match="'cv'.*split"):
        rsmp("sklearn", cv=5)
    with pytest.raises(ParameterError, match="cannot split.*7"):
        rsmp("sklearn", cv=GroupKFold(7)).instantiate(task)
    assert rsmp("sklearn", cv=KFold(4)).iters == 4
    from sklearn.model_selection import LeaveOneGroupOut

    with pytest.raises(NotInstantiatedError):
        rsmp("sklearn", cv=LeaveOneGroupOut()).iters
    assert rsmp("sklearn", cv=LeaveOneGroupOut()).instantiate(task).iters == 6


# -- measures from scorers ---------------------------------------------------------------------
labels = st.lists(st.sampled_from(["a", "b", "c"]), min_size=6, max_size=30)


@FAST
@given(truth=labels, seed=st.integers(0, 1000))
def test_sklearn_scorers_equal_their_metrics(truth, seed):
    truth = [*truth, "a", "b", "c"]  # scikit-learn's log loss scorer needs every class in the truth
    rng = np.random.default_rng(seed)
    classes = ["a", "b", "c"]
    raw = rng.random((len(truth), 3)) + 0.01
    prob = pd.DataFrame(raw / raw.sum(axis=1, keepdims=True), columns=classes)
    response = np.asarray(classes)[prob.to_numpy().argmax(axis=1)]
    pred = PredictionClassif(range(len(truth)), truth, response, prob=prob, class_names=classes)
    assert msr("sklearn", scorer="neg_log_loss").score(pred) == pytest.approx(
        -metrics.log_loss(truth, prob.to_numpy(), labels=classes))
    assert msr("balanced_accuracy").score(pred) == pytest.approx(
        metrics.balanced_accuracy_score(truth, response))
    assert msr("f1_macro").score(pred) == pytest.approx(metrics.f1_score(truth, response, average="macro"))


def test_scorer_measures_describe_themselves():
    m = msr("sklearn", scorer="neg_log_loss")
    assert (m.id, m.task_type, m.predict_type, m.minimize) == ("sklearn.neg_log_loss", "classif", "prob", False)
    r2 = msr("r2", id="rsq2")
    assert (r2.id, r2.task_type, r2.predict_type) == ("rsq2", "regr", "response")
    pred = PredictionRegr([0, 1, 2], [1.0, 2.0, 4.0], [1.5, 2.0, 3.0])
    assert r2.score(pred) == pytest.approx(metrics.r2_score(pred.truth, pred.response))
    custom = msr("sklearn", scorer=metrics.make_scorer(metrics.max_error, greater_is_better=False))
    assert custom.id == "sklearn.max_error" and custom.score(pred) == -1.0


def test_scorer_measure_errors():
    with pytest.raises(ParameterError, match="needs scorer="):
        msr("sklearn")
    with pytest.raises(ParameterError, match="unknown scorer 'neg_log_los'.*neg_log_loss"):
        msr("sklearn", scorer="neg_log_los")
    with pytest.raises(UnknownKeyError, match="classif.accc"):
        msr("classif.accc")
    response_only = PredictionClassif([0, 1], ["a", "b"], ["a", "a"])
    with pytest.raises(ParameterError, match="probabilities"):
        msr("roc_auc").score(response_only)


def test_scorer_measure_in_resample():
    iris = as_task(pd.DataFrame(load_iris(as_frame=True).frame).assign(
        target=lambda d: d["target"].astype(str)), target="target")
    learner = lrn("classif.mlp", epochs=2, random_state=0, predict_type="prob")
    rr = resample(iris, learner, rsmp("cv", folds=2, seed=1))
    scores = rr.score(["neg_log_loss", "classif.logloss"])
    np.testing.assert_allclose(scores["sklearn.neg_log_loss"], -scores["classif.logloss"])


# -- measures as scorers ------------------------------------------------------------------------
def test_as_scorer_in_grid_search():
    X, y = load_iris(return_X_y=True)
    grid = GridSearchCV(LogisticRegression(max_iter=500), {"C": [0.01, 1.0]}, cv=3,
                        scoring=msr("classif.ce").as_scorer())
    grid.fit(X, y)
    expected = cross_val_score(LogisticRegression(max_iter=500, C=grid.best_params_["C"]), X, y, cv=3,
                               scoring="accuracy").mean() - 1
    assert grid.best_score_ == pytest.approx(expected)  # -(1 - accuracy)
    auc = msr("classif.auc").as_scorer()(grid.best_estimator_, X, y)
    assert auc == pytest.approx(metrics.roc_auc_score(y, grid.best_estimator_.predict_proba(X), multi_class="ovr"))


def test_as_scorer_on_an_mlrpy_learner():
    X, y = load_iris(return_X_y=True)
    learner = lrn("classif.mlp", epochs=2, random_state=0).fit(X, y)
    assert msr("classif.acc").as_scorer()(learner, X, y) == pytest.approx(learner.score(X, y))
    weights = np.arange(len(y)) % 3
    assert msr("classif.acc").as_scorer()(learner, X, y, sample_weight=weights) == pytest.approx(
        learner.score(X, y, sample_weight=weights))
