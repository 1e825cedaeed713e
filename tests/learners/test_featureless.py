"""``classif.torch_featureless`` / ``regr.torch_featureless`` and the ``_init_network`` hook."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy import as_task_classif, as_task_regr, lrn
from mlrpy.learners import SHARED_CONSTRAINTS, LearnerTorch, LearnerTorchClassif, LearnerTorchRegr
from mlrpy.learners.common import store_params


def regr_data(n: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)), rng.normal(loc=100.0, scale=20.0, size=n)


def classif_data(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    y = np.array(["rare"] * (n // 6) + ["common"] * (n - n // 6))
    return np.random.default_rng(0).normal(size=(n, 2)), y


# -- validation works (a forward returning a parameter view once broke scoring) -----------


@pytest.mark.parametrize("face", ["fit", "train"])
def test_regr_validation_with_measures(face):
    X, y = regr_data()
    learner = lrn("regr.torch_featureless", epochs=2, random_state=0, validate=0.3,
                  measures_valid=["regr.rmse"], measures_train=["regr.rmse"], callbacks=["history"])
    if face == "fit":
        learner.fit(X, y)
    else:
        learner.train(as_task_regr(pd.DataFrame(X, columns=["a", "b"]).assign(y=y), target="y"))
    scores = learner.internal_valid_scores
    assert set(scores) == {"loss", "regr.rmse"}
    np.testing.assert_allclose(scores["loss"], scores["regr.rmse"] ** 2, rtol=1e-4)
    assert np.isfinite(learner.model.callbacks["history"]["valid.regr.rmse"]).all()


def test_regr_validation_data_scores_the_constant_prediction():
    X, y = regr_data()
    X_valid, y_valid = regr_data(20, seed=1)
    learner = lrn("regr.torch_featureless", epochs=1, random_state=0, measures_valid="regr.rmse")
    learner.fit(X, y, validation_data=(X_valid, y_valid))
    constant = learner.predict(X_valid[:1])[0]
    expected = float(np.sqrt(np.mean((y_valid - constant) ** 2)))
    np.testing.assert_allclose(learner.internal_valid_scores["regr.rmse"], expected, rtol=1e-4)


@pytest.mark.parametrize("face", ["fit", "train"])
def test_classif_validation_with_measures(face):
    X, y = classif_data()
    learner = lrn("classif.torch_featureless", epochs=2, random_state=0, validate=0.3,
                  measures_valid=["classif.acc", "classif.logloss"], measures_train="classif.acc")
    if face == "fit":
        learner.fit(X, y)
    else:
        learner.train(as_task_classif(pd.DataFrame(X, columns=["a", "b"]).assign(y=y), target="y"))
    scores = learner.internal_valid_scores
    # the majority class everywhere: the accuracy is its share of the validation rows
    np.testing.assert_allclose(scores["classif.acc"], 5 / 6, atol=0.06)
    np.testing.assert_allclose(scores["classif.logloss"], scores["loss"], rtol=1e-4)


# -- it starts at the closed-form optimum --------------------------------------------------


def test_regr_starts_at_the_mean_without_training():
    X, y = regr_data()
    learner = lrn("regr.torch_featureless", epochs=0, random_state=0).fit(X, y)
    np.testing.assert_allclose(learner.predict(X), np.full(len(X), y.mean()), rtol=1e-6)


def test_classif_starts_at_the_class_priors_without_training():
    X, y = classif_data()
    learner = lrn("classif.torch_featureless", epochs=0, random_state=0).fit(X, y)
    assert learner.classes_.tolist() == ["common", "rare"]
    np.testing.assert_allclose(learner.predict_proba(X[:3]), [[5 / 6, 1 / 6]] * 3, atol=1e-6)
    assert set(learner.predict(X)) == {"common"}


@settings(max_examples=30, deadline=None)
@given(
    y=st.lists(st.floats(-1e4, 1e4, allow_nan=False, width=32), min_size=1, max_size=40),
    seed=st.integers(0, 2**16),
)
def test_regr_prediction_is_the_mean_for_any_target(y, seed):
    y = np.asarray(y)
    X = np.zeros((len(y), 1))
    learner = lrn("regr.torch_featureless", epochs=0, random_state=seed).fit(X, y)
    np.testing.assert_allclose(learner.predict(X[:1])[0], y.mean(), rtol=1e-5, atol=1e-2)


@settings(max_examples=30, deadline=None)
@given(
    labels=st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=2, max_size=60).filter(
        lambda v: len(set(v)) >= 2
    ),
    seed=st.integers(0, 2**16),
)
def test_classif_probabilities_are_the_frequencies_for_any_labels(labels, seed):
    y = np.asarray(labels)
    X = np.zeros((len(y), 1))
    learner = lrn("classif.torch_featureless", epochs=0, random_state=seed).fit(X, y)
    classes, counts = np.unique(y, return_counts=True)
    assert learner.classes_.tolist() == classes.tolist()
    np.testing.assert_allclose(learner.predict_proba(X[:1])[0], counts / counts.sum(), atol=1e-6)


def test_warm_start_continues_instead_of_starting_over():
    X, y = regr_data()
    learner = lrn("regr.torch_featureless", epochs=0, warm_start=True, random_state=0).fit(X, y)
    learner.fit(X, y + 1000.0)  # zero more epochs: the continued model is unchanged
    np.testing.assert_allclose(learner.predict(X[:1])[0], y.mean(), rtol=1e-6)


# -- the hook, for any learner -------------------------------------------------------------


class Linear(LearnerTorch):
    _parameter_constraints = SHARED_CONSTRAINTS

    def __init__(self, *, epochs=0, batch_size=16, optimizer="adam", loss=None, callbacks=None,
                 device="cpu", num_threads=1, random_state=None, shuffle=True, eval_freq=1,
                 predict_type="response", validate=None, measures_train=None, measures_valid=None,
                 patience=0, min_delta=0.0, restore_best_weights=False, warm_start=False,
                 resume=None, on_nonfinite="raise"):
        store_params(self, locals())

    def _build_network(self, n_features: int, n_outputs: int) -> torch.nn.Module:
        return torch.nn.Linear(n_features, n_outputs)


calls: list[tuple[Any, torch.Tensor]] = []


class RecordingClassif(LearnerTorchClassif, Linear):
    _key = "classif.recording_demo"

    def _init_network(self, network: torch.nn.Module, y_train: torch.Tensor) -> None:
        calls.append((network, y_train.clone()))


class PlainRegr(LearnerTorchRegr, Linear):
    _key = "regr.plain_demo"


def test_init_network_gets_the_fresh_network_and_the_encoded_training_target():
    calls.clear()
    X, y = classif_data()
    learner = RecordingClassif(random_state=0, validate=0.25).fit(X, y)
    assert len(calls) == 1
    network, y_train = calls[0]
    assert network is learner.model.network
    assert y_train.dtype == torch.int64 and len(y_train) == 45  # the training part only
    assert set(y_train.tolist()) == {0, 1}
    learner.set_params(warm_start=True).fit(X, y)
    assert len(calls) == 1  # a continued model is not re-initialised
    learner.set_params(warm_start=False).fit(X, y)
    assert len(calls) == 2


def test_without_the_hook_the_network_keeps_its_random_initialisation():
    X, y = regr_data()
    a = PlainRegr(random_state=0).fit(X, y).model.network
    b = PlainRegr(random_state=1).fit(X, y).model.network
    assert not torch.equal(a.weight, b.weight)
