"""scikit-learn estimators and Pipelines in resample, benchmark and tune (LearnerSklearn)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from mlrpy import as_learner, lrn, rsmp, torch_callback, tsk
from mlrpy.benchmark import benchmark, benchmark_grid
from mlrpy.errors import NotFittedError, ParameterError, UnknownKeyError
from mlrpy.prediction import PredictionClassif, PredictionRegr
from mlrpy.resample import resample
from mlrpy.sklearn_learner import LearnerSklearn
from mlrpy.tuning import parse_search_space, to_tune, tune


@pytest.fixture(scope="module")
def diabetes():
    return tsk("diabetes")


@pytest.fixture(scope="module")
def iris():
    return tsk("iris")


def test_resample_matches_cross_validate_on_the_same_splits(diabetes):
    cv = rsmp("cv", folds=3, seed=1).instantiate(diabetes)
    pipe = make_pipeline(StandardScaler(), lrn("regr.mlp", epochs=3, random_state=0, neurons=(16,)))
    rr = resample(diabetes, pipe, cv)
    splits = [(np.asarray(cv.train_set(i)), np.asarray(cv.test_set(i))) for i in range(cv.iters)]
    X, y = diabetes.data(cols=diabetes.feature_names), diabetes.truth()
    expected = -cross_validate(pipe, X, y, cv=splits, scoring="neg_root_mean_squared_error")["test_score"]
    np.testing.assert_allclose(rr.score("regr.rmse")["regr.rmse"], expected, rtol=1e-6)
    assert rr.learner_id == "standardscaler.regr.mlp"
    assert not hasattr(pipe[0], "mean_")  # the pipeline passed in is never fitted


def test_preprocessing_is_fitted_on_each_training_set_only(diabetes):
    cv = rsmp("cv", folds=2, seed=3).instantiate(diabetes)
    rr = resample(diabetes, make_pipeline(StandardScaler(), Ridge()), cv, store_models=True)
    for i, learner in enumerate(rr.learners):
        train = diabetes.data(cv.train_set(i), diabetes.feature_names)
        np.testing.assert_allclose(learner.model[0].mean_, train.mean().to_numpy())


def test_classifier_predictions_carry_probabilities(iris):
    learner = as_learner(LogisticRegression(max_iter=300)).train(iris, row_ids=range(0, 150, 2))
    pred = learner.predict(iris, row_ids=range(1, 150, 2))
    assert isinstance(pred, PredictionClassif) and pred.predict_types == ["response", "prob"]
    X = iris.data(list(range(1, 150, 2)), iris.feature_names)
    np.testing.assert_allclose(pred.prob.to_numpy(), learner.model.predict_proba(X))
    assert list(pred.prob.columns) == pred.class_names == ["setosa", "versicolor", "virginica"]
    assert pred.score(["classif.acc", "classif.logloss"])["classif.logloss"] > 0
    # no predict_proba: a response only, and probability measures say so
    plain = as_learner(SVC()).train(iris).predict(iris)
    assert plain.predict_types == ["response"] and as_learner(SVC()).predict_type == "response"
    with pytest.raises(ParameterError, match="probabilities"):
        plain.score("classif.auc")


def test_regression_prediction_and_sklearn_face(diabetes):
    ridge = Ridge(alpha=0.5)
    learner = as_learner(ridge)
    pred = learner.train(diabetes).predict(diabetes, row_ids=[0, 1, 2])
    assert not hasattr(ridge, "coef_") and hasattr(learner.model, "coef_")  # a copy was fitted
    assert isinstance(pred, PredictionRegr) and pred.row_ids == [0, 1, 2]
    X = diabetes.data(cols=diabetes.feature_names)
    direct = Ridge(alpha=0.5).fit(X, diabetes.truth())
    np.testing.assert_allclose(pred.response, direct.predict(X.iloc[:3]))
    np.testing.assert_allclose(learner.fit(X, diabetes.truth()).predict(X), direct.predict(X))


@pytest.mark.parametrize(
    "estimator, expected",
    [
        (Ridge(), "Ridge"),
        (Pipeline([("scale", StandardScaler()), ("ridge", Ridge())]), "scale.ridge"),
        (make_pipeline(StandardScaler(), "passthrough", lrn("classif.mlp")), "standardscaler.classif.mlp"),
    ],
)
def test_ids_come_from_the_estimator(estimator, expected):
    assert as_learner(estimator).id == expected


def test_id_is_settable_and_survives_copies(iris):
    learner = as_learner(LogisticRegression(max_iter=500), id="logreg")
    assert clone(learner).id == "logreg"
    learner.id = "lr"
    rr = resample(iris, learner, rsmp("holdout", seed=1))
    assert rr.learner_id == "lr"
    with pytest.raises(ParameterError, match="non-empty string"):
        learner.id = ""


def test_parameters_are_the_estimators(iris):
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    learner = as_learner(pipe)
    assert learner.get_params()["logisticregression__C"] == 1.0
    learner.set_params(logisticregression__C=0.5)
    assert pipe[-1].C == 0.5  # the learner configures the estimator it wraps
    with pytest.raises(UnknownKeyError, match="logisticregression__CC.*Did you mean"):
        learner.set_params(logisticregression__CC=1.0)
    copy = clone(learner).set_params(logisticregression__C=2.0)
    assert pipe[-1].C == 0.5 and copy.estimator[-1].C == 2.0


def test_refused_estimators_and_arguments(iris):
    with pytest.raises(ParameterError, match="classifier or a regressor.*task_type"):
        as_learner(StandardScaler())
    with pytest.raises(ParameterError, match="regr tasks.*iris"):
        resample(iris, Ridge(), rsmp("holdout"))
    with pytest.raises(ParameterError, match="only apply to a scikit-learn estimator"):
        as_learner(lrn("classif.mlp"), id="x")
    with pytest.raises(NotFittedError, match="not been trained"):
        as_learner(Ridge()).model
    assert as_learner(StandardScaler(), task_type="regr").task_type == "regr"


def test_weight_column_becomes_sample_weight(diabetes):
    task = diabetes.clone()
    weights = task.backend["bmi"].to_numpy() - task.backend["bmi"].min() + 0.1
    task.backend = task.backend.assign(bmi=weights)  # weights must be non-negative
    task.col_roles = {"weight": ["bmi"]}  # bmi stays a feature as well
    X = task.data(cols=task.feature_names)
    fitted = as_learner(make_pipeline(StandardScaler(), Ridge())).train(task).model
    direct = Ridge().fit(StandardScaler().fit_transform(X), task.truth(), sample_weight=weights)
    np.testing.assert_allclose(fitted[-1].coef_, direct.coef_)
    with pytest.raises(ParameterError, match="no sample_weight"):
        as_learner(_NoWeights()).train(task)


class _NoWeights(DummyRegressor):
    def fit(self, X, y):  # no sample_weight
        return super().fit(X, y)


def test_benchmark_compares_mlrpy_learners_with_sklearn_baselines(iris):
    design = benchmark_grid(
        iris,
        [lrn("classif.mlp", epochs=2, random_state=0, neurons=(8,)),
         DummyClassifier(), make_pipeline(StandardScaler(), LogisticRegression())],
        rsmp("cv", folds=2, seed=1),
    )
    table = benchmark(design).aggregate(["classif.acc"])
    assert list(table["learner_id"]) == ["classif.mlp", "DummyClassifier", "standardscaler.logisticregression"]
    assert table["iters"].tolist() == [2, 2, 2]
    acc = table.set_index("learner_id")["classif.acc"]
    assert acc["DummyClassifier"] < acc["standardscaler.logisticregression"]


def penalty_init(self, alpha: float = 0.0):
    self.alpha = alpha


def penalty_after_loss(self):
    self.ctx.loss = self.ctx.loss + self.alpha * sum(p.pow(2).sum() for p in self.ctx.network.parameters())


penalty = torch_callback("penalty", initialize=penalty_init, on_after_loss=penalty_after_loss)


def test_tune_reaches_callback_parameters_inside_a_pipeline(iris):
    mlp = lrn("classif.mlp", epochs=2, random_state=0, neurons=(8,), callbacks=[penalty])
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", mlp)])
    space = {"mlp__cb.penalty.alpha": [0.0, 10.0], "scale__with_mean": [True]}
    result = tune(pipe, iris, rsmp("cv", folds=2, seed=1), "classif.ce", space)
    assert list(result.archive["mlp__cb.penalty.alpha"]) == [0.0, 10.0]
    # each row is the resample score of the pipeline with that value
    configured = clone(pipe).set_params(**{"mlp__cb.penalty.alpha": 10.0})
    rr = resample(iris, configured, rsmp("cv", folds=2, seed=1))
    assert result.archive.loc[1, "classif.ce"] == pytest.approx(rr.aggregate()["classif.ce"])
    best = result.best_learner()
    assert best.model.named_steps["mlp"].get_params()["cb.penalty.alpha"] == result.best_params[
        "mlp__cb.penalty.alpha"]
    assert pipe.named_steps["mlp"].get_params()["cb.penalty.alpha"] == 0.0  # not changed


def test_schema_ranges_of_a_nested_learner(iris):
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", lrn("classif.mlp"))])
    dims, _ = parse_search_space(as_learner(pipe), {"mlp__p": to_tune(), "mlp__loss.reduction": "schema"})
    assert dims[0].grid(3) == pytest.approx([0.0, 0.5, 1.0]) and dims[0].grid(3)[-1] < 1.0  # p < 1
    assert dims[1].grid(3) == ["mean", "sum"]
    with pytest.raises(ParameterError, match="scale__with_std.*cannot derive"):
        parse_search_space(as_learner(pipe), {"scale__with_std": "schema"})


def test_tune_a_plain_estimator(diabetes):
    result = tune(Ridge(), diabetes, rsmp("cv", folds=2, seed=1), "regr.rmse", {"alpha": (0.01, 10.0, "log")},
                  resolution=3)
    assert len(result.archive) == 3 and result.best_learner().model.alpha == result.best_params["alpha"]
    assert isinstance(result.learner, LearnerSklearn)
    assert result.archive["error"].isna().all()


def test_prediction_of_a_task_carries_its_weights_and_positive_class():
    """A scikit-learn learner's prediction of a task scores like an mlrpy learner's: weighted
    by the task's weight column, with the task's positive class."""
    import pandas as pd
    from sklearn.metrics import accuracy_score

    from mlrpy import as_task_classif, msr

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=80), "w": rng.uniform(0.5, 3, 80)})
    df["y"] = np.where(df["x"] + rng.normal(scale=0.8, size=80) > 0, "yes", "no")
    task = as_task_classif(df, target="y", positive="yes").set_col_roles("w", "weight")
    prediction = as_learner(LogisticRegression()).train(task).predict(task)
    np.testing.assert_array_equal(prediction.weights, df["w"].to_numpy())
    assert prediction.positive == "yes"
    expected = accuracy_score(df["y"], prediction.response, sample_weight=df["w"])
    assert prediction.score(msr("classif.acc"))["classif.acc"] == pytest.approx(expected)
