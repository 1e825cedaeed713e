"""Measures on predictions whose truth holds a class the model never saw, and on bad data.

Rule under test: such a class is scored as a class the model knows but never predicts
(probability 0, never the response); it is never folded into a two-class problem. Data a
scoring function rejects raises DataError naming the measure and the classes.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

from mlrpy import lrn, rsmp, tsk
from mlrpy.errors import DataError
from mlrpy.measures import Measure, mlr_measures, msr
from mlrpy.prediction import PredictionClassif, PredictionRegr
from mlrpy.resample import resample

# a class that is never predicted has an undefined precision: sklearn warns and scores 0
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")

CLASSIF = [k for k in mlr_measures if msr(k).task_type == "classif"]
REGR = [k for k in mlr_measures if msr(k).task_type == "regr"]


def test_the_registry_has_classification_measures_to_test():
    assert {"classif.acc", "classif.auc", "classif.logloss", "classif.f1"} <= set(CLASSIF)


def unseen_and_known(truth, known, prob_known, response):
    """The same prediction twice: the model saw ``known`` only / it also knows the truth's
    other classes, with probability 0 and never predicted."""
    truth, response = np.asarray(truth), np.asarray(response)
    prob_known = np.asarray(prob_known, dtype=float)
    unseen = sorted(set(truth.tolist()) - set(known))
    unseen_pred = PredictionClassif(
        list(range(len(truth))), truth, response,
        prob=pd.DataFrame(prob_known, columns=known), class_names=known,
    )
    all_classes = sorted([*known, *unseen])
    full = pd.DataFrame(prob_known, columns=known).assign(**{c: 0.0 for c in unseen})[all_classes]
    known_pred = PredictionClassif(
        list(range(len(truth))), truth, response, prob=full, class_names=all_classes
    )
    return unseen_pred, known_pred


@pytest.fixture
def two_class_model_three_class_truth():
    truth = ["neg", "pos", "other", "pos", "neg", "other", "pos", "neg"]
    prob_pos = np.array([0.2, 0.9, 0.7, 0.6, 0.4, 0.1, 0.8, 0.3])
    prob = np.column_stack([1 - prob_pos, prob_pos])
    response = np.where(prob_pos > 0.5, "pos", "neg")
    return unseen_and_known(truth, ["neg", "pos"], prob, response)


@pytest.mark.parametrize("key", CLASSIF)
def test_unseen_class_scores_as_a_known_class_never_predicted(key, two_class_model_three_class_truth):
    unseen, known = two_class_model_three_class_truth
    expected = msr(key).score(known)
    assert math.isfinite(expected)
    assert msr(key).score(unseen) == pytest.approx(expected)


def test_auc_is_not_the_two_class_auc(two_class_model_three_class_truth):
    unseen, _ = two_class_model_three_class_truth
    two_class = metrics.roc_auc_score(unseen.truth == "pos", unseen.prob["pos"])
    three_class = metrics.roc_auc_score(
        unseen.truth,
        unseen.prob.assign(other=0.0)[["neg", "other", "pos"]].to_numpy(),
        multi_class="ovr", labels=["neg", "other", "pos"],
    )
    assert msr("classif.auc").score(unseen) == pytest.approx(three_class)
    assert three_class != pytest.approx(two_class)


def test_response_measures_count_unseen_rows_as_errors(two_class_model_three_class_truth):
    unseen, _ = two_class_model_three_class_truth
    t, r = unseen.truth, unseen.response
    assert msr("classif.acc").score(unseen) == pytest.approx(np.mean(t == r))
    assert msr("classif.f1").score(unseen) == pytest.approx(
        metrics.f1_score(t, r, average="macro", labels=["neg", "other", "pos"])
    )
    assert msr("classif.recall").score(unseen) == pytest.approx(
        metrics.recall_score(t, r, average="macro", labels=["neg", "other", "pos"])
    )


def test_logloss_of_an_unseen_class_is_that_of_probability_zero(two_class_model_three_class_truth):
    unseen, known = two_class_model_three_class_truth
    assert msr("classif.logloss").score(unseen) == pytest.approx(
        metrics.log_loss(known.truth, known.prob.to_numpy(), labels=known.class_names)
    )
    # larger than the loss of the rows the model could have got right
    seen = unseen.truth != "other"
    two_class = metrics.log_loss(unseen.truth[seen], unseen.prob.to_numpy()[seen], labels=["neg", "pos"])
    assert msr("classif.logloss").score(unseen) > two_class


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=4, max_size=30),
    st.lists(st.floats(0.01, 1.0), min_size=90, max_size=90),
    st.sampled_from([["a", "b"], ["b", "c"], ["a", "c", "d"]]),
)
def test_any_unseen_class_scores_as_never_predicted(truth, raw, known):
    n = len(truth)
    prob = np.asarray(raw[: n * len(known)]).reshape(n, len(known))
    prob = prob / prob.sum(axis=1, keepdims=True)
    response = np.asarray(known)[prob.argmax(axis=1)]
    unseen, explicit = unseen_and_known(truth, known, prob, response)
    for key in CLASSIF:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # undefined scores of tiny samples warn, as in sklearn
            got, expected = msr(key).score(unseen), msr(key).score(explicit)
        assert got == pytest.approx(expected, nan_ok=True), key


def test_resample_scores_a_fold_whose_training_rows_lack_a_class():
    task = tsk("iris")
    train = [r for r in task.row_ids if task.truth([r])[0] != "virginica"][::2]
    test = [r for r in task.row_ids if r not in train]
    resampling = rsmp("custom").instantiate(task, train_sets=[train], test_sets=[test])
    learner = lrn("classif.mlp", epochs=2, random_state=0, predict_type="prob")
    rr = resample(task, learner, resampling)
    pred = rr.predictions()[0]
    assert pred.class_names == ["setosa", "versicolor"] and "virginica" in set(pred.truth)
    scores = rr.score(CLASSIF)
    _, known = unseen_and_known(
        pred.truth, pred.class_names, pred.prob.to_numpy(), pred.response
    )
    for key in CLASSIF:
        assert scores.loc[0, key] == pytest.approx(msr(key).score(known)), key


@pytest.mark.parametrize("key", CLASSIF)
def test_truth_labels_of_another_type_raise_data_error(key):
    prob = pd.DataFrame({"a": [0.7, 0.4], "b": [0.3, 0.6]})
    pred = PredictionClassif([0, 1], truth=[0, 1], response=["a", "b"], prob=prob, class_names=["a", "b"])
    with pytest.raises(DataError, match=rf"Measure '{key}'.*\[0, 1\].*\['a', 'b'\].*mixed label types"):
        msr(key).score(pred)


@pytest.mark.parametrize("key", ["classif.auc", "classif.logloss"])
def test_nan_probabilities_raise_data_error_naming_measure_and_classes(key):
    prob = pd.DataFrame({"a": [0.7, 0.5, 0.2], "b": [0.3, np.nan, 0.8]})
    pred = PredictionClassif([0, 1, 2], ["a", "b", "b"], ["a", "b", "b"], prob=prob, class_names=["a", "b"])
    with pytest.raises(DataError, match=rf"Measure '{key}'.*NaN.*truth classes: \['a', 'b'\]; "
                                        rf"prediction classes: \['a', 'b'\]") as info:
        msr(key).score(pred)
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize("key", REGR)
def test_nan_responses_raise_data_error_naming_the_measure(key):
    pred = PredictionRegr([0, 1], truth=[1.0, 2.0], response=[np.nan, 2.0])
    with pytest.raises(DataError, match=rf"Measure '{key}' cannot score the prediction.*NaN"):
        msr(key).score(pred)


def test_a_custom_measure_value_error_becomes_data_error():
    def picky(p):
        raise ValueError("needs at least 3 rows")

    m = Measure("classif.picky", "classif", "response", picky, minimize=False)
    pred = PredictionClassif([0, 1], ["x", "y"], ["x", "x"], class_names=["x", "y"])
    with pytest.raises(DataError, match=r"'classif.picky'.*needs at least 3 rows.*\['x', 'y'\]"):
        m.score(pred)
