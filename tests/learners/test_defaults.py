"""The defaults a user meets first: devices, threads, the history, log-probabilities, loss
objects and optimizer classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

import mlrpy
from mlrpy import ParameterError, lrn, t_clbk
from mlrpy.learners.classif import log_probabilities, probabilities
from mlrpy.learners.common import SHARED_CONSTRAINTS
from mlrpy.learners.runtime import resolve_device, torch_threads

# -- device --------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "cuda:0", "cuda:12", "mps", torch.device("cpu")])
def test_device_constraint_accepts_the_documented_forms(device):
    SHARED_CONSTRAINTS["device"].check("device", device)


@pytest.mark.parametrize("device", ["gpu", "cuda:", "cuda:x", "cuda:-1", "CPU", 0, None])
def test_device_constraint_refuses_other_values_naming_the_valid_ones(device):
    with pytest.raises(ParameterError, match=r"'device' must be one of .*'cuda:N' or a torch.device"):
        SHARED_CONSTRAINTS["device"].check("device", device)


def test_device_param_set_keeps_the_named_choices_for_tuning():
    row = lrn("classif.mlp").param_set.set_index("id").loc["device"]
    assert row["type"] == "choice" and row["default"] == "auto"
    assert SHARED_CONSTRAINTS["device"].levels == ("auto", "cpu", "cuda", "mps")


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
def test_cpu_device_trains_as_string_or_torch_device(iris_xy, device):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=1, device=device, random_state=0).fit(X, y)
    assert next(learner.model.network.parameters()).device.type == "cpu"


def _missing_cuda_index() -> int:
    return torch.cuda.device_count() if torch.cuda.is_available() else 1


def test_unavailable_devices_are_refused_naming_what_is_available(iris_xy):
    X, y = iris_xy
    wanted = [f"cuda:{_missing_cuda_index()}"]
    wanted += [] if torch.cuda.is_available() else ["cuda"]
    mps = getattr(torch.backends, "mps", None)
    wanted += [] if mps is not None and mps.is_available() else ["mps"]
    for device in wanted:
        with pytest.raises(ParameterError) as err:
            lrn("classif.mlp", epochs=1, device=device).fit(X, y)
        message = str(err.value)
        assert f"device={device!r}" in message and "available: cpu" in message
        assert "use 'auto'" in message


def test_auto_resolves_to_an_available_device():
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")


def test_model_saved_with_a_gpu_device_parameter_loads_and_predicts_on_the_cpu(iris_xy, tmp_path):
    """The device is a parameter of the learner; the weights are placed by ``map_location``."""
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=1, device="cpu", random_state=0).fit(X, y)
    learner.set_params(device=f"cuda:{_missing_cuda_index()}")
    path = tmp_path / "model.mlrpy"
    learner.save(path)
    loaded = mlrpy.load(path, map_location="cpu")
    assert loaded.device == learner.device
    np.testing.assert_array_equal(loaded.predict(X), learner.predict(X))
    with pytest.raises(ParameterError, match="not available"):  # training again needs the device
        loaded.set_params(warm_start=True).fit(X, y)


def test_model_whose_weights_were_on_a_gpu_loads_on_the_cpu_with_map_location(iris_xy, tmp_path, monkeypatch):
    """A file written on ``cuda:1`` (its tensors recorded there), read where that GPU is missing."""
    from mlrpy.fileformat import Encoder

    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=1, device="cpu", random_state=0).fit(X, y)
    learner.set_params(device="cuda:1")
    real = Encoder._tensor
    monkeypatch.setattr(Encoder, "_tensor", lambda self, value, where: {**real(self, value, where), "device": "cuda:1"})
    path = tmp_path / "gpu.mlrpy"
    learner.save(path)
    monkeypatch.undo()
    if not (torch.cuda.is_available() and torch.cuda.device_count() > 1):
        with pytest.raises(ParameterError, match="map_location='cpu'"):
            mlrpy.load(path)
    loaded = mlrpy.load(path, map_location="cpu")
    assert loaded.device == "cuda:1"
    np.testing.assert_array_equal(loaded.predict_proba(X), learner.predict_proba(X))


def test_torch_device_parameter_survives_save_and_load(iris_xy, tmp_path):
    X, y = iris_xy
    path = tmp_path / "model.mlrpy"
    lrn("classif.mlp", epochs=1, device=torch.device("cpu"), random_state=0).fit(X, y).save(path)
    assert mlrpy.load(path).device == torch.device("cpu")


# -- num_threads ---------------------------------------------------------------------------


def test_num_threads_defaults_to_none_and_leaves_torch_alone(iris_xy, monkeypatch):
    X, y = iris_xy
    assert lrn("classif.mlp").num_threads is None
    calls = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: calls.append(n) or real(n))
    learner = lrn("classif.mlp", epochs=1, random_state=0).fit(X, y)
    learner.predict(X)
    learner.evaluate(X, y)
    assert calls == []


@settings(max_examples=10, deadline=None)
@given(before=st.integers(1, 3), inside=st.one_of(st.none(), st.integers(1, 3)))
def test_torch_threads_sets_only_an_int_and_always_restores(before, inside):
    torch.set_num_threads(before)
    try:
        with torch_threads(inside):
            assert torch.get_num_threads() == (before if inside is None else inside)
        assert torch.get_num_threads() == before
    finally:
        torch.set_num_threads(1)


@pytest.mark.parametrize("value", [0, -1, 1.5, "2"])
def test_num_threads_refuses_non_positive_or_non_int(iris_xy, value):
    X, y = iris_xy
    with pytest.raises(ParameterError, match="'num_threads' must be an integer >= 1 or None"):
        lrn("classif.mlp", epochs=1, num_threads=value).fit(X, y)


# -- history -------------------------------------------------------------------------------


def test_history_is_recorded_without_callbacks(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=3, random_state=0).fit(X, y)
    history = pd.DataFrame(learner.model.callbacks["history"])
    assert history["epoch"].tolist() == [1, 2, 3]
    assert np.isfinite(history["train.loss"]).all()


def test_attached_history_is_not_duplicated_and_keeps_its_parameters(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, random_state=0, callbacks=["history"], validate=0.3)
    assert [k for k in learner.get_params() if k.startswith("cb.")] == []  # history has none
    learner.fit(X, y)
    assert list(learner.model.callbacks) == ["history"]
    assert pd.DataFrame(learner.model.callbacks["history"]).columns.tolist() == [
        "epoch", "train.loss", "valid.loss"
    ]


def test_history_matches_an_explicit_one_exactly(iris_xy):
    X, y = iris_xy
    implicit = lrn("classif.mlp", epochs=2, random_state=3).fit(X, y)
    explicit = lrn("classif.mlp", epochs=2, random_state=3, callbacks=["history"]).fit(X, y)
    pd.testing.assert_frame_equal(
        pd.DataFrame(implicit.model.callbacks["history"]), pd.DataFrame(explicit.model.callbacks["history"])
    )


def test_history_epoch_loss_is_the_weighted_mean_of_the_batch_losses(iris_xy):
    X, y = iris_xy
    losses = []
    tc = mlrpy.torch_callback(
        "grab", on_batch_end=lambda self: losses.append((self.ctx.last_loss, len(self.ctx.batch.index)))
    )
    learner = lrn("classif.mlp", epochs=1, batch_size=64, callbacks=[tc], random_state=0).fit(X, y)
    expected = sum(loss * n for loss, n in losses) / sum(n for _, n in losses)
    assert learner.model.callbacks["history"]["train.loss"][0] == pytest.approx(expected, rel=1e-6)


def test_history_continues_with_warm_start(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, warm_start=True, random_state=0).fit(X, y)
    learner.fit(X, y)
    assert learner.model.callbacks["history"]["epoch"].tolist() == [1, 2, 3, 4]


def test_show_training_loop_lists_the_history_once(capsys):
    lrn("classif.mlp", callbacks=[t_clbk("lr_step", step_size=2)]).show_training_loop()
    implicit = capsys.readouterr().out
    lrn("classif.mlp", callbacks=["history", t_clbk("lr_step", step_size=2)]).show_training_loop()
    assert capsys.readouterr().out == implicit
    assert "  on_epoch_end: history [0], lr_step [0]\n" in implicit


# -- predict_log_proba ---------------------------------------------------------------------


def test_predict_log_proba_is_the_log_of_predict_proba(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, random_state=0).fit(X, y)
    assert hasattr(learner, "predict_log_proba")
    log_p = learner.predict_log_proba(X)
    assert log_p.shape == (len(X), 3)
    np.testing.assert_allclose(log_p, np.log(learner.predict_proba(X)), rtol=1e-10, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-800, 800), min_size=2, max_size=5), st.integers(1, 4))
def test_log_probabilities_are_stable_where_probabilities_underflow(logits, rows):
    output = torch.tensor([logits] * rows, dtype=torch.float32)
    log_p = log_probabilities(output)
    p = probabilities(output)
    assert np.isfinite(log_p).all()  # a probability may underflow to 0; its log stays finite
    np.testing.assert_allclose(np.exp(log_p), p, atol=1e-12)
    positive = p > 1e-300
    np.testing.assert_allclose(log_p[positive], np.log(p[positive]), rtol=1e-9, atol=1e-12)


def test_log_probabilities_of_an_infinitely_unlikely_class_are_minus_infinity():
    assert log_probabilities(torch.tensor([[0.0, float("-inf")]]))[0, 1] == -np.inf


# -- loss objects and optimizer classes ----------------------------------------------------


def test_loss_instance_trains_as_configured_and_is_copied_per_fit(iris_xy, monkeypatch):
    X, y = iris_xy
    loss = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    seen = []
    tc = mlrpy.torch_callback("seen", on_begin=lambda self: seen.append(self.ctx.loss_fn))
    learner = lrn("classif.mlp", epochs=1, loss=loss, callbacks=[tc], random_state=0)
    learner.fit(X, y).fit(X, y)
    assert [fn.label_smoothing for fn in seen] == [0.1, 0.1]
    assert seen[0] is not loss and seen[1] is not seen[0]
    assert learner.loss is loss  # the parameter stays the user's object, untouched


def test_loss_instance_gives_the_same_model_as_the_equivalent_t_loss(iris_xy):
    X, y = iris_xy
    by_object = lrn("classif.mlp", epochs=2, random_state=0, loss=torch.nn.CrossEntropyLoss(label_smoothing=0.2))
    by_key = lrn("classif.mlp", epochs=2, random_state=0, loss=mlrpy.t_loss("cross_entropy", label_smoothing=0.2))
    np.testing.assert_array_equal(by_object.fit(X, y).predict_proba(X), by_key.fit(X, y).predict_proba(X))


def test_loss_instance_works_with_get_params_clone_and_grid_search(iris_xy):
    X, y = iris_xy
    smooth = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    learner = lrn("classif.mlp", epochs=1, random_state=0, loss=smooth)
    params = learner.get_params()
    assert params["loss"] is smooth and not [k for k in params if k.startswith("loss.")]
    copy = clone(learner)
    assert copy.loss is not smooth and copy.loss.label_smoothing == 0.1
    with pytest.raises(mlrpy.UnknownKeyError, match="loss.label_smoothing"):
        learner.set_params(**{"loss.label_smoothing": 0.2})  # set it on the object instead
    search = GridSearchCV(learner, {"loss": [smooth, torch.nn.CrossEntropyLoss()]}, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 2


def test_loss_instance_of_the_wrong_kind_is_refused(iris_xy):
    X, y = iris_xy
    with pytest.raises(ParameterError, match="loss must be .* or instance"):
        lrn("classif.mlp", epochs=1, loss=0.5).fit(X, y)


@pytest.mark.parametrize("cls", [torch.optim.SGD, torch.optim.Adam, torch.optim.NAdam])
def test_optimizer_class_trains_and_exposes_its_parameters(iris_xy, cls):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=1, random_state=0, optimizer=cls, **{"opt.lr": 0.05})
    assert learner.get_params()["opt.lr"] == 0.05
    learner.fit(X, y)
    assert clone(learner).get_params()["opt.lr"] == 0.05


def test_optimizer_that_is_not_a_torch_optimizer_is_refused(iris_xy):
    X, y = iris_xy
    with pytest.raises(ParameterError, match="not a torch.optim.Optimizer subclass"):
        lrn("classif.mlp", epochs=1, optimizer=torch.nn.Linear).fit(X, y)
