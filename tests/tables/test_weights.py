"""Sample weights: the weighted mean of per-row losses, in every face and through routing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline

from mlrpy import DataError, ParameterError, as_task_classif, lrn, resample, rsmp, torch_callback
from mlrpy.learners import loop

FULL_BATCH = {"batch_size": 1000, "epochs": 5, "optimizer": "sgd", "random_state": 0, "device": "cpu"}


def _problem(task_type: str, n: int = 12):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = np.array(["a", "b", "c"] * (n // 3)) if task_type == "classif" else X @ np.array([1.0, -2.0, 0.5])
    return X, y


def _parameters(learner) -> list[torch.Tensor]:
    return [p.detach().clone() for p in learner.model.network.parameters()]


@pytest.mark.parametrize("key", ["classif.mlp", "regr.mlp"])
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_integer_weights_equal_repeating_and_dropping_rows(key, data):
    X, y = _problem(key.split(".")[0])
    # the first three rows (one per class) keep a positive weight, so no class disappears
    weights = np.array(
        data.draw(st.lists(st.integers(1, 3), min_size=3, max_size=3))
        + data.draw(st.lists(st.integers(0, 3), min_size=9, max_size=9))
    )
    weighted = lrn(key, **FULL_BATCH, **{"opt.lr": 0.1}).fit(X, y, sample_weight=weights)
    repeated = lrn(key, **FULL_BATCH, **{"opt.lr": 0.1}).fit(X.repeat(weights, axis=0), y.repeat(weights))
    for a, b in zip(_parameters(weighted), _parameters(repeated)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_weights_change_what_is_learned():
    X, y = _problem("regr")
    weights = np.r_[np.full(6, 10.0), np.full(6, 0.1)]
    plain = lrn("regr.mlp", **FULL_BATCH).fit(X, y)
    weighted = lrn("regr.mlp", **FULL_BATCH).fit(X, y, sample_weight=weights)
    assert not np.allclose(plain.predict(X), weighted.predict(X))


def test_sum_reduction_weights_the_sum():
    X, y = _problem("regr")
    weights = np.array([2, 0, 1, 3] * 3)
    kw = {**FULL_BATCH, "loss": "mse", "loss.reduction": "sum", "opt.lr": 0.001}
    weighted = lrn("regr.mlp", **kw).fit(X, y, sample_weight=weights)
    repeated = lrn("regr.mlp", **kw).fit(X.repeat(weights, axis=0), y.repeat(weights))
    for a, b in zip(_parameters(weighted), _parameters(repeated)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_the_unweighted_path_never_computes_per_row_losses(monkeypatch, iris_xy):
    calls = []
    real = loop.weighted_loss
    monkeypatch.setattr(loop, "weighted_loss", lambda *a: calls.append(1) or real(*a))
    X, y = iris_xy
    plain = lrn("classif.mlp", epochs=2, random_state=0, device="cpu").fit(X, y)
    ones = lrn("classif.mlp", epochs=2, random_state=0, device="cpu").fit(X, y, sample_weight=np.ones(len(y)))
    assert calls == []
    np.testing.assert_array_equal(plain.predict_proba(X), ones.predict_proba(X))
    lrn("classif.mlp", epochs=1, random_state=0, device="cpu").fit(X, y, sample_weight=np.arange(len(y)) % 3)
    assert calls  # with weights, every batch goes through weighted_loss


def test_a_batch_of_zero_weights_has_zero_loss():
    mse = torch.nn.MSELoss()
    loss = loop.weighted_loss(mse, torch.ones(3, 1), torch.zeros(3, 1), torch.zeros(3))
    assert float(loss) == 0.0


@pytest.mark.parametrize("key", ["classif.tabm", "regr.tabm", "classif.ft_transformer", "regr.torch_featureless"])
def test_other_families_take_weights(key):
    X, y = _problem(key.split(".")[0], n=30)
    kw = {"k": 2, "n_blocks": 1, "d_block": 8} if "tabm" in key else {}
    kw = {"n_blocks": 1, "d_token": 8, "ffn_d_hidden": 8, "ffn_d_hidden_multiplier": None} if "ft_" in key else kw
    learner = lrn(key, epochs=1, random_state=0, device="cpu", **kw)
    learner.fit(X, y, sample_weight=np.arange(30) % 4)
    assert learner.predict(X).shape == (30,)


def test_a_loss_without_reduction_cannot_weight_rows():
    class Plain(torch.nn.Module):
        def forward(self, y_hat, y):
            return ((y_hat - y) ** 2).mean()

    X, y = _problem("regr")
    learner = lrn("regr.mlp", loss=Plain, epochs=1, random_state=0, device="cpu")
    learner.fit(X, y)  # fine without weights
    with pytest.raises(ParameterError, match="loss 'plain' cannot weight rows"):
        learner.fit(X, y, sample_weight=np.arange(12))


def test_weights_leaving_a_single_class_are_an_error_naming_it():
    X, y = _problem("classif")
    weights = (y == "b").astype(float)
    with pytest.raises(DataError, match="only class 'b' has rows with a positive sample weight"):
        lrn("classif.mlp", epochs=1, random_state=0).fit(X, y, sample_weight=weights)


def test_holdout_splits_the_weights_with_the_rows():
    X, y = _problem("classif", n=30)
    weights = np.arange(30) % 5 + 1.0
    seen = {}
    probe = torch_callback(
        "probe",
        on_begin=lambda self: seen.update(
            rows=self.ctx.task_train.row_ids, weight=self.ctx.loader_train.weight.tolist()
        ),
    )
    learner = lrn("classif.mlp", epochs=1, random_state=0, validate=0.5, callbacks=[probe], device="cpu")
    learner.fit(X, y, sample_weight=weights)
    assert len(seen["rows"]) == 15
    assert seen["weight"] == weights[seen["rows"]].tolist()


def test_score_takes_sample_weight():
    X, y = _problem("classif", n=30)
    learner = lrn("classif.mlp", epochs=1, random_state=0, device="cpu").fit(X, y)
    pred = learner.predict(X)
    weights = np.arange(30) % 4
    assert learner.score(X, y, sample_weight=weights) == pytest.approx(accuracy_score(y, pred, sample_weight=weights))
    right = (pred == y).astype(float)
    if right.any() and not right.all():
        assert learner.score(X, y, sample_weight=right) == 1.0


def test_train_task_uses_the_weight_column_and_not_as_a_feature():
    X, y = _problem("classif", n=30)
    weights = np.arange(30) % 4 + 0.5
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(w=weights, y=y)
    task = as_task_classif(df, target="y").set_col_roles("w", "weight")
    trained = lrn("classif.mlp", epochs=2, random_state=0, device="cpu").train(task)
    assert trained.n_features_in_ == 3
    fitted = lrn("classif.mlp", epochs=2, random_state=0, device="cpu").fit(df[["a", "b", "c"]], y, sample_weight=weights)
    np.testing.assert_array_equal(trained.predict_proba(df[["a", "b", "c"]]), fitted.predict_proba(df[["a", "b", "c"]]))


def test_resample_trains_with_the_weights_of_the_training_rows():
    X, y = _problem("classif", n=30)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(w=np.arange(30) % 4 + 0.5, y=y)
    task = as_task_classif(df, target="y").set_col_roles("w", "weight")
    train_rows, test_rows = list(range(0, 30, 2)), list(range(1, 30, 2))
    splits = rsmp("custom").instantiate(task, train_sets=[train_rows], test_sets=[test_rows])
    learner = lrn("classif.mlp", epochs=2, random_state=0, device="cpu", predict_type="prob")
    result = resample(task, learner, splits)
    by_hand = clone(learner).train(task, train_rows).predict(task, test_rows)
    np.testing.assert_allclose(result.predictions()[0].prob.to_numpy(), by_hand.prob.to_numpy())


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _weighted_problem():
    X, y = _problem("classif", n=60)
    return X, y, np.arange(60) % 3 + 0.5


def test_pipeline_routes_sample_weight(routing):
    X, y, w = _weighted_problem()
    learner = lrn("classif.mlp", epochs=2, random_state=0, device="cpu")
    pipe = Pipeline([("mlp", learner.set_fit_request(sample_weight=True))]).fit(X, y, sample_weight=w)
    direct = lrn("classif.mlp", epochs=2, random_state=0, device="cpu").fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(pipe.predict_proba(X), direct.predict_proba(X))


def test_grid_search_routes_sample_weight_to_every_fit(routing):
    X, y, w = _weighted_problem()
    learner = lrn("classif.mlp", epochs=2, random_state=0, device="cpu")
    learner.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
    search = GridSearchCV(learner, {"epochs": [1, 2]}, cv=2).fit(X, y, sample_weight=w)
    best = search.best_params_["epochs"]
    direct = lrn("classif.mlp", epochs=best, random_state=0, device="cpu").fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(search.best_estimator_.predict_proba(X), direct.predict_proba(X))


def test_cross_validate_routes_the_weights_of_each_fold(routing):
    X, y, w = _weighted_problem()
    learner = lrn("classif.mlp", epochs=2, random_state=0, device="cpu")
    learner.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
    cv = StratifiedKFold(2)
    out = cross_validate(learner, X, y, cv=cv, params={"sample_weight": w}, return_estimator=True)
    for estimator, score, (train, test) in zip(out["estimator"], out["test_score"], cv.split(X, y)):
        direct = lrn("classif.mlp", epochs=2, random_state=0, device="cpu")
        direct.fit(X[train], y[train], sample_weight=w[train])
        np.testing.assert_array_equal(estimator.predict_proba(X), direct.predict_proba(X))
        assert score == direct.score(X[test], y[test], sample_weight=w[test])  # weighted scoring
