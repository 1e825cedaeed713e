"""Measures with the task's sample weights and positive class."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

from mlrpy import as_task_classif, as_task_regr, lrn, msr, resample, rsmp
from mlrpy.prediction import PredictionClassif, PredictionRegr, combine_predictions

BINARY = {
    "classif.acc": lambda t, r, p, w, pos: metrics.accuracy_score(t, r, sample_weight=w),
    "classif.ce": lambda t, r, p, w, pos: metrics.zero_one_loss(t, r, sample_weight=w),
    "classif.bacc": lambda t, r, p, w, pos: metrics.balanced_accuracy_score(t, r, sample_weight=w),
    "classif.mcc": lambda t, r, p, w, pos: metrics.matthews_corrcoef(t, r, sample_weight=w),
    "classif.f1": lambda t, r, p, w, pos: metrics.f1_score(t, r, pos_label=pos, sample_weight=w),
    "classif.precision": lambda t, r, p, w, pos: metrics.precision_score(t, r, pos_label=pos, sample_weight=w),
    "classif.recall": lambda t, r, p, w, pos: metrics.recall_score(t, r, pos_label=pos, sample_weight=w),
    "classif.auc": lambda t, r, p, w, pos: metrics.roc_auc_score(t == pos, p[pos], sample_weight=w),
    "classif.logloss": lambda t, r, p, w, pos: metrics.log_loss(t, p[["a", "b"]], labels=["a", "b"], sample_weight=w),
}
REGR = {
    "regr.mse": metrics.mean_squared_error,
    "regr.rmse": metrics.root_mean_squared_error,
    "regr.mae": metrics.mean_absolute_error,
    "regr.rsq": metrics.r2_score,
    "regr.medae": metrics.median_absolute_error,
}


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from("ab"), st.floats(0.01, 0.99), st.integers(0, 4)), min_size=4, max_size=30
    ),
    positive=st.sampled_from([None, "a", "b"]),
)
def test_binary_measures_use_weights_and_the_positive_class(rows, positive):
    truth = np.array([t for t, _, _ in rows] + ["a", "b"])
    prob_b = np.array([p for _, p, _ in rows] + [0.3, 0.6])
    weights = np.array([w for _, _, w in rows] + [1, 1], dtype=float)
    prob = pd.DataFrame({"a": 1 - prob_b, "b": prob_b})
    response = np.where(prob_b > 0.5, "b", "a")
    pred = PredictionClassif(range(len(truth)), truth, response, prob=prob, class_names=["a", "b"],
                             weights=weights, positive=positive)
    pos = positive or "b"  # the default positive class is the second
    with _quiet():  # undefined scores (e.g. no positive prediction) warn in scikit-learn
        for key, reference in BINARY.items():
            expected = reference(truth, response, prob, weights, pos)
            assert msr(key).score(pred) == pytest.approx(expected, nan_ok=True), key


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5), st.integers(0, 3)), min_size=3, max_size=30))
def test_regression_measures_use_weights(rows):
    truth = np.array([t for t, _, _ in rows])
    response = np.array([r for _, r, _ in rows])
    weights = np.array([w for _, _, w in rows], dtype=float)
    weights[0] += 1  # at least one positive weight
    pred = PredictionRegr(range(len(truth)), truth, response, weights=weights)
    with _quiet():
        for key, fn in REGR.items():
            assert msr(key).score(pred) == pytest.approx(fn(truth, response, sample_weight=weights), nan_ok=True), key


def _weighted_task():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=40), "w": rng.integers(1, 4, 40).astype(float)})
    df["y"] = np.where(df["x"] + rng.normal(scale=0.5, size=40) > 0, "yes", "no")
    return as_task_classif(df, target="y", positive="yes").set_col_roles("w", "weight"), df


def test_predict_task_carries_the_weights_and_positive_class():
    task, df = _weighted_task()
    learner = lrn("classif.mlp", epochs=2, random_state=0, predict_type="prob").train(task)
    pred = learner.predict(task, row_ids=[3, 1, 7])
    np.testing.assert_array_equal(pred.weights, df.loc[[3, 1, 7], "w"].to_numpy())
    assert pred.positive == "yes"
    full = learner.predict(task)
    assert full.score("classif.acc")["classif.acc"] == pytest.approx(
        metrics.accuracy_score(full.truth, full.response, sample_weight=df["w"]))
    assert full.score("classif.recall")["classif.recall"] == pytest.approx(
        metrics.recall_score(full.truth, full.response, pos_label="yes", sample_weight=df["w"]))
    task.positive = "no"
    assert learner.predict(task).score("classif.recall")["classif.recall"] == pytest.approx(
        metrics.recall_score(full.truth, full.response, pos_label="no", sample_weight=df["w"]))
    assert "weights" in full.as_frame().columns


def test_resample_scores_are_weighted_and_use_the_positive_class():
    task, df = _weighted_task()
    learner = lrn("classif.mlp", epochs=2, random_state=0, predict_type="prob")
    result = resample(task, learner, rsmp("cv", folds=2, seed=0))
    for prediction in result.predictions():
        np.testing.assert_array_equal(prediction.weights, df.loc[prediction.row_ids, "w"].to_numpy())
        assert prediction.positive == "yes"
    combined = combine_predictions(result.predictions())
    assert len(combined.weights) == 40 and combined.positive == "yes"
    auc = result.score("classif.auc")["classif.auc"]
    expected = [
        metrics.roc_auc_score(p.truth == "yes", p.prob["yes"], sample_weight=p.weights)
        for p in result.predictions()
    ]
    np.testing.assert_allclose(auc, expected)


def test_scorers_take_sample_weight():
    task, df = _weighted_task()
    learner = lrn("classif.mlp", epochs=2, random_state=0).train(task)
    X, y, w = df[["x"]], df["y"].to_numpy(), df["w"].to_numpy()
    scorer = msr("classif.ce").as_scorer()
    assert scorer(learner, X, y, sample_weight=w) == pytest.approx(-(1 - learner.score(X, y, sample_weight=w)))
    prediction = learner.predict(task)
    assert msr("accuracy").score(prediction) == pytest.approx(
        metrics.accuracy_score(prediction.truth, prediction.response, sample_weight=w))


def test_unweighted_predictions_score_as_before():
    df = pd.DataFrame({"x": np.arange(10.0), "y": np.arange(10.0) * 2})
    task = as_task_regr(df, target="y")
    pred = lrn("regr.mlp", epochs=1, random_state=0).train(task).predict(task)
    assert pred.weights is None and "weights" not in pred.as_frame().columns
    assert msr("regr.mse").score(pred) == pytest.approx(metrics.mean_squared_error(pred.truth, pred.response))
