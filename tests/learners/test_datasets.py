"""Learners beyond 2-D tables: torch Datasets, N-D arrays, dicts of inputs, ``module=``
instances and ``ingress``."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from torch.utils.data import Dataset, TensorDataset

from mlrpy import as_task_classif, lrn, torch_callback
from mlrpy.errors import DataError, ParameterError
from tests.callbacks.support import builtin, builtin_keys

N, C, H = 24, 2, 4


class SmallCNN(torch.nn.Module):
    def __init__(self, n_features: int, n_outputs: int):
        super().__init__()
        self.conv = torch.nn.Conv2d(n_features, 3, 3, padding=1)
        self.head = torch.nn.Linear(3, n_outputs)

    def forward(self, x):
        return self.head(torch.relu(self.conv(x)).mean((2, 3)))


class TwoInputs(torch.nn.Module):
    def __init__(self, n_outputs: int = 2):
        super().__init__()
        self.img = torch.nn.Linear(C * H * H, n_outputs)
        self.num = torch.nn.Linear(3, n_outputs)

    def forward(self, image, num):
        return self.img(image.flatten(1)) + self.num(num)


class Pairs(Dataset):
    """Items ``(x, y)`` or ``x`` alone; counts reads so tests can see passes over the data."""

    def __init__(self, x, y=None, with_targets_attr=False):
        self.x, self.y, self.reads = x, y, 0
        if with_targets_attr:
            self.targets = y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        self.reads += 1
        return self.x[i] if self.y is None else (self.x[i], self.y[i])


def images(n=N, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, C, H, H, generator=g)
    return x, (x.mean((1, 2, 3)) > 0).long()


def cnn(**kw):
    args = dict(module=SmallCNN, epochs=2, batch_size=8, random_state=0, device="cpu")
    return lrn("classif.module", **{**args, **kw})


def weights(learner):
    return [p.detach().clone() for p in learner.model.network.parameters()]


def same(a, b):
    return all(torch.equal(p, q) for p, q in zip(a, b))


# -- Datasets ---------------------------------------------------------------------------------
def test_a_dataset_trains_exactly_as_the_same_tensor_in_memory():
    """Without shuffling both paths see the same batches, so the weights agree exactly."""
    x, y = images()
    on_dataset = cnn(shuffle=False).fit(TensorDataset(x, y), None)
    in_memory = cnn(shuffle=False).fit(x, y)
    assert same(weights(on_dataset), weights(in_memory))
    np.testing.assert_array_equal(on_dataset.predict(x), in_memory.predict(TensorDataset(x, y)))


def test_fit_predict_proba_evaluate_on_datasets():
    x, y = images()
    learner = cnn().fit(TensorDataset(x, y), None)
    proba = learner.predict_proba(TensorDataset(x))
    assert proba.shape == (N, 2)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-6)
    assert set(learner.predict(TensorDataset(x))) <= {0, 1}
    scores = learner.evaluate(TensorDataset(x, y), measures=["classif.acc"])
    assert set(scores) == {"loss", "classif.acc"}
    assert scores == learner.evaluate(x, y, measures=["classif.acc"])


def test_items_without_targets_take_y_given_separately():
    x, y = images()
    with_y = cnn(shuffle=False).fit(Pairs(x), y.numpy())
    pairs = cnn(shuffle=False).fit(TensorDataset(x, y), None)
    assert same(weights(with_y), weights(pairs))


def test_items_without_targets_and_no_y_is_an_error_naming_the_item():
    x, _ = images()
    with pytest.raises(DataError, match="item 0 is not an .x, y. pair"):
        cnn().fit(Pairs(x), None)


def test_predict_ignores_a_datasets_targets():
    x, y = images()
    learner = cnn().fit(x, y)
    np.testing.assert_array_equal(learner.predict(Pairs(x, y)), learner.predict(Pairs(x)))


def test_targets_are_read_once_or_not_at_all_when_the_dataset_has_them():
    x, y = images()
    read = Pairs(x, y)
    cnn(epochs=1).fit(read, None)
    assert read.reads == 1 + 2 * N  # item 0 for the input's shape, the targets, one epoch
    attribute = Pairs(x, y, with_targets_attr=True)
    cnn(epochs=1).fit(attribute, None)
    assert attribute.reads == 1 + N


def test_labels_of_any_kind_come_back_from_predict():
    x, y = images()
    labels = np.array(["neg", "pos"])[y.numpy()]
    learner = cnn().fit(Pairs(x, list(labels)), None)
    assert set(learner.predict(x)) <= {"neg", "pos"}
    assert list(learner.classes_) == ["neg", "pos"]


def test_regression_on_a_dataset_of_rows_with_a_tabular_learner():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(30, 4, generator=g)
    y = x.sum(1)
    learner = lrn("regr.mlp", epochs=2, random_state=0, device="cpu", validate=0.2).fit(TensorDataset(x, y), None)
    assert learner.predict(TensorDataset(x)).shape == (30,)
    assert "loss" in learner.model.internal_valid_scores


def test_validate_fraction_holds_out_a_stratified_share_of_the_dataset():
    x, y = images(40)
    seen = {}

    def on_begin(self):
        seen["train"], seen["valid"] = self.ctx.loader_train.n_rows, self.ctx.loader_valid.n_rows

    probe = torch_callback("rows_probe", on_begin=on_begin)
    learner = cnn(validate=0.25, callbacks=[probe]).fit(TensorDataset(x, y), None)
    assert seen == {"train": 30, "valid": 10}
    assert learner.model.internal_valid_scores is not None


@pytest.mark.parametrize("form", ["dataset", "pair", "array"])
def test_validation_data_takes_every_form(form):
    x, y = images()
    xv, yv = images(8, seed=1)
    given = {"dataset": TensorDataset(xv, yv), "pair": (Pairs(xv), yv.numpy()), "array": (xv.numpy(), yv)}[form]
    learner = cnn().fit(TensorDataset(x, y), None, validation_data=given)
    expected = learner.evaluate(xv, yv)["loss"]
    assert learner.model.internal_valid_scores["loss"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("workers", [0, 2])
def test_items_of_different_shapes_are_an_error_naming_them(workers):
    items = [(torch.zeros(C, H, H), 0), (torch.zeros(C, H, H), 1), (torch.zeros(C, H + 1, H), 0)]
    data = Pairs([i[0] for i in items], [i[1] for i in items])
    with pytest.raises(DataError, match=r"^Dataset items 0 and 2 .*\(2, 4, 4\) and \(2, 5, 4\)"):
        cnn(batch_size=3, shuffle=False, num_workers=workers).fit(data, None)


def test_a_tabular_learner_refuses_nd_arrays_and_datasets_of_images():
    x, y = images()
    with pytest.raises(DataError, match=r"takes 2-D tables.*shape \(24, 2, 4, 4\).*classif.module"):
        lrn("classif.mlp", epochs=1).fit(x.numpy(), y)
    with pytest.raises(DataError, match=r"Dataset of 1-D rows.*shape \(2, 4, 4\)"):
        lrn("classif.mlp", epochs=1).fit(TensorDataset(x, y), None)


# -- N-D arrays ---------------------------------------------------------------------------------
def test_numpy_and_tensor_images_train_alike_and_fill_n_features_with_the_channels():
    x, y = images()
    from_numpy = cnn().fit(x.numpy().astype(np.float64), y.numpy())
    from_tensor = cnn().fit(x, y)
    assert from_tensor.model.network.conv.in_channels == C
    assert same(weights(from_numpy), weights(from_tensor))


# -- dicts ----------------------------------------------------------------------------------------
def two_inputs(n=N):
    x, y = images(n)
    num = torch.randn(n, 3, generator=torch.Generator().manual_seed(2))
    return {"image": x, "num": num}, y


def test_dict_inputs_reach_forward_as_keywords_everywhere():
    """Training, validation, evaluate and predict all call network(**batch.x)."""
    X, y = two_inputs()
    seen = set()

    def record(self):
        seen.add((self.ctx.phase, tuple(sorted(self.ctx.batch.x))))

    probe = torch_callback("x_probe", on_batch_begin=record, on_batch_valid_begin=record,
                           on_predict_batch_begin=record)
    learner = lrn("classif.module", module=TwoInputs, epochs=1, random_state=0, device="cpu",
                  validate=0.25, callbacks=[probe]).fit(X, y)
    learner.evaluate(X, y)
    learner.predict(X)
    assert seen == {(phase, ("image", "num")) for phase in ("train", "evaluate", "predict")}


def test_a_dataset_of_dicts_trains_like_the_dict_in_memory():
    X, y = two_inputs()
    items = [({"image": X["image"][i], "num": X["num"][i]}, y[i]) for i in range(N)]
    args = dict(module=TwoInputs, epochs=2, batch_size=8, shuffle=False, random_state=0, device="cpu")
    on_dataset = lrn("classif.module", **args).fit(Pairs([i[0] for i in items], [i[1] for i in items]), None)
    in_memory = lrn("classif.module", **args).fit(X, y)
    assert same(weights(on_dataset), weights(in_memory))


def test_dict_entries_of_different_lengths_are_an_error_naming_them():
    X, y = two_inputs()
    X["num"] = X["num"][:-1]
    with pytest.raises(DataError, match=r"same number of rows.*'image': 24, 'num': 23"):
        lrn("classif.module", module=TwoInputs, epochs=1).fit(X, y)


def test_dict_keys_that_forward_does_not_take_are_an_error_listing_both():
    X, y = two_inputs()
    X["extra"] = X.pop("num")
    with pytest.raises(DataError, match=r"forward\(image, num\).*\['extra', 'image'\].*\['extra'\].*\['num'\]"):
        lrn("classif.module", module=TwoInputs, epochs=1, device="cpu").fit(X, y)


# -- module instances -------------------------------------------------------------------------------
def test_an_instance_is_copied_per_fit_so_fits_repeat_and_the_instance_stays():
    x, y = images()
    net = SmallCNN(C, 2)
    before = [p.detach().clone() for p in net.parameters()]
    learner = cnn(module=net)
    first = weights(learner.fit(x, y))
    second = weights(learner.fit(x, y))
    cloned = weights(clone(learner).fit(x, y))
    assert same(first, second) and same(first, cloned)
    assert same(before, list(net.parameters()))
    assert not same(before, first)


# -- ingress --------------------------------------------------------------------------------------
def frame(n=N):
    X, y = two_inputs(n)
    df = pd.DataFrame({"img": list(X["image"].numpy()), "a": X["num"][:, 0].numpy(),
                       "b": X["num"][:, 1].numpy(), "c": X["num"][:, 2].numpy()})
    df["y"] = np.array(["neg", "pos"])[y.numpy()]
    return df, X, y


INGRESS = {"image": ["img"], "num": ["a", "b", "c"]}


def test_ingress_builds_the_dict_from_task_columns_as_given_in_memory():
    df, X, y = frame()
    task = as_task_classif(df, target="y")
    args = dict(module=TwoInputs, epochs=2, batch_size=8, shuffle=False, random_state=0, device="cpu")
    from_task = lrn("classif.module", ingress=INGRESS, **args).train(task)
    from_dict = lrn("classif.module", **args).fit(X, np.array(["neg", "pos"])[y.numpy()])
    assert same(weights(from_task), weights(from_dict))
    prediction = from_task.predict(task)
    np.testing.assert_array_equal(prediction.response, from_dict.predict(X))
    np.testing.assert_array_equal(from_task.predict(df.drop(columns="y")), prediction.response)


def test_ingress_names_that_forward_does_not_take_are_a_parameter_error_listing_both():
    df, _, _ = frame()
    learner = lrn("classif.module", module=TwoInputs, epochs=1, device="cpu",
                  ingress={"image": ["img"], "numbers": ["a", "b", "c"]})
    with pytest.raises(ParameterError, match=r"forward\(image, num\).*ingress.*\['image', 'numbers'\]"):
        learner.train(as_task_classif(df, target="y"))


def test_ingress_columns_missing_from_the_data_are_named():
    df, _, _ = frame()
    learner = lrn("classif.module", module=TwoInputs, epochs=1, ingress={"image": ["img"], "num": ["a", "zz"]})
    with pytest.raises(DataError, match=r"\['zz'\] are not in the data"):
        learner.train(as_task_classif(df, target="y"))


# -- callbacks on the Dataset path ------------------------------------------------------------------
@pytest.mark.parametrize("key", builtin_keys())
def test_every_builtin_callback_runs_on_the_dataset_path(key, tmp_path):
    tc = builtin(key, tmp_path)
    missing = [p for p in tc.packages if importlib.util.find_spec(p) is None]
    if missing:
        pytest.skip(f"'{key}' needs {missing}, not installed")
    x, y = images()
    index_ok = []

    def on_batch_end(self):
        batch = self.ctx.batch
        index_ok.append(torch.equal(batch.y, y[batch.index]) and batch.x.shape[1:] == (C, H, H))

    probe = torch_callback("dataset_probe", on_batch_end=on_batch_end)
    learner = cnn(epochs=3, measures_valid=["classif.acc"], callbacks=[tc, probe])
    learner.fit(TensorDataset(x, y), None, validation_data=TensorDataset(*images(8, seed=1)))
    assert learner.model.epochs >= 1
    assert index_ok and all(index_ok)
    assert learner.predict(TensorDataset(x)).shape == (N,)
