"""classif.tab_resnet / regr.tab_resnet: the tabular ResNet and its parameters."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mlrpy
from mlrpy import ParameterError, lrn, tsk
from mlrpy.learners.features import FeatureInfo, TabularInput, default_embedding_dim
from mlrpy.learners.tab_resnet import ResNetBlock
from mlrpy.learners.tabular import BatchNorm1d
from tests.learners.tabular_problems import (
    INFO,
    accuracy,
    categorical_xor,
    linear_accuracy,
    numeric_xor,
    train_by_hand,
)

SMALL = {"n_blocks": 1, "d_block": 16}


def test_learns_categorical_interaction_a_linear_model_cannot():
    X, y = categorical_xor(400, seed=0)
    assert linear_accuracy(X, y) < 0.8
    torch.manual_seed(0)
    learner = lrn("classif.tab_resnet", **SMALL, embedding_dim=3)
    learner.feature_info_ = INFO
    net = train_by_hand(learner._build_network(INFO.n_features, 2), X, y, torch.nn.CrossEntropyLoss(),
                        steps=200)
    assert accuracy(net, *categorical_xor(400, seed=1)) > 0.9


def test_classif_learns_numeric_xor():
    X, y = numeric_xor(300, seed=0)
    learner = lrn("classif.tab_resnet", epochs=20, random_state=0, **SMALL, **{"opt.lr": 0.01})
    assert learner.fit(X, y).score(*numeric_xor(300, seed=1)) > 0.9


def test_regr_learns_a_product():
    X, _ = numeric_xor(300, seed=0)
    learner = lrn("regr.tab_resnet", epochs=30, random_state=0, **SMALL, **{"opt.lr": 0.01})
    X_test, _ = numeric_xor(300, seed=1)
    assert learner.fit(X, X[:, 0] * X[:, 1]).score(X_test, X_test[:, 0] * X_test[:, 1]) > 0.7


def _network(params, n_features=4, task=None):
    learner = lrn("classif.tab_resnet", epochs=1, random_state=0, **params)
    learner.train(task or tsk("iris"))
    return learner.model.network


def test_architecture_follows_the_parameters():
    net = _network({"n_blocks": 3, "d_block": 12, "d_hidden_multiplier": 1.5, "dropout1": 0.3,
                    "dropout2": 0.1})
    assert (net.first_layer.in_features, net.first_layer.out_features) == (4, 12)
    blocks = list(net.blocks)
    assert len(blocks) == 3 and all(isinstance(b, ResNetBlock) for b in blocks)
    for block in blocks:
        assert isinstance(block.normalization, torch.nn.BatchNorm1d)
        assert block.normalization.num_features == 12
        assert (block.linear_first.in_features, block.linear_first.out_features) == (12, 18)
        assert (block.linear_second.in_features, block.linear_second.out_features) == (18, 12)
        assert (block.dropout_first.p, block.dropout_second.p) == (0.3, 0.1)
    norm, act, linear = net.head
    assert isinstance(norm, torch.nn.BatchNorm1d) and isinstance(act, torch.nn.ReLU)
    assert (linear.in_features, linear.out_features) == (12, 3)


def test_d_hidden_sets_the_inner_width():
    net = _network({"n_blocks": 2, "d_block": 8, "d_hidden": 5, "d_hidden_multiplier": None})
    assert [b.linear_first.out_features for b in net.blocks] == [5, 5]


@pytest.mark.parametrize("d_hidden, multiplier", [(64, 2.0), (None, None)])
def test_exactly_one_hidden_width(d_hidden, multiplier, iris_xy):
    learner = lrn("classif.tab_resnet", d_hidden=d_hidden, d_hidden_multiplier=multiplier)
    with pytest.raises(ParameterError, match="exactly one of 'd_hidden' and 'd_hidden_multiplier'"):
        learner.fit(*iris_xy)
    assert not hasattr(learner, "model_")


@pytest.mark.parametrize(
    "params, name",
    [({"n_blocks": 0}, "n_blocks"), ({"d_block": 0}, "d_block"), ({"dropout1": 1.0}, "dropout1"),
     ({"dropout2": -0.1}, "dropout2"), ({"d_hidden_multiplier": 0.0}, "d_hidden_multiplier"),
     ({"embedding_dim": 0}, "embedding_dim")],
)
def test_bad_architecture_parameters(params, name):
    with pytest.raises(ParameterError, match=f"'{name}'"):
        lrn("classif.tab_resnet", **params).check_params()


@settings(max_examples=15, deadline=None)
@given(d_block=st.integers(1, 64), multiplier=st.floats(0.1, 4.0))
def test_hidden_width_is_the_rounded_product(d_block, multiplier):
    learner = lrn("regr.tab_resnet", d_block=d_block, d_hidden_multiplier=multiplier)
    assert learner.hidden_width() == max(1, round(d_block * multiplier))
    learner.feature_info_ = FeatureInfo.all_numeric(["a", "b"])
    block = learner._build_network(2, 1).blocks[0]
    assert block.linear_first.out_features == learner.hidden_width()


def test_blocks_are_residual():
    block = ResNetBlock(d_block=4, d_hidden=6, dropout1=0.0, dropout2=0.0)
    torch.nn.init.zeros_(block.linear_second.weight)
    torch.nn.init.zeros_(block.linear_second.bias)
    x = torch.randn(5, 4)
    torch.testing.assert_close(block(x), x)


def test_categorical_columns_are_embedded_before_the_first_layer():
    learner = lrn("classif.tab_resnet", **SMALL, embedding_dim=3)
    learner.feature_info_ = INFO
    net = learner._build_network(INFO.n_features, 2)
    assert isinstance(net.input, TabularInput)
    assert net.first_layer.in_features == INFO.n_numeric + 3
    learner.embedding_dim = None
    width = learner._build_network(INFO.n_features, 2).first_layer.in_features
    assert width == INFO.n_numeric + default_embedding_dim(INFO.cardinalities[0])


def test_a_one_row_last_batch_trains():
    X, y = numeric_xor(33, seed=0)
    learner = lrn("classif.tab_resnet", epochs=2, batch_size=32, shuffle=False, random_state=0, **SMALL)
    assert learner.fit(X, y).model.epochs == 2


def test_batch_norm_of_one_row_uses_running_statistics():
    norm = BatchNorm1d(3)
    norm(torch.randn(8, 3) * 4 + 2)  # moves the running statistics
    before = (norm.running_mean.clone(), norm.running_var.clone())
    x = torch.randn(1, 3)
    out = norm(x)
    torch.testing.assert_close(out, norm.eval()(x))
    torch.testing.assert_close((norm.running_mean, norm.running_var), before)


@pytest.mark.parametrize("key", ["classif.tab_resnet", "regr.tab_resnet"])
def test_both_faces_and_saving(key, tmp_path):
    task = tsk("iris") if key.startswith("classif") else tsk("diabetes")
    learner = lrn(key, epochs=1, random_state=0, d_block=8)
    prediction = learner.train(task).predict(task)
    assert len(prediction.response) == task.nrow
    path = tmp_path / "model.pt"
    learner.save(path)
    loaded = mlrpy.load(path)
    X = task.data(cols=task.feature_names)
    method = "predict_proba" if key.startswith("classif") else "predict"
    np.testing.assert_allclose(getattr(loaded, method)(X), getattr(learner, method)(X))
