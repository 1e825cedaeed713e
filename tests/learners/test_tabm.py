"""classif.tabm / regr.tabm: ensemble members, their training loss and their averaging."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mlrpy
from mlrpy import ParameterError, lrn, torch_callback, tsk
from mlrpy.learners.features import TabularInput
from mlrpy.learners.tabm import BatchEnsembleLinear, EnsembleLinear, MemberwiseLoss, ensemble_output
from tests.learners.tabular_problems import (
    INFO,
    accuracy,
    categorical_xor,
    linear_accuracy,
    numeric_xor,
    train_by_hand,
)

SMALL = {"k": 4, "n_blocks": 2, "d_block": 16}
ARCH_TYPES = ["tabm", "tabm-mini"]


@pytest.mark.parametrize("arch_type", ARCH_TYPES)
def test_learns_categorical_interaction_a_linear_model_cannot(arch_type):
    X, y = categorical_xor(400, seed=0)
    assert linear_accuracy(X, y) < 0.8
    torch.manual_seed(0)
    learner = lrn("classif.tabm", arch_type=arch_type, **SMALL, dropout=0.0, embedding_dim=3)
    learner.feature_info_ = INFO
    net = learner._build_network(INFO.n_features, 2)
    net = train_by_hand(net, X, y, MemberwiseLoss(torch.nn.CrossEntropyLoss()), steps=150)
    assert accuracy(net, *categorical_xor(400, seed=1)) > 0.9


@pytest.mark.parametrize("arch_type", ARCH_TYPES)
def test_classif_learns_numeric_xor(arch_type):
    X, y = numeric_xor(300, seed=0)
    learner = lrn("classif.tabm", arch_type=arch_type, epochs=15, random_state=0, **SMALL, **{"opt.lr": 0.01})
    assert learner.fit(X, y).score(*numeric_xor(300, seed=1)) > 0.9


def test_regr_learns_a_product():
    X, _ = numeric_xor(300, seed=0)
    learner = lrn("regr.tabm", epochs=30, random_state=0, **SMALL, **{"opt.lr": 0.01})
    X_test, _ = numeric_xor(300, seed=1)
    assert learner.fit(X, X[:, 0] * X[:, 1]).score(X_test, X_test[:, 0] * X_test[:, 1]) > 0.7


def test_defaults_are_the_papers():
    params = lrn("classif.tabm").get_params()
    expected = {"arch_type": "tabm", "k": 32, "n_blocks": 3, "d_block": 512, "dropout": 0.1,
                "embedding_dim": None}
    assert {k: params[k] for k in expected} == expected


def _network(task_type="classif", n_outputs=3, **params):
    learner = lrn(f"{task_type}.tabm", **params)
    learner.feature_info_ = INFO
    return learner._build_network(INFO.n_features, n_outputs)


def test_tabm_layers_are_batch_ensembles():
    torch.manual_seed(0)
    net = _network(k=5, n_blocks=3, d_block=6, dropout=0.25, embedding_dim=3)
    d_in = INFO.n_numeric + 3
    assert isinstance(net.input, TabularInput) and net.scaling is None
    linears = [block[0] for block in net.blocks]
    assert len(linears) == 3 and all(isinstance(la, BatchEnsembleLinear) for la in linears)
    assert [tuple(la.weight.shape) for la in linears] == [(6, d_in), (6, 6), (6, 6)]
    assert [tuple(la.r.shape) for la in linears] == [(5, d_in), (5, 6), (5, 6)]
    assert all(tuple(la.s.shape) == tuple(la.bias.shape) == (5, 6) for la in linears)
    assert [type(block[1]) for block in net.blocks] == [torch.nn.ReLU] * 3
    assert [block[2].p for block in net.blocks] == [0.25] * 3
    # the first input scaling: random signs, one per feature (an embedding's columns share it)
    r = linears[0].r.detach()
    assert set(r.unique().tolist()) <= {-1.0, 1.0}
    assert torch.equal(r[:, 2:], r[:, 2:3].expand(-1, 3))
    assert len({tuple(row.tolist()) for row in r}) > 1  # the members differ
    for layer in linears:  # all other scalings start as ones, every member's bias alike
        assert torch.equal(layer.s, torch.ones_like(layer.s))
        assert torch.equal(layer.bias, layer.bias[:1].expand_as(layer.bias))
    for layer in linears[1:]:
        assert torch.equal(layer.r, torch.ones_like(layer.r))
    assert isinstance(net.output, EnsembleLinear) and tuple(net.output.weight.shape) == (5, 6, 3)


def test_tabm_mini_shares_all_but_an_input_scaling_and_the_heads():
    net = _network(arch_type="tabm-mini", k=7, n_blocks=2, d_block=6, embedding_dim=3)
    d_in = INFO.n_numeric + 3
    assert tuple(net.scaling.shape) == (7, d_in)
    assert set(net.scaling.detach().unique().tolist()) <= {-1.0, 1.0}
    assert [type(block[0]) for block in net.blocks] == [torch.nn.Linear] * 2
    per_member = {name for name, p in net.named_parameters() if p.shape[:1] == (7,)}
    assert per_member == {"scaling", "output.weight", "output.bias"}


@pytest.mark.parametrize("params, name", [({"k": 0}, "k"), ({"arch_type": "tabm-packed"}, "arch_type"),
                                          ({"dropout": 1.0}, "dropout"), ({"n_blocks": 0}, "n_blocks")])
def test_bad_architecture_parameters(params, name):
    with pytest.raises(ParameterError, match=f"'{name}'"):
        lrn("regr.tabm", **params).check_params()


@pytest.mark.parametrize("arch_type", ARCH_TYPES)
def test_training_returns_the_members_and_evaluation_their_average(arch_type):
    torch.manual_seed(0)
    X, _ = categorical_xor(7, seed=0)
    for task_type, n_outputs in [("classif", 3), ("regr", 1)]:
        net = _network(task_type, n_outputs, arch_type=arch_type, k=4, n_blocks=2, d_block=8, dropout=0.0)
        members = net.train()(X)
        assert members.shape == (7, 4, n_outputs)
        averaged = net.eval()(X)
        if task_type == "regr":
            torch.testing.assert_close(averaged, members.mean(dim=1))
        else:  # its softmax is the members' mean probability
            torch.testing.assert_close(averaged.softmax(dim=1), members.softmax(dim=2).mean(dim=1))


def test_predict_proba_is_the_mean_member_probability():
    X, y = numeric_xor(60, seed=0)
    learner = lrn("classif.tabm", epochs=2, random_state=0, dropout=0.0, **SMALL).fit(X, y)
    network = learner.model.network
    with torch.no_grad():
        members = network.train()(torch.from_numpy(X)).softmax(dim=2).mean(dim=1)
    network.eval()
    np.testing.assert_allclose(learner.predict_proba(X), members.numpy(), rtol=1e-5, atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 6), k=st.integers(1, 5), n_classes=st.integers(2, 4), seed=st.integers(0, 99))
def test_memberwise_loss_is_the_mean_member_loss(n, k, n_classes, seed):
    gen = torch.Generator().manual_seed(seed)
    y_hat = torch.randn(n, k, n_classes, generator=gen) * 3
    y = torch.randint(0, n_classes, (n,), generator=gen)
    per_member = [torch.nn.functional.cross_entropy(y_hat[:, i], y) for i in range(k)]
    expected = torch.stack(per_member).mean()
    torch.testing.assert_close(MemberwiseLoss(torch.nn.CrossEntropyLoss())(y_hat, y), expected)
    per_row = MemberwiseLoss(torch.nn.CrossEntropyLoss(reduction="none"))(y_hat, y)
    assert per_row.shape == (n,)
    torch.testing.assert_close(per_row.mean(), expected)
    summed = MemberwiseLoss(torch.nn.CrossEntropyLoss(reduction="sum"))(y_hat, y)
    torch.testing.assert_close(summed, expected * n)
    # an averaged (evaluation) output goes to the loss unchanged
    averaged = ensemble_output(y_hat, classification=True)
    torch.testing.assert_close(MemberwiseLoss(torch.nn.CrossEntropyLoss())(averaged, y),
                               torch.nn.functional.cross_entropy(averaged, y))
    regr = MemberwiseLoss(torch.nn.MSELoss(reduction="none"))(y_hat[..., :1], y_hat[:, 0, :1])
    assert regr.shape == (n, 1)


def test_the_learner_trains_each_member_on_its_own_loss():
    seen = []

    def on_after_loss(self):
        members = self.ctx.y_hat.detach()
        by_member = [torch.nn.functional.cross_entropy(members[:, i], self.ctx.batch.y) for i in range(4)]
        seen.append((float(self.ctx.loss.detach()), float(torch.stack(by_member).mean())))

    probe = torch_callback("member_probe", on_after_loss=on_after_loss)
    X, y = numeric_xor(50, seed=0)
    lrn("classif.tabm", epochs=2, random_state=0, callbacks=[probe], **SMALL).fit(X, y)
    assert len(seen) == 4
    for loss, expected in seen:
        assert loss == pytest.approx(expected, rel=1e-5)


def test_training_and_validation_measures_score_the_ensemble():
    X, y = numeric_xor(80, seed=0)
    learner = lrn("classif.tabm", epochs=2, random_state=0, validate=0.25, measures_train="classif.acc",
                  measures_valid="classif.acc", callbacks=["history"], **SMALL).fit(X, y)
    history = pd.DataFrame(learner.model.callbacks["history"])
    for column in ("train.classif.acc", "valid.classif.acc", "valid.loss"):
        assert np.isfinite(history[column]).all()
    assert history["train.classif.acc"].between(0, 1).all()


@pytest.mark.parametrize("key", ["classif.tabm", "regr.tabm"])
def test_both_faces_warm_start_and_saving(key, tmp_path):
    task = tsk("iris") if key.startswith("classif") else tsk("diabetes")
    learner = lrn(key, epochs=1, random_state=0, **SMALL)
    prediction = learner.train(task).predict(task)
    assert len(prediction.response) == task.nrow
    learner.set_params(warm_start=True).train(task)
    assert learner.model.epochs == 2
    path = tmp_path / "model.pt"
    learner.save(path)
    loaded = mlrpy.load(path)
    X = task.data(cols=task.feature_names)
    method = "predict_proba" if key.startswith("classif") else "predict"
    np.testing.assert_allclose(getattr(loaded, method)(X), getattr(learner, method)(X), rtol=1e-6)
