"""The featureless learners are real baselines: they score what scikit-learn's dummies score."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate

from mlrpy import lrn


def cv_score(estimator, X, y, scoring, cv) -> float:
    return -float(np.mean(cross_validate(estimator, X, y, scoring=scoring, cv=cv)["test_score"]))


def test_regr_featureless_cv_rmse_matches_predicting_the_mean():
    X, y = load_diabetes(return_X_y=True)
    cv = KFold(5, shuffle=True, random_state=0)
    dummy = cv_score(DummyRegressor(), X, y, "neg_root_mean_squared_error", cv)
    torch_baseline = cv_score(lrn("regr.torch_featureless", random_state=0), X, y,
                              "neg_root_mean_squared_error", cv)
    assert torch_baseline == pytest.approx(dummy, rel=0.01)


@pytest.mark.parametrize("load", [load_breast_cancer, load_wine])
def test_classif_featureless_cv_log_loss_matches_the_class_priors(load):
    X, y = load(return_X_y=True)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    dummy = cv_score(DummyClassifier(strategy="prior"), X, y, "neg_log_loss", cv)
    torch_baseline = cv_score(lrn("classif.torch_featureless", random_state=0), X, y, "neg_log_loss", cv)
    assert torch_baseline == pytest.approx(dummy, rel=0.01)
    # and it predicts the majority class, as the prior dummy does
    dummy_acc = -cv_score(DummyClassifier(strategy="prior"), X, y, "accuracy", cv)
    torch_acc = -cv_score(lrn("classif.torch_featureless", random_state=0), X, y, "accuracy", cv)
    assert torch_acc == pytest.approx(dummy_acc)


@pytest.mark.parametrize("epochs", [1, 3])
def test_classif_probabilities_are_the_class_frequencies_after_training(epochs):
    X, y = load_breast_cancer(return_X_y=True)
    learner = lrn("classif.torch_featureless", epochs=epochs, random_state=0).fit(X, y)
    frequencies = np.bincount(y) / len(y)
    np.testing.assert_allclose(learner.predict_proba(X[:5]), np.tile(frequencies, (5, 1)), atol=0.01)


@pytest.mark.parametrize("epochs", [1, 20])
def test_regr_prediction_is_the_training_mean_after_training(epochs):
    X, y = load_diabetes(return_X_y=True)
    learner = lrn("regr.torch_featureless", epochs=epochs, random_state=0).fit(X[:300], y[:300])
    np.testing.assert_allclose(learner.predict(X[300:]), y[:300].mean(), rtol=0.002)
