"""classif.ft_transformer / regr.ft_transformer: tokenizer, Transformer layers, parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mlrpy
from mlrpy import ParameterError, lrn, tsk
from mlrpy.learners.features import FeatureInfo
from mlrpy.learners.ft_transformer import FeatureTokenizer, TransformerLayer
from tests.learners.tabular_problems import (
    INFO,
    accuracy,
    categorical_xor,
    linear_accuracy,
    numeric_xor,
    train_by_hand,
)

SMALL = {"n_blocks": 2, "d_token": 8, "attention_n_heads": 2, "attention_dropout": 0.0, "ffn_dropout": 0.0}


def test_learns_categorical_interaction_a_linear_model_cannot():
    X, y = categorical_xor(400, seed=0)
    assert linear_accuracy(X, y) < 0.8
    torch.manual_seed(0)
    learner = lrn("classif.ft_transformer", **SMALL)
    learner.feature_info_ = INFO
    net = train_by_hand(learner._build_network(INFO.n_features, 2), X, y, torch.nn.CrossEntropyLoss(),
                        steps=150)
    assert accuracy(net, *categorical_xor(400, seed=1)) > 0.9


def test_classif_learns_numeric_xor():
    X, y = numeric_xor(300, seed=0)
    learner = lrn("classif.ft_transformer", epochs=20, random_state=0, **SMALL, **{"opt.lr": 0.01})
    assert learner.fit(X, y).score(*numeric_xor(300, seed=1)) > 0.9


def test_defaults_are_the_papers():
    params = lrn("regr.ft_transformer").get_params()
    expected = {"n_blocks": 3, "d_token": 192, "attention_n_heads": 8, "attention_dropout": 0.2,
                "ffn_d_hidden": None, "ffn_d_hidden_multiplier": 4 / 3, "ffn_dropout": 0.1,
                "residual_dropout": 0.0, "init_token": "uniform"}
    assert {k: params[k] for k in expected} == expected
    assert lrn("regr.ft_transformer").ffn_hidden_width() == 256


def _network(**params):
    learner = lrn("classif.ft_transformer", **params)
    learner.feature_info_ = INFO
    return learner._build_network(INFO.n_features, 3)


def test_architecture_follows_the_parameters():
    net = _network(n_blocks=3, d_token=12, attention_n_heads=3, attention_dropout=0.25,
                   ffn_d_hidden_multiplier=1.5, ffn_dropout=0.15, residual_dropout=0.05)
    layers = list(net.layers)
    assert len(layers) == 3 and all(isinstance(layer, TransformerLayer) for layer in layers)
    # the paper drops the first layer's first LayerNorm
    assert isinstance(layers[0].attention_normalization, torch.nn.Identity)
    assert all(isinstance(la.attention_normalization, torch.nn.LayerNorm) for la in layers[1:])
    n_layer_norms = sum(isinstance(m, torch.nn.LayerNorm) for m in net.modules())
    assert n_layer_norms == 2 * 3 - 1 + 1  # two per layer, less the first, plus the head's
    for layer in layers:
        assert layer.attention.num_heads == 3 and layer.attention.embed_dim == 12
        assert layer.attention.dropout == 0.25
        first, _, dropout, second = layer.ffn
        assert (first.in_features, first.out_features) == (12, 2 * 18)  # ReGLU halves it
        assert (second.in_features, second.out_features) == (18, 12)
        assert dropout.p == 0.15 and layer.residual_dropout.p == 0.05
    assert [layer.cls_only for layer in layers] == [False, False, True]
    norm, act, linear = net.head
    assert isinstance(norm, torch.nn.LayerNorm) and isinstance(act, torch.nn.ReLU)
    assert (linear.in_features, linear.out_features) == (12, 3)


def test_ffn_d_hidden_sets_the_width():
    net = _network(n_blocks=1, d_token=8, attention_n_heads=2, ffn_d_hidden=5, ffn_d_hidden_multiplier=None)
    assert net.layers[0].ffn[3].in_features == 5


def test_d_token_must_be_divisible_by_the_heads(iris_xy):
    learner = lrn("classif.ft_transformer", d_token=10, attention_n_heads=4)
    with pytest.raises(ParameterError, match=r"'d_token' \(10\) must be divisible by 'attention_n_heads' \(4\)"):
        learner.fit(*iris_xy)
    assert not hasattr(learner, "model_")


@pytest.mark.parametrize("ffn_d_hidden, multiplier", [(16, 4 / 3), (None, None)])
def test_exactly_one_ffn_width(ffn_d_hidden, multiplier):
    learner = lrn("regr.ft_transformer", ffn_d_hidden=ffn_d_hidden, ffn_d_hidden_multiplier=multiplier)
    with pytest.raises(ParameterError, match="exactly one of 'ffn_d_hidden' and 'ffn_d_hidden_multiplier'"):
        learner.check_params()


@pytest.mark.parametrize(
    "params, name",
    [({"n_blocks": 0}, "n_blocks"), ({"attention_n_heads": 0}, "attention_n_heads"),
     ({"attention_dropout": 1.0}, "attention_dropout"), ({"residual_dropout": -0.5}, "residual_dropout"),
     ({"init_token": "xavier"}, "init_token")],
)
def test_bad_architecture_parameters(params, name):
    with pytest.raises(ParameterError, match=f"'{name}'"):
        lrn("classif.ft_transformer", **params).check_params()


def test_tokens_are_the_papers():
    tokenizer = FeatureTokenizer(FeatureInfo(["a", "b"], ["c", "d"], [3, 4]), d_token=6)
    x = torch.tensor([[0.5, -2.0, 2.0, 1.0]])
    tokens = tokenizer(x)
    assert tokens.shape == (1, 5, 6)  # 4 features + [CLS]
    for j in range(2):  # numeric: x_j * W_j + b_j
        torch.testing.assert_close(tokens[0, j], x[0, j] * tokenizer.numeric_weight[j] + tokenizer.numeric_bias[j])
    table = tokenizer.categorical_embeddings.weight  # column d's codes follow column c's 3
    torch.testing.assert_close(tokens[0, 2], table[2] + tokenizer.categorical_bias[0])
    torch.testing.assert_close(tokens[0, 3], table[3 + 1] + tokenizer.categorical_bias[1])
    torch.testing.assert_close(tokens[0, 4], tokenizer.cls_token)


@settings(max_examples=15, deadline=None)
@given(n_numeric=st.integers(0, 4), cardinalities=st.lists(st.integers(1, 5), max_size=3),
       d_token=st.integers(1, 8), n=st.integers(1, 6))
def test_one_token_per_feature_plus_cls(n_numeric, cardinalities, d_token, n):
    if n_numeric == 0 and not cardinalities:
        return
    info = FeatureInfo([f"x{i}" for i in range(n_numeric)], [f"c{i}" for i in range(len(cardinalities))],
                       cardinalities)
    codes = torch.stack([torch.randint(0, c, (n,)) for c in cardinalities], dim=1) if cardinalities else None
    numeric = torch.randn(n, n_numeric)
    x = numeric if codes is None else torch.cat([numeric, codes.float()], dim=1)
    assert FeatureTokenizer(info, d_token)(x).shape == (n, info.n_features + 1, d_token)


@pytest.mark.parametrize("init_token", ["uniform", "normal"])
def test_init_token(init_token):
    torch.manual_seed(0)
    d_token = 64
    tokenizer = FeatureTokenizer(FeatureInfo.all_numeric([f"x{i}" for i in range(100)]), d_token, init_token)
    weights = tokenizer.numeric_weight.detach()
    bound = 1 / math.sqrt(d_token)
    if init_token == "uniform":
        assert weights.abs().max() <= bound and weights.abs().max() > 0.95 * bound
    else:
        assert weights.abs().max() > bound
        assert abs(float(weights.std()) - bound) < 0.05 * bound


def test_last_layer_computes_only_the_cls_token():
    torch.manual_seed(0)
    layer = TransformerLayer(8, 2, 0.0, 6, 0.0, 0.0)
    cls_layer = TransformerLayer(8, 2, 0.0, 6, 0.0, 0.0, cls_only=True)
    cls_layer.load_state_dict(layer.state_dict())
    x = torch.randn(3, 5, 8)
    torch.testing.assert_close(cls_layer(x), layer(x)[:, -1:])


@pytest.mark.parametrize("key", ["classif.ft_transformer", "regr.ft_transformer"])
def test_both_faces_and_saving(key, tmp_path):
    task = tsk("iris") if key.startswith("classif") else tsk("diabetes")
    learner = lrn(key, epochs=1, random_state=0, n_blocks=1, d_token=8, attention_n_heads=2)
    prediction = learner.train(task).predict(task)
    assert len(prediction.response) == task.nrow
    path = tmp_path / "model.pt"
    learner.save(path)
    loaded = mlrpy.load(path)
    X = task.data(cols=task.feature_names)
    method = "predict_proba" if key.startswith("classif") else "predict"
    np.testing.assert_allclose(getattr(loaded, method)(X), getattr(learner, method)(X), rtol=1e-6)
