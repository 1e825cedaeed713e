"""The loader parameters every learner shares: ``num_workers``, ``pin_memory``, ``drop_last``,
``batch_size_predict``; and reproducibility of the DataLoader path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import TensorDataset

from mlrpy import lrn, torch_callback
from mlrpy.errors import ParameterError
from mlrpy.learners.data import TensorLoader

FAMILIES = ["classif.mlp", "classif.tab_resnet", "classif.ft_transformer", "classif.tabm",
            "classif.torch_featureless", "classif.module"]


def table(n=30, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def mlp(**kw):
    return lrn("classif.mlp", **{"epochs": 2, "batch_size": 8, "random_state": 0, "device": "cpu", **kw})


def weights(learner):
    return [p.detach().clone() for p in learner.model.network.parameters()]


def batch_sizes():
    """A probe recording each phase's batch sizes."""
    seen: dict[str, list[int]] = {"train": [], "valid": [], "predict": []}

    def size(self):
        return len(self.ctx.batch.index)

    probe = torch_callback(
        "size_probe",
        on_batch_begin=lambda self: seen["train"].append(size(self)),
        on_batch_valid_begin=lambda self: seen["valid"].append(size(self)),
        on_predict_batch_begin=lambda self: seen["predict"].append(size(self)),
    )
    return probe, seen


@pytest.mark.parametrize("key", [*FAMILIES, "classif.torchvision"])
def test_every_family_has_the_loader_and_strategy_parameters(key):
    params = lrn(key).get_params()
    shared = ("num_workers", "pin_memory", "drop_last", "batch_size_predict", "strategy", "devices", "backend")
    assert {k: params[k] for k in shared} == {
        "num_workers": 0, "pin_memory": False, "drop_last": False, "batch_size_predict": None,
        "strategy": None, "devices": 1, "backend": None,
    }


@pytest.mark.parametrize(("name", "value"), [("num_workers", -1), ("batch_size_predict", 0), ("drop_last", "yes")])
def test_bad_loader_parameters_are_errors_naming_them(name, value):
    x, y = table()
    with pytest.raises(ParameterError, match=f"'{name}'"):
        mlp(**{name: value}).fit(x, y)


@pytest.mark.parametrize("as_dataset", [False, True])
def test_drop_last_leaves_out_the_short_training_batch_only(as_dataset):
    x, y = table(30)
    probe, seen = batch_sizes()
    data = TensorDataset(torch.from_numpy(x), torch.from_numpy(y)) if as_dataset else x
    learner = mlp(epochs=1, drop_last=True, callbacks=[probe])
    learner.fit(data, None if as_dataset else y, validation_data=(x, y))
    learner.predict(data)
    assert seen["train"] == [8, 8, 8]
    assert sum(seen["valid"]) == 30 and sum(seen["predict"]) == 30


@pytest.mark.parametrize("as_dataset", [False, True])
def test_batch_size_predict_sets_validation_evaluate_and_predict_batches(as_dataset):
    x, y = table(30)
    probe, seen = batch_sizes()
    data = TensorDataset(torch.from_numpy(x), torch.from_numpy(y)) if as_dataset else x
    learner = mlp(epochs=1, batch_size_predict=20, validate=0.5, callbacks=[probe])
    learner.fit(data, None if as_dataset else y)
    learner.evaluate(data, None if as_dataset else y)
    learner.predict(data)
    assert seen["valid"] == [15, 20, 10]  # training's validation part, then evaluate
    assert seen["predict"] == [20, 10]


def test_unset_batch_size_predict_uses_batch_size_for_validation():
    x, y = table(30)
    probe, seen = batch_sizes()
    mlp(epochs=1, validate=0.5, callbacks=[probe]).fit(x, y)
    assert seen["valid"] == [8, 7]


def test_pin_memory_without_cuda_trains_as_without_it():
    x, y = table()
    data = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    pinned, plain = mlp(pin_memory=True).fit(data, None), mlp().fit(data, None)
    assert all(torch.equal(a, b) for a, b in zip(weights(pinned), weights(plain)))


def test_workers_give_the_same_weights_run_after_run_and_as_without_workers():
    """Worker start-up is slow: one tiny fit per setting."""
    x, y = table(16)
    data = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    runs = [weights(mlp(num_workers=w, batch_size=8).fit(data, None)) for w in (2, 2, 0)]
    assert all(torch.equal(a, b) for a, b in zip(runs[0], runs[1]))
    assert all(torch.equal(a, b) for a, b in zip(runs[0], runs[2]))


def test_shuffled_dataset_batches_carry_their_rows_index():
    x, y = table(20)
    pairs = []

    def on_batch_end(self):
        batch = self.ctx.batch
        pairs.append((batch.index.tolist(), batch.y.tolist(), batch.x[:, 0].tolist()))

    probe = torch_callback("index_probe", on_batch_end=on_batch_end)
    mlp(epochs=2, callbacks=[probe]).fit(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), None)
    seen = [i for index, _, _ in pairs for i in index]
    assert sorted(seen[:20]) == list(range(20)) and seen[:20] != list(range(20))
    for index, targets, first in pairs:
        assert targets == y[index].tolist() and first == x[index, 0].tolist()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), bs=st.integers(1, 12), shuffle=st.booleans(), drop_last=st.booleans(),
       as_dict=st.booleans())
def test_tensor_loader_visits_each_row_once(n, bs, shuffle, drop_last, as_dict):
    x = torch.arange(n, dtype=torch.float32).reshape(n, 1)
    inputs = {"a": x, "b": -x} if as_dict else x
    loader = TensorLoader(inputs, torch.arange(n), bs, shuffle=shuffle, drop_last=drop_last)
    batches = list(loader)
    assert len(batches) == len(loader)
    rows = [i for b in batches for i in b.index.tolist()]
    assert len(rows) == (n - n % bs if drop_last else n) and len(set(rows)) == len(rows)
    for b in batches:
        xb = b.x["a"] if as_dict else b.x
        assert xb[:, 0].long().tolist() == b.index.tolist() == b.y.tolist()
        if as_dict:
            assert torch.equal(b.x["b"], -xb)
