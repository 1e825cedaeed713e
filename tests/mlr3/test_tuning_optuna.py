"""tune(tuner="optuna"): suggestions from the search space, pruning through a callback."""

from __future__ import annotations

import sys

import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mlrpy import lrn, rsmp, torch_callback, tsk
from mlrpy.errors import ParameterError
from mlrpy.tuning import tune

optuna = pytest.importorskip("optuna")
optuna.logging.set_verbosity(optuna.logging.WARNING)

SEEN_EPOCHS: list[int] = []


def record_epoch(self):
    SEEN_EPOCHS.append(self.ctx.epoch)


epoch_tracer = torch_callback("epoch_tracer", on_epoch_end=record_epoch)


class PruneAfterFirstTrial(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return trial.number > 0


@pytest.fixture(scope="module")
def iris():
    return tsk("iris")


@pytest.fixture(scope="module")
def cv2(iris):
    return rsmp("cv", folds=2, seed=1).instantiate(iris)


def mlp(**kw):
    return lrn("classif.mlp", **{"epochs": 2, "random_state": 0, "neurons": (8,), **kw})


def test_optuna_suggests_from_the_search_space(iris, cv2):
    space = {"opt.lr": (1e-3, 1e-1, "log"), "batch_size": (8, 64), "neurons": [(4,), (8, 8)],
             "activation": ["relu", "tanh"]}
    result = tune(mlp(epochs=1), iris, cv2, "classif.ce", space, tuner="optuna", n_trials=4, random_state=2)
    archive = result.archive
    assert len(archive) == 4 and not archive["pruned"].any()
    assert archive["opt.lr"].between(1e-3, 1e-1).all()
    assert all(isinstance(b, int) and 8 <= b <= 64 for b in archive["batch_size"])
    assert set(archive["neurons"]) <= {(4,), (8, 8)} and set(archive["activation"]) <= {"relu", "tanh"}
    assert result.best_score == archive["classif.ce"].min()
    assert [t.value for t in result.study.trials] == pytest.approx(archive["classif.ce"].tolist())
    again = tune(mlp(epochs=1), iris, cv2, "classif.ce", space, tuner="optuna", n_trials=4, random_state=2)
    cols = list(space)
    pd.testing.assert_frame_equal(archive[cols], again.archive[cols])


def test_pruned_trials_stop_through_the_callback(iris, cv2):
    SEEN_EPOCHS.clear()
    result = tune(mlp(epochs=3, callbacks=[epoch_tracer]), iris, cv2, "classif.ce",
                  {"opt.lr": [0.01, 0.05]}, tuner="optuna", n_trials=3, random_state=0,
                  pruner=PruneAfterFirstTrial())
    archive = result.archive
    assert archive["pruned"].tolist() == [False, True, True]
    assert archive["classif.ce"].isna().tolist() == [False, True, True]
    # trial 0: 2 iterations x 3 epochs; a pruned trial stops after its first validated epoch
    # and trains no epochs in the next iteration
    assert len(SEEN_EPOCHS) == 6 + 1 + 1
    states = [t.state for t in result.study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE] + [optuna.trial.TrialState.PRUNED] * 2
    # each validation of trial 0 was reported, step by step across the iterations
    assert sorted(result.study.trials[0].intermediate_values) == [1, 2, 3, 4, 5, 6]
    assert result.best_params == archive.loc[0, ["opt.lr"]].to_dict()


def test_pruning_needs_an_mlrpy_learner_that_validates(iris, cv2):
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", mlp())])
    with pytest.raises(ParameterError, match="mlp__validate=0.2"):
        tune(pipe, iris, cv2, "classif.ce", {"mlp__opt.lr": [0.01]}, tuner="optuna", n_trials=1,
             pruner=optuna.pruners.MedianPruner())
    pipe.set_params(mlp__validate=0.25)
    result = tune(pipe, iris, cv2, "classif.ce", {"mlp__opt.lr": [0.01]}, tuner="optuna", n_trials=1,
                  pruner=optuna.pruners.MedianPruner())
    assert sorted(result.study.trials[0].intermediate_values) == [1, 2, 3, 4]


def fail_init(self, on: float = 0.0):
    self.on = on


def fail_epoch_end(self):
    if self.on > 0.5:
        raise RuntimeError("boom")


failing = torch_callback("failing", initialize=fail_init, on_epoch_end=fail_epoch_end)


def test_failed_trial_is_recorded(iris, cv2):
    sampler = optuna.samplers.GridSampler({"cb.failing.on": [0.0, 1.0]}, seed=0)
    with pytest.warns(RuntimeWarning, match=r"\{'cb.failing.on': 1.0\} failed.*boom"):
        result = tune(mlp(epochs=1, callbacks=[failing]), iris, cv2, "classif.ce",
                      {"cb.failing.on": [0.0, 1.0]}, tuner="optuna", n_trials=2, sampler=sampler,
                      on_error="warn")
    archive = result.archive.set_index("cb.failing.on")
    assert "boom" in archive.loc[1.0, "error"] and archive.loc[0.0, "error"] is None
    states = {t.params["cb.failing.on"]: t.state for t in result.study.trials}
    assert states == {0.0: optuna.trial.TrialState.COMPLETE, 1.0: optuna.trial.TrialState.FAIL}
    assert result.best_params == {"cb.failing.on": 0.0}


def test_missing_optuna_says_how_to_install(iris, cv2, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match=r"pip install 'mlrpy\[optuna\]'"):
        tune(mlp(), iris, cv2, "classif.ce", {"opt.lr": [0.01]}, tuner="optuna")
