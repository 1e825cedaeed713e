"""``learner.evaluate()``: the validation stages run on new data and return its scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlrpy import EVALUATE_STAGES, ParameterError, lrn, torch_callback, tsk


def split(X, y, n_valid=50):
    return (X[n_valid:], y[n_valid:]), (X[:n_valid], y[:n_valid])


def test_evaluate_on_the_validation_data_matches_the_last_validation(iris_xy):
    (X, y), (X_valid, y_valid) = split(*iris_xy)
    learner = lrn("classif.mlp", epochs=3, batch_size=16, random_state=0,
                  measures_valid=["classif.acc", "classif.ce"]).fit(X, y, validation_data=(X_valid, y_valid))
    scores = learner.evaluate(X_valid, y_valid)
    expected = learner.model.internal_valid_scores
    assert scores.keys() == expected.keys() == {"loss", "classif.acc", "classif.ce"}
    np.testing.assert_allclose([scores[k] for k in expected], list(expected.values()), rtol=1e-6)


def test_evaluate_a_task_and_its_rows_like_arrays():
    task = tsk("diabetes")
    learner = lrn("regr.mlp", epochs=2, batch_size=8, random_state=0).train(task, row_ids=task.row_ids[:300])
    rows = task.row_ids[300:]
    from_task = learner.evaluate(task, row_ids=rows, measures=["regr.mse"])
    X = task.data(rows, task.feature_names)
    from_arrays = learner.evaluate(X, task.truth(rows), measures=["regr.mse"])
    assert from_task == pytest.approx(from_arrays)
    # the loss of regr.mlp is the mean squared error
    assert from_task["loss"] == pytest.approx(from_task["regr.mse"], rel=1e-5)


def test_measures_default_to_measures_valid_else_none(iris_xy):
    X, y = iris_xy
    plain = lrn("classif.mlp", epochs=1, random_state=0).fit(X, y)
    assert set(plain.evaluate(X, y)) == {"loss"}
    assert set(plain.evaluate(X, y, measures=["classif.acc"])) == {"loss", "classif.acc"}
    with_valid = lrn("classif.mlp", epochs=1, random_state=0, measures_valid="classif.acc").fit(X, y)
    assert set(with_valid.evaluate(X, y)) == {"loss", "classif.acc"}


def test_sample_weight_weights_the_loss(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, random_state=0).fit(X, y)
    overall = learner.evaluate(X, y)["loss"]
    assert learner.evaluate(X, y, sample_weight=np.full(len(y), 3.0))["loss"] == pytest.approx(overall)
    weights = np.r_[np.ones(60), np.zeros(len(y) - 60)]
    assert learner.evaluate(X, y, sample_weight=weights)["loss"] == pytest.approx(
        learner.evaluate(X[:60], y[:60])["loss"], rel=1e-5
    )
    with pytest.raises(ParameterError, match="sample_weight must hold 150"):
        learner.evaluate(X, y, sample_weight=[1.0, 2.0])


def test_sample_weight_weights_the_measures_as_sklearn_metrics_do(iris_xy):
    """With sample weights, the measures are the weighted scores scikit-learn computes from
    the same predictions; a weight of 0 leaves a row out, as scoring the other rows does."""
    from sklearn.metrics import accuracy_score, log_loss

    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=3, random_state=0).fit(X, y)
    weights = np.where(y == y[0], 5.0, 1.0)
    scores = learner.evaluate(X, y, sample_weight=weights, measures=["classif.acc", "classif.logloss"])
    assert scores["classif.acc"] == pytest.approx(accuracy_score(y, learner.predict(X), sample_weight=weights))
    assert scores["classif.logloss"] == pytest.approx(
        log_loss(y, learner.predict_proba(X), sample_weight=weights, labels=learner.classes_), rel=1e-5
    )
    kept = np.r_[np.ones(60), np.zeros(len(y) - 60)]
    assert learner.evaluate(X, y, sample_weight=kept, measures=["classif.acc"])["classif.acc"] == pytest.approx(
        learner.evaluate(X[:60], y[:60], measures=["classif.acc"])["classif.acc"]
    )


def test_bad_calls_name_what_is_wrong(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ParameterError, match="needs the targets"):
        learner.evaluate(X)
    with pytest.raises(ParameterError, match="row_ids"):
        learner.evaluate(X, y, row_ids=[1])
    with pytest.raises(ParameterError, match="row_ids="):
        learner.evaluate(tsk("iris"), [1, 2])


def test_validation_callbacks_run_fresh_with_their_state_and_see_the_phase(iris_xy):
    (X, y), (X_valid, y_valid) = split(*iris_xy)
    seen: list[tuple[str, str, int]] = []
    batch_losses: list[float] = []

    def init(self):
        self.evaluations = 0

    def stage(name):
        def on(self):
            seen.append((name, self.ctx.phase, self.evaluations))
            if name == "on_batch_valid_end":
                batch_losses.append(float(self.ctx.loss))
            if name == "on_valid_end":
                self.evaluations += 1

        return on

    counter = torch_callback(
        "counter", initialize=init, state_dict=lambda self: self.evaluations,
        load_state_dict=lambda self, state: setattr(self, "evaluations", state),
        **{s: stage(s) for s in EVALUATE_STAGES},
    )
    learner = lrn("classif.mlp", epochs=2, batch_size=25, random_state=0, callbacks=[counter])
    learner.fit(X, y, validation_data=(X_valid, y_valid))
    assert [s for s in seen if s[0] == "on_valid_begin"] == [("on_valid_begin", "train", 0), ("on_valid_begin", "train", 1)]
    # the validation batch losses (2 batches of 25) average to the epoch's validation loss
    assert np.mean(batch_losses[-2:]) == pytest.approx(learner.model.internal_valid_scores["loss"], rel=1e-5)
    seen.clear()
    learner.evaluate(X_valid, y_valid)
    # a fresh instance, its saved state (2 validations) loaded first; stages in order
    assert seen == [
        ("on_valid_begin", "evaluate", 2), ("on_batch_valid_begin", "evaluate", 2),
        ("on_batch_valid_end", "evaluate", 2), ("on_batch_valid_begin", "evaluate", 2),
        ("on_batch_valid_end", "evaluate", 2), ("on_valid_end", "evaluate", 2),
    ]
    assert learner.model.callbacks["counter"] == 2  # the model's saved state is untouched


def test_a_callback_transforming_outputs_changes_the_scores_as_in_training(iris_xy):
    X, y = iris_xy

    def flip(self):
        self.ctx.y_hat = -self.ctx.y_hat

    learner = lrn("classif.mlp", epochs=2, random_state=0).fit(X, y)
    plain = learner.evaluate(X, y, measures=["classif.acc"])
    learner.set_params(callbacks=[torch_callback("flip", on_batch_valid_end=flip)])
    flipped = learner.evaluate(X, y, measures=["classif.acc"])
    assert flipped["classif.acc"] < plain["classif.acc"] and flipped["loss"] > plain["loss"]


def test_prediction_stages_see_the_predict_phase(iris_xy):
    X, y = iris_xy
    phases = []
    spy = torch_callback("spy", on_epoch_end=lambda self: phases.append(self.ctx.phase),
                         on_predict_end=lambda self: phases.append(self.ctx.phase))
    learner = lrn("classif.mlp", epochs=1, random_state=0, callbacks=[spy]).fit(X, y)
    learner.predict(X[:3])
    assert phases == ["train", "predict"]
    assert torch.is_tensor(learner.model.network(torch.as_tensor(X[:1])))
