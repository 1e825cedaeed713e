"""Measures: each score equals scikit-learn's on the same data; misuse fails clearly."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

from mlrpy.errors import DataError, ParameterError, UnknownKeyError
from mlrpy.measures import (
    Measure,
    as_measure,
    as_measures,
    default_measure,
    mlr_measures,
    msr,
    msrs,
    score_prediction,
)
from mlrpy.prediction import PredictionClassif, PredictionRegr

FAST = settings(max_examples=40, deadline=None)


# -- fixtures ----------------------------------------------------------------------------------
def _classif(n: int, classes: list[str], seed: int, with_prob: bool = True) -> PredictionClassif:
    rng = np.random.default_rng(seed)
    truth = rng.choice(classes, size=n)
    truth[: len(classes)] = classes  # every class present
    raw = rng.random((n, len(classes))) + 0.05
    prob = raw / raw.sum(axis=1, keepdims=True)
    response = np.asarray(classes)[prob.argmax(axis=1)]
    # make the predictions informative but imperfect
    keep = rng.random(n) < 0.6
    response[keep] = truth[keep]
    return PredictionClassif(
        list(range(n)),
        truth,
        response,
        prob=pd.DataFrame(prob, columns=classes) if with_prob else None,
        class_names=classes,
    )


@pytest.fixture
def binary() -> PredictionClassif:
    return _classif(60, ["neg", "pos"], seed=1)


@pytest.fixture
def multi() -> PredictionClassif:
    return _classif(90, ["a", "b", "c"], seed=2)


@pytest.fixture
def regr() -> PredictionRegr:
    rng = np.random.default_rng(3)
    truth = rng.normal(size=50)
    return PredictionRegr(list(range(50)), truth, truth + rng.normal(scale=0.5, size=50))


# -- equality with scikit-learn -------------------------------------------------------------------
RESPONSE_CLASSIF = {
    "classif.acc": lambda t, r: metrics.accuracy_score(t, r),
    "classif.ce": lambda t, r: 1 - metrics.accuracy_score(t, r),
    "classif.bacc": lambda t, r: metrics.balanced_accuracy_score(t, r),
    "classif.mcc": lambda t, r: metrics.matthews_corrcoef(t, r),
}


@pytest.mark.parametrize("key", sorted(RESPONSE_CLASSIF))
def test_response_classif_measures_match_sklearn(key, binary, multi):
    for pred in (binary, multi):
        expected = RESPONSE_CLASSIF[key](list(pred.truth), list(pred.response))
        assert msr(key).score(pred) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("key", "fn"),
    [
        ("classif.f1", metrics.f1_score),
        ("classif.precision", metrics.precision_score),
        ("classif.recall", metrics.recall_score),
    ],
)
def test_f1_precision_recall_binary_positive_class_is_second(key, fn, binary, multi):
    t, r = list(binary.truth), list(binary.response)
    assert msr(key).score(binary) == pytest.approx(fn(t, r, pos_label="pos"))
    assert msr(key).score(binary) != pytest.approx(fn(t, r, pos_label="neg"))
    # multiclass: macro average
    tm, rm = list(multi.truth), list(multi.response)
    assert msr(key).score(multi) == pytest.approx(fn(tm, rm, average="macro"))


def test_auc_binary_uses_probability_of_second_class(binary):
    assert binary.prob is not None
    expected = metrics.roc_auc_score(binary.truth == "pos", binary.prob["pos"])
    assert msr("classif.auc").score(binary) == pytest.approx(expected)
    # column order of prob does not matter
    swapped = PredictionClassif(
        binary.row_ids, binary.truth, binary.response,
        prob=binary.prob[["pos", "neg"]], class_names=["neg", "pos"],
    )
    assert msr("classif.auc").score(swapped) == pytest.approx(expected)


def test_auc_multiclass_is_one_vs_rest_macro(multi):
    assert multi.prob is not None
    expected = metrics.roc_auc_score(
        multi.truth, multi.prob.to_numpy(), multi_class="ovr", average="macro"
    )
    assert msr("classif.auc").score(multi) == pytest.approx(expected)


def test_logloss_matches_sklearn(binary, multi):
    for pred in (binary, multi):
        assert pred.prob is not None
        expected = metrics.log_loss(pred.truth, pred.prob.to_numpy(), labels=pred.class_names)
        assert msr("classif.logloss").score(pred) == pytest.approx(expected)


def test_logloss_counts_classes_absent_from_truth():
    prob = pd.DataFrame({"a": [0.7, 0.2], "b": [0.2, 0.7], "c": [0.1, 0.1]})
    pred = PredictionClassif([0, 1], ["a", "b"], ["a", "b"], prob=prob, class_names=["a", "b", "c"])
    expected = metrics.log_loss(["a", "b"], prob.to_numpy(), labels=["a", "b", "c"])
    assert msr("classif.logloss").score(pred) == pytest.approx(expected)


REGR = {
    "regr.mse": metrics.mean_squared_error,
    "regr.rmse": metrics.root_mean_squared_error,
    "regr.mae": metrics.mean_absolute_error,
    "regr.rsq": metrics.r2_score,
    "regr.medae": metrics.median_absolute_error,
}


@pytest.mark.parametrize("key", sorted(REGR))
def test_regr_measures_match_sklearn(key, regr):
    assert msr(key).score(regr) == pytest.approx(REGR[key](regr.truth, regr.response))


# -- properties ----------------------------------------------------------------------------------
labels3 = st.sampled_from(["a", "b", "c"])


@st.composite
def label_pairs(draw):
    n = draw(st.integers(1, 40))
    truth = draw(st.lists(labels3, min_size=n, max_size=n))
    response = draw(st.lists(labels3, min_size=n, max_size=n))
    return truth, response


@FAST
@given(label_pairs())
def test_acc_plus_ce_is_one(pair):
    truth, response = pair
    pred = PredictionClassif(range(len(truth)), truth, response, class_names=["a", "b", "c"])
    scores = score_prediction(pred, ["classif.acc", "classif.ce"])
    assert scores["classif.acc"] + scores["classif.ce"] == pytest.approx(1.0)
    assert scores["classif.acc"] == pytest.approx(metrics.accuracy_score(truth, response))


finite = st.floats(-1e3, 1e3, allow_nan=False)


@FAST
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=40))
def test_rmse_squared_is_mse(pairs):
    truth, response = zip(*pairs)
    pred = PredictionRegr(range(len(pairs)), truth, response)
    s = pred.score(["regr.rmse", "regr.mse", "regr.mae"])
    assert s["regr.rmse"] ** 2 == pytest.approx(s["regr.mse"], rel=1e-9, abs=1e-9)
    assert s["regr.mae"] == pytest.approx(metrics.mean_absolute_error(truth, response))
    assert s["regr.mae"] <= s["regr.rmse"] + 1e-9


@st.composite
def binary_probs(draw):
    n = draw(st.integers(2, 40))
    rest = draw(st.lists(st.sampled_from(["neg", "pos"]), min_size=n - 2, max_size=n - 2))
    truth = ["neg", "pos", *rest]
    p_pos = draw(st.lists(st.floats(0.001, 0.999), min_size=n, max_size=n))
    return truth, p_pos


@FAST
@given(binary_probs())
def test_auc_and_logloss_binary_match_sklearn(data):
    truth, p_pos = data
    p = np.asarray(p_pos)
    prob = pd.DataFrame({"neg": 1 - p, "pos": p})
    response = np.where(p > 0.5, "pos", "neg")
    pred = PredictionClassif(range(len(truth)), truth, response, prob=prob,
                             class_names=["neg", "pos"])
    y = np.asarray(truth) == "pos"
    s = pred.score(["classif.auc", "classif.logloss"])
    assert s["classif.auc"] == pytest.approx(metrics.roc_auc_score(y, p))
    assert s["classif.logloss"] == pytest.approx(metrics.log_loss(y, p))
    assert 0.0 <= s["classif.auc"] <= 1.0


# -- misuse -----------------------------------------------------------------------------------
def test_prob_measure_on_response_only_prediction_says_set_predict_type():
    pred = _classif(20, ["neg", "pos"], seed=4, with_prob=False)
    for key in ("classif.auc", "classif.logloss"):
        with pytest.raises(ParameterError, match='predict_type="prob"') as err:
            msr(key).score(pred)
        assert key in str(err.value)


def test_wrong_task_type_names_measure_and_both_types(regr, binary):
    with pytest.raises(ParameterError) as err:
        msr("classif.acc").score(regr)
    msg = str(err.value)
    assert "classif.acc" in msg and "'classif'" in msg and "'regr'" in msg
    with pytest.raises(ParameterError, match=r"regr\.mse.*'regr'.*'classif'"):
        msr("regr.mse").score(binary)


def test_missing_truth_errors():
    pred = PredictionRegr([0, 1], None, [1.0, 2.0])
    with pytest.raises(ParameterError, match="truth"):
        msr("regr.mse").score(pred)


def test_empty_prediction_errors():
    with pytest.raises(DataError, match="no rows"):
        msr("regr.mse").score(PredictionRegr([], [], []))


def test_scoring_a_non_prediction_is_a_type_error():
    with pytest.raises(TypeError, match="Prediction"):
        msr("regr.mse").score([1.0, 2.0])  # type: ignore[arg-type]


def test_unknown_key_suggests_the_close_one():
    with pytest.raises(UnknownKeyError) as err:
        msr("classif.acx")
    assert "classif.acc" in str(err.value)
    assert "Did you mean" in str(err.value)


def test_unknown_msr_argument_is_a_parameter_error():
    with pytest.raises(ParameterError, match=r"'lable'.*Did you mean 'label'"):
        msr("classif.acc", lable="x")


def test_duplicate_measure_ids_error(binary):
    with pytest.raises(ParameterError, match="more than once"):
        score_prediction(binary, ["classif.acc", "classif.acc"])
    # a renamed copy is fine
    s = score_prediction(binary, ["classif.acc", msr("classif.acc", id="acc2")])
    assert s["classif.acc"] == s["acc2"]


# -- registry, sugar, defaults ----------------------------------------------------------------
def test_registry_lists_all_measures_with_description():
    frame = mlr_measures.as_frame()
    assert list(frame.columns) == ["key", "label", "task_type", "predict_type", "minimize"]
    expected = {
        "classif.acc", "classif.ce", "classif.bacc", "classif.auc", "classif.logloss",
        "classif.f1", "classif.precision", "classif.recall", "classif.mcc",
        "regr.mse", "regr.rmse", "regr.mae", "regr.rsq", "regr.medae",
    }
    assert set(frame["key"]) == expected
    row = frame.set_index("key").loc["classif.logloss"]
    assert row["predict_type"] == "prob" and bool(row["minimize"]) is True


@pytest.mark.parametrize(
    ("key", "minimize"),
    [("classif.acc", False), ("classif.ce", True), ("regr.rsq", False), ("regr.mae", True)],
)
def test_minimize_flags(key, minimize):
    assert msr(key).minimize is minimize


def test_scores_lie_in_the_declared_range(binary, multi, regr):
    for key in mlr_measures:
        m = msr(key)
        preds = (binary, multi) if m.task_type == "classif" else (regr,)
        for pred in preds:
            value = m.score(pred)
            assert m.range[0] <= value <= m.range[1], (key, value)


def test_default_measures_follow_mlr3(binary, regr):
    assert default_measure("classif").id == "classif.ce"
    assert default_measure("regr").id == "regr.mse"
    assert binary.score() == {"classif.ce": pytest.approx(1 - metrics.accuracy_score(
        binary.truth, binary.response))}
    assert list(regr.score()) == ["regr.mse"]
    with pytest.raises(ParameterError, match="surv"):
        default_measure("surv")


def test_fresh_objects_and_clone_are_independent():
    a = msr("classif.acc")
    a.id = "changed"
    assert msr("classif.acc").id == "classif.acc"
    b = a.clone()
    b.label = "other"
    assert a.label == "Classification Accuracy"
    assert msr("classif.acc_2").id == "classif.acc_2"


def test_as_measure_and_as_measures():
    m = msr("regr.mae")
    assert as_measure(m) is m
    assert as_measure("regr.mae").id == "regr.mae"
    assert [x.id for x in as_measures("regr.mse")] == ["regr.mse"]
    assert [x.id for x in as_measures(("regr.mse", m))] == ["regr.mse", "regr.mae"]
    assert as_measures(None) == []
    assert [x.id for x in as_measures(None, task_type="classif")] == ["classif.ce"]
    assert [x.id for x in msrs(["regr.mse", "regr.rsq"])] == ["regr.mse", "regr.rsq"]
    with pytest.raises(TypeError):
        as_measure(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        as_measures(3)  # type: ignore[arg-type]


def test_user_defined_measure_is_checked_like_builtins(binary, regr):
    maxerr = Measure(
        "regr.maxerr", task_type="regr", predict_type="response",
        fun=lambda p: metrics.max_error(p.truth, p.response), minimize=True,
        range=(0.0, math.inf),
    )
    assert maxerr.score(regr) == pytest.approx(metrics.max_error(regr.truth, regr.response))
    with pytest.raises(ParameterError):
        maxerr.score(binary)
    with pytest.raises(ParameterError, match="task_type"):
        Measure("x", task_type="surv", predict_type="response", fun=len, minimize=True)
    with pytest.raises(ParameterError, match="predict_type"):
        Measure("x", task_type="regr", predict_type="se", fun=len, minimize=True)


def test_aggregate_is_the_mean():
    assert msr("classif.ce").aggregate([0.0, 0.5, 1.0]) == pytest.approx(0.5)


def test_repr_is_informative():
    text = repr(msr("classif.auc"))
    assert "classif.auc" in text and "prob" in text and "maximize" in text
