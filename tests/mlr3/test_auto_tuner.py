"""auto_tuner(): a learner that tunes when trained, for nested resampling, in both faces."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_validate

from mlrpy import lrn, rsmp, tsk
from mlrpy.errors import NotFittedError, ParameterError
from mlrpy.resample import resample
from mlrpy.tuning import AutoTuner, auto_tuner


@pytest.fixture(scope="module")
def iris():
    return tsk("iris")


def tuner(**kw):
    learner = lrn("classif.mlp", epochs=2, random_state=0, neurons=(8,))
    return auto_tuner(learner, {"opt.lr": [0.001, 0.1]}, rsmp("holdout", seed=1), "classif.ce", **kw)


def test_nested_resampling_tunes_on_each_outer_training_set(iris):
    outer = rsmp("cv", folds=2, seed=2).instantiate(iris)
    rr = resample(iris, tuner(), outer, store_models=True)
    assert rr.learner_id == "classif.mlp.tuned" and rr.iters == 2
    for i, fitted in enumerate(rr.learners):
        result = fitted.tuning_result_
        assert len(result.archive) == 2
        # the inner tuning saw the outer training rows only
        assert sorted(result.task.row_ids) == sorted(outer.train_set(i))
        assert fitted.learner_.get_params()["opt.lr"] == result.best_params["opt.lr"]
        # the outer test rows are predicted by the best configuration, trained on all of them
        expected = fitted.learner_.predict(iris, row_ids=outer.test_set(i)).response
        np.testing.assert_array_equal(rr.predictions()[i].response, expected)
        assert fitted.learner_.model.n_features == 4


def test_auto_tuner_is_a_scikit_learn_estimator(iris):
    at = tuner()
    assert is_classifier(at) and not is_regressor(at)
    copy = clone(at)
    assert copy.get_params()["search_space"] == {"opt.lr": [0.001, 0.1]}
    X, y = iris.data(cols=iris.feature_names), iris.truth()
    scores = cross_validate(at, X, y, cv=2, scoring="accuracy", return_estimator=True)
    assert len(scores["test_score"]) == 2
    fitted = scores["estimator"][0]
    assert fitted.predict_proba(X).shape == (150, 3) and list(fitted.classes_) == iris.class_names
    with pytest.raises(NotFittedError):
        tuner().predict(X)


def test_auto_tuner_around_a_scikit_learn_estimator():
    diabetes = tsk("diabetes")
    at = auto_tuner(Ridge(), {"alpha": [0.01, 100.0]}, rsmp("cv", folds=2, seed=0), "regr.mse")
    assert is_regressor(at) and at.id == "Ridge.tuned"
    at.id = "ridge_tuned"
    rr = resample(diabetes, at, rsmp("holdout", seed=1), store_models=True)
    assert rr.learner_id == "ridge_tuned"
    assert rr.learners[0].learner_.model.alpha == rr.learners[0].tuning_result_.best_params["alpha"]


def test_auto_tuner_checks_the_task(iris):
    with pytest.raises(ParameterError, match="regr tasks"):
        resample(iris, AutoTuner(Ridge(), {"alpha": [1.0]}), "holdout")
