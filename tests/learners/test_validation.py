"""Validation during training: ``validate``, ``measures_train``/``measures_valid``, ``eval_freq``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlrpy import CallbackSet, lrn, torch_callback, tsk
from mlrpy.errors import ParameterError, UnknownKeyError
from mlrpy.resample import resample
from mlrpy.resampling import rsmp


@pytest.fixture(scope="module")
def iris():
    return tsk("iris")


def learner(**kw):
    defaults = dict(epochs=3, random_state=0, neurons=(8,), batch_size=32)
    return lrn("classif.mlp", **{**defaults, **kw})


@torch_callback("recorder")
class CallbackSetRecorder(CallbackSet):
    def __init__(self):
        self.train = {}
        self.valid = {}

    def on_epoch_end(self):
        self.train[self.ctx.epoch] = self.ctx.last_scores_train
        self.valid[self.ctx.epoch] = self.ctx.last_scores_valid

    def state_dict(self):
        return {"train": self.train, "valid": self.valid}

    def load_state_dict(self, state):
        self.train, self.valid = state["train"], state["valid"]


def test_eval_freq_validates_every_third_and_last_epoch(iris):
    lr = learner(
        epochs=7, eval_freq=3, validate=0.3, callbacks=["history", CallbackSetRecorder],
        measures_train=["classif.acc"], measures_valid=["classif.acc", "classif.ce"],
    ).train(iris)
    hist = pd.DataFrame(lr.model.callbacks["history"])
    assert hist["epoch"].tolist() == list(range(1, 8))
    evaluated = [3, 6, 7]
    for col in ("valid.loss", "valid.classif.acc", "valid.classif.ce", "train.classif.acc"):
        assert hist.loc[hist[col].notna(), "epoch"].tolist() == evaluated, col
    assert hist["train.loss"].notna().all()
    rec = lr.model.callbacks["recorder"]
    assert [e for e, s in rec["valid"].items() if s is not None] == evaluated
    assert [e for e, s in rec["train"].items() if s is not None] == evaluated
    assert set(rec["valid"][3]) == {"loss", "classif.acc", "classif.ce"}
    assert set(rec["train"][3]) == {"classif.acc"}
    # internal_valid_scores: the last evaluation's scores
    assert lr.internal_valid_scores == rec["valid"][7]
    assert lr.internal_valid_scores["classif.acc"] == hist["valid.classif.acc"].iloc[-1]


def test_no_validation_means_no_valid_scores(iris):
    lr = learner(callbacks=["history"], measures_train=["classif.acc"]).train(iris)
    hist = pd.DataFrame(lr.model.callbacks["history"])
    assert not any(c.startswith("valid.") for c in hist.columns)
    assert hist["train.classif.acc"].notna().all()
    assert lr.internal_valid_scores is None


def test_validate_fraction_holds_out_rows(iris):
    lr = learner(validate=0.2, measures_valid=["classif.acc"]).train(iris)
    acc = lr.internal_valid_scores["classif.acc"]
    assert math.isclose(acc * 30, round(acc * 30))  # 20% of 150 rows


def test_validate_test_in_resample_uses_test_rows(iris):
    lr = learner(validate="test", predict_type="prob", measures_valid=["classif.acc", "classif.logloss"])
    rr = resample(iris, lr, rsmp("cv", folds=3, seed=2), store_models=True)
    scores = rr.score(["classif.acc", "classif.logloss"])
    for i, (fitted, valid) in enumerate(zip(rr.learners, rr.internal_valid_scores)):
        assert valid == fitted.internal_valid_scores
        assert valid["classif.acc"] == pytest.approx(scores.loc[i, "classif.acc"])
        assert valid["classif.logloss"] == pytest.approx(scores.loc[i, "classif.logloss"], rel=1e-5)
        # the validation loss is the cross entropy on the test rows
        assert valid["loss"] == pytest.approx(scores.loc[i, "classif.logloss"], rel=1e-5)


def test_validate_test_outside_resample(iris):
    with pytest.raises(ParameterError, match="validate='test'.*resample"):
        learner(validate="test").train(iris)
    X, y = iris.data(cols=iris.feature_names), iris.truth()
    with pytest.raises(ParameterError, match="validate='test'.*resample"):
        learner(validate="test").fit(X, y)


def test_validate_predefined(iris):
    task = tsk("iris")
    valid_rows = list(range(0, 150, 5))
    valid_task = tsk("iris").filter(valid_rows)
    task.filter([r for r in task.row_ids if r not in set(valid_rows)])
    task.internal_valid_task = valid_task
    lr = learner(validate="predefined", measures_valid=["classif.acc"]).train(task)
    expected = lr.predict(valid_task).score("classif.acc")["classif.acc"]
    assert lr.internal_valid_scores["classif.acc"] == pytest.approx(expected)


def test_validate_predefined_without_valid_task(iris):
    with pytest.raises(ParameterError, match="internal_valid_task"):
        learner(validate="predefined").train(tsk("iris"))


def test_validation_data_in_fit(iris):
    X, y = iris.data(cols=iris.feature_names), iris.truth()
    is_valid = np.arange(len(y)) % 3 == 0
    X_valid, y_valid = X[is_valid], y[is_valid]
    lr = learner(measures_valid=["classif.acc"]).fit(
        X[~is_valid], y[~is_valid], validation_data=(X_valid, y_valid)
    )
    expected = np.mean(lr.predict(X_valid) == y_valid)
    assert lr.internal_valid_scores["classif.acc"] == pytest.approx(expected)


def test_bad_measures(iris):
    with pytest.raises(UnknownKeyError, match="classif.accc"):
        learner(validate=0.2, measures_valid=["classif.accc"]).train(iris)
    with pytest.raises(ParameterError, match="regr.mse"):
        learner(validate=0.2, measures_valid=["regr.mse"]).train(iris)


def test_invalid_validate_value(iris):
    with pytest.raises(ParameterError, match="validate"):
        learner(validate=1.5).train(iris)
    with pytest.raises(ParameterError, match="validate"):
        learner(validate="train").train(iris)


# -- plot_history: the learning curves of the history callback ---------------------------------
def test_plot_history(iris):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from mlrpy.plotting import plot_history

    lr = learner(
        epochs=4, eval_freq=2, validate=0.3, callbacks=["history"],
        measures_train=["classif.acc"], measures_valid=["classif.acc"],
    ).train(iris)
    fig = plot_history(lr)
    assert isinstance(fig, Figure)
    assert [a.get_title() for a in fig.axes] == ["loss", "classif.acc"]
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["train", "valid"]
    assert list(loss_ax.get_lines()[0].get_xdata()) == [1, 2, 3, 4]
    assert list(loss_ax.get_lines()[1].get_xdata()) == [2, 4]  # evaluation epochs only
    assert list(acc_ax.get_lines()[0].get_xdata()) == [2, 4]
    # all series on one given Axes
    ax = Figure().subplots()
    assert plot_history(lr, ax=ax) is ax.figure
    assert [line.get_label() for line in ax.get_lines()] == [
        "train.loss", "valid.loss", "train.classif.acc", "valid.classif.acc",
    ]


def test_plot_history_bad_input(iris, monkeypatch):
    pytest.importorskip("matplotlib")
    from mlrpy.errors import NotFittedError
    from mlrpy.plotting import plot_history

    without = learner(epochs=1).train(iris)
    del without.model.callbacks["history"]  # as in a model saved without one
    with pytest.raises(ParameterError, match="history"):
        plot_history(without)
    with pytest.raises(NotFittedError):
        plot_history(learner())
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    monkeypatch.setitem(__import__("sys").modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'mlrpy\[plot\]'"):
        plot_history(learner(epochs=1, callbacks=["history"]).train(iris))
