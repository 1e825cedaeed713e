"""classif.mlp / regr.mlp with categorical columns: embeddings first, numeric path unchanged."""

from __future__ import annotations

import pytest
import torch

from mlrpy import ParameterError, lrn, tsk
from mlrpy.learners.features import FeatureInfo, TabularInput, default_embedding_dim
from mlrpy.learners.mlp import build_mlp
from tests.learners.tabular_problems import (
    INFO,
    accuracy,
    categorical_xor,
    linear_accuracy,
    train_by_hand,
)


def _shapes(net: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(name, tuple(p.shape)) for name, p in net.named_parameters()]


@pytest.mark.parametrize("key, task", [("classif.mlp", "iris"), ("regr.mlp", "diabetes")])
def test_numeric_network_is_the_plain_mlp(key, task):
    task = tsk(task)
    learner = lrn(key, epochs=1, random_state=0, p=0.1).train(task)
    n_in, n_out = len(task.feature_names), 3 if key.startswith("classif") else 1
    plain = torch.nn.Sequential(
        torch.nn.Linear(n_in, 64), torch.nn.ReLU(), torch.nn.Dropout(0.1),
        torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Dropout(0.1),
        torch.nn.Linear(64, n_out),
    )
    network = learner.model.network
    assert _shapes(network) == _shapes(plain)
    assert [type(m) for m in network] == [type(m) for m in plain]
    assert not any(isinstance(m, TabularInput) for m in network.modules())


def test_categorical_columns_are_embedded_first():
    learner = lrn("classif.mlp", neurons=(8,), embedding_dim=3)
    learner.feature_info_ = INFO
    net = learner._build_network(INFO.n_features, 2)
    assert isinstance(net[0], TabularInput)
    assert net[1].in_features == INFO.n_numeric + 3
    assert tuple(net[0].embeddings[0].weight.shape) == (INFO.cardinalities[0], 3)
    learner.embedding_dim = None
    net = learner._build_network(INFO.n_features, 2)
    assert net[1].in_features == INFO.n_numeric + default_embedding_dim(INFO.cardinalities[0])


def test_learns_categorical_interaction_a_linear_model_cannot():
    X, y = categorical_xor(400, seed=0)
    assert linear_accuracy(X, y) < 0.8
    torch.manual_seed(0)
    learner = lrn("classif.mlp", neurons=(16, 16), embedding_dim=3)
    learner.feature_info_ = INFO
    net = train_by_hand(learner._build_network(INFO.n_features, 2), X, y, torch.nn.CrossEntropyLoss(),
                        steps=150)
    assert accuracy(net, *categorical_xor(400, seed=1)) > 0.9


def test_build_mlp_without_a_layout_is_unchanged():
    net = build_mlp(3, 2, (5,), None, 0.0, "relu")
    assert _shapes(net) == [("0.weight", (5, 3)), ("0.bias", (5,)), ("2.weight", (2, 5)), ("2.bias", (2,))]
    numeric = build_mlp(3, 2, (5,), None, 0.0, "relu", info=FeatureInfo.all_numeric(["a", "b", "c"]))
    assert _shapes(numeric) == _shapes(net)


@pytest.mark.parametrize("value", [0, -1, 1.5, "3"])
def test_embedding_dim_must_be_a_positive_integer_or_none(value, iris_xy):
    learner = lrn("regr.mlp", embedding_dim=value)
    with pytest.raises(ParameterError, match="'embedding_dim'"):
        learner.fit(iris_xy[0], iris_xy[0][:, 0])
    assert lrn("classif.mlp").get_params()["embedding_dim"] is None
