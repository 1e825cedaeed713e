"""``mlflow``: the run holds every learner parameter, one metric value per epoch and the final
model, which loads with ``mlrpy.load``; a failed training run ends as ``FAILED``."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
import torch

import mlrpy
from mlrpy import CallbackStageError, ParameterError, lrn, t_clbk, torch_callback, tsk
from mlrpy.callbacks.mlflow import param_text

mlflow = pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One local tracking database for the module: creating one costs seconds."""
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    return uri, str(folder / "artifacts"), mlflow.MlflowClient(uri)


def tracker(store, experiment, **values):
    uri, artifacts, _ = store
    return t_clbk("mlflow", tracking_uri=uri, experiment=experiment, artifact_location=artifacts, **values)


def only_run(store, experiment):
    client = store[2]
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    assert len(runs) == 1
    return runs[0]


def test_parameters_epoch_metrics_and_the_final_model(store, tmp_path):
    client = store[2]
    learner = lrn("classif.mlp", epochs=4, batch_size=32, random_state=0, validate=0.3, patience=1,
                  restore_best_weights=True, measures_train=["classif.acc"], measures_valid=["classif.acc"],
                  callbacks=[tracker(store, "full", run_name="first"), "history",
                             t_clbk("lr_step", step_size=2, gamma=0.5)],
                  **{"opt.lr": 0.02})
    learner.train(tsk("iris"))
    run = only_run(store, "full")
    assert run.info.status == "FINISHED" and run.info.run_name == "first"

    params = run.data.params
    expected = {k: param_text(v) for k, v in learner.get_params().items()}
    assert params == expected
    assert params["cb.lr_step.step_size"] == "2" and params["cb.lr_step.gamma"] == "0.5"
    assert params["opt.lr"] == "0.02" and params["callbacks"] == "[mlflow, history, lr_step]"
    assert params["cb.mlflow.experiment"] == "full"

    history = learner.model.callbacks["history"]
    epochs = learner.model.epochs
    for key in ("train.loss", "train.classif.acc", "valid.loss", "valid.classif.acc"):
        logged = client.get_metric_history(run.info.run_id, key)
        assert [m.step for m in logged] == list(range(1, epochs + 1)), key
        np.testing.assert_allclose([m.value for m in logged], history[key], rtol=1e-6, err_msg=key)

    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["model.pt"]
    saved = mlrpy.load(client.download_artifacts(run.info.run_id, "model.pt", str(tmp_path)))
    # the logged model is the final one: early stopping's best weights, not the last epoch's
    for name, tensor in learner.model.network.state_dict().items():
        assert torch.equal(saved.model.network.state_dict()[name], tensor), name
    assert saved.model.epochs == epochs
    X = tsk("iris").data(cols=tsk("iris").feature_names)
    np.testing.assert_array_equal(saved.predict(X), learner.predict(X))


def test_the_model_of_a_table_with_categorical_columns_predicts_like_the_learner(store, tmp_path):
    frame = pd.DataFrame({"colour": ["red", "blue", "green"] * 10, "size": np.arange(30.0)})
    learner = lrn("regr.mlp", epochs=2, batch_size=10, random_state=0, callbacks=[tracker(store, "table")])
    learner.fit(frame, np.arange(30.0))
    run = only_run(store, "table")
    saved = mlrpy.load(store[2].download_artifacts(run.info.run_id, "model.pt", str(tmp_path)))
    assert saved.feature_info_.categorical == ["colour"]
    np.testing.assert_array_equal(saved.predict(frame), learner.predict(frame))


def test_a_failed_run_ends_failed_without_a_model(store, iris_xy):
    X, y = iris_xy

    def on_epoch_begin(self):
        if self.ctx.epoch == 2:
            raise RuntimeError("boom")

    crash = torch_callback("crash", on_epoch_begin=on_epoch_begin)
    with pytest.raises(CallbackStageError, match="boom"):
        lrn("classif.mlp", epochs=3, batch_size=50, callbacks=[tracker(store, "failing"), crash]).fit(X, y)
    run = only_run(store, "failing")
    assert run.info.status == "FAILED"
    assert [m.step for m in store[2].get_metric_history(run.info.run_id, "train.loss")] == [1]
    assert store[2].list_artifacts(run.info.run_id) == []


def test_log_model_false_logs_no_artifact_and_each_fit_is_a_run(store, iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=1, batch_size=50, warm_start=True,
                  callbacks=[tracker(store, "no_model", log_model=False)])
    learner.fit(X, y).fit(X, y)
    client = store[2]
    runs = client.search_runs([client.get_experiment_by_name("no_model").experiment_id])
    assert len(runs) == 2 and all(r.info.status == "FINISHED" for r in runs)
    assert all(client.list_artifacts(r.info.run_id) == [] for r in runs)
    # the continued run numbers its epoch from where the first stopped
    steps = sorted(m.step for r in runs for m in client.get_metric_history(r.info.run_id, "train.loss"))
    assert steps == [1, 2]


def test_param_text_names_descriptors_and_keeps_plain_values():
    assert param_text(None) == "None" and param_text(0.001) == "0.001" and param_text((8,)) == "(8,)"
    assert param_text([t_clbk("history"), "progress"]) == "[history, progress]"
    assert param_text(torch.nn.ReLU) == "torch.nn.modules.activation.ReLU"
    assert param_text(mlrpy.msr("classif.acc")) == "classif.acc"


def test_parameters_are_checked():
    with pytest.raises(ParameterError, match=r"cb\.mlflow\.log_model"):
        t_clbk("mlflow", log_model="sometimes")
    with pytest.raises(ParameterError, match=r"cb\.mlflow\.experiment"):
        t_clbk("mlflow", experiment="")


def test_missing_mlflow_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    with pytest.raises(ImportError, match=r"pip install 'mlrpy\[mlflow\]'"):
        t_clbk("mlflow").generate()
