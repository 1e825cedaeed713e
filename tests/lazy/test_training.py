"""Networks trained on lazy tensor columns: the DataLoader path reads elements batch by batch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from mlrpy import DataError, as_lazy_tensor, as_task_classif, lrn, msr, resample, rsmp, tsk


class SmallCNN(nn.Module):
    def __init__(self, n_features: int, n_outputs: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(n_features, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(8 * 4 * 4, n_outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TwoInputs(nn.Module):
    """A network with an image input and a vector input."""

    def __init__(self, n_outputs: int = 3) -> None:
        super().__init__()
        self.image = nn.Linear(4, 8)
        self.num = nn.Linear(1, 8)
        self.head = nn.Linear(16, n_outputs)

    def forward(self, x: torch.Tensor, num: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.image(x), self.num(num)], dim=1))


class IrisNet(nn.Module):
    def __init__(self, n_features: int, n_outputs: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


def shift(image: torch.Tensor) -> torch.Tensor:
    """A random shift by at most one pixel: an augmentation on one element."""
    dy, dx = torch.randint(-1, 2, (2,)).tolist()
    return torch.roll(image, shifts=(dy, dx), dims=(1, 2))


def learner(**params):
    defaults = {"module": SmallCNN, "epochs": 4, "batch_size": 32, "random_state": 0, "opt.lr": 0.01}
    return lrn("classif.module", **{**defaults, **params})


@pytest.fixture(scope="module")
def digits():
    task = tsk("digits_images")
    return task.filter(list(range(600)))


def accuracy(learner_, task) -> float:
    return learner_.predict(task).score(msr("classif.acc"))["classif.acc"]


def test_a_cnn_learns_digits_from_an_augmented_lazy_column_by_train_and_by_fit(digits):
    data = digits.data()
    augmented = data.assign(image=data["image"].array.map(shift))
    task = as_task_classif(augmented, target="class", id="digits_aug")
    by_task = learner().train(task)
    assert accuracy(by_task, digits) > 0.8
    by_fit = learner().fit(augmented["image"].array, augmented["class"].to_numpy())
    assert (by_fit.predict(data["image"].array) == digits.truth()).mean() > 0.8
    # the same seed draws the same augmentations: identical networks either way
    for a, b in zip(by_task.model.network.parameters(), by_fit.model.network.parameters()):
        assert torch.equal(a, b)


def test_elements_are_loaded_batch_by_batch_not_all_up_front():
    loads: list[int] = []

    class Counting(torch.utils.data.Dataset):
        def __len__(self):
            return 40

        def __getitem__(self, i):
            loads.append(i)
            return torch.full((4,), float(i % 2))

    df = pd.DataFrame({"x": as_lazy_tensor(Counting()), "y": ["a", "b"] * 20})
    task = as_task_classif(df, target="y")
    assert loads == []
    mlp = nn.Sequential(nn.Linear(4, 2))
    lrn("classif.module", module=mlp, epochs=3, batch_size=8, random_state=0).train(task)
    # every row once an epoch, plus the first row read once for the network's width
    assert sorted(set(loads)) == list(range(40)) and len(loads) <= 3 * 40 + 2


def test_resampling_a_lazy_task_trains_and_scores_each_fold():
    mlp = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    lrn_ = lrn("classif.module", module=mlp, epochs=30, batch_size=16, random_state=0, **{"opt.lr": 0.01})
    result = resample(tsk("lazy_iris"), lrn_, rsmp("cv", folds=2))
    assert result.aggregate(msr("classif.acc"))["classif.acc"] > 0.8


def test_several_lazy_columns_or_an_ingress_call_the_network_with_named_inputs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 4)).astype(np.float32)
    num = rng.normal(size=(30, 1)).astype(np.float32)
    y = np.array(["a", "b", "c"] * 10)
    both_lazy = pd.DataFrame({"x": as_lazy_tensor(x), "num": as_lazy_tensor(num), "y": y})
    trained = lrn("classif.module", module=TwoInputs, epochs=2, random_state=0).train(
        as_task_classif(both_lazy, target="y")
    )
    assert trained.predict(both_lazy[["x", "num"]]).shape == (30,)
    mixed = pd.DataFrame({"pixels": as_lazy_tensor(x), "age": num[:, 0].astype(np.float64), "y": y})
    ingress = {"x": ["pixels"], "num": ["age"]}
    trained = lrn("classif.module", module=TwoInputs, ingress=ingress, epochs=2, random_state=0)
    trained.train(as_task_classif(mixed, target="y"))
    assert trained.predict(as_task_classif(mixed, target="y")).response.shape == (30,)


def test_lazy_and_plain_columns_without_an_ingress_are_refused_naming_the_plain_ones():
    df = pd.DataFrame({"x": as_lazy_tensor(np.ones((6, 4))), "age": np.arange(6.0), "y": ["a", "b"] * 3})
    with pytest.raises(DataError, match=r"columns \['age'\] are not lazy tensors.*ingress"):
        lrn("classif.module", module=nn.Linear(4, 2), epochs=1).train(as_task_classif(df, target="y"))


def test_a_missing_element_is_a_data_error_naming_the_column():
    lt = as_lazy_tensor(np.ones((6, 4), dtype=np.float32)).take([0, 1, 2, 3, 4, -1], allow_fill=True)
    df = pd.DataFrame({"x": lt, "y": ["a", "b"] * 3})
    with pytest.raises(DataError, match=r"column 'x' has missing values at positions \[5\]"):
        lrn("classif.module", module=nn.Linear(4, 2), epochs=1).train(as_task_classif(df, target="y"))


def test_callbacks_see_the_task_and_validation_evaluation_and_save_load_work(tmp_path):
    import mlrpy

    seen = []
    spy = mlrpy.torch_callback("spy", on_begin=lambda self: seen.append(self.ctx.task_train))
    task = tsk("lazy_iris")
    trained = lrn("classif.module", module=IrisNet, epochs=2, callbacks=[spy], random_state=0).train(task)
    assert [(t.id, t.nrow, t.feature_names) for t in seen] == [("lazy_iris", 150, ["x"])]
    assert set(trained.evaluate(task, measures=["classif.acc"])) >= {"classif.acc"}
    held_out = lrn("classif.module", module=IrisNet, epochs=2, validate=0.2, measures_valid=["classif.acc"],
                   callbacks=["history"], random_state=0).train(task)
    assert len(held_out.model.callbacks["history"]["valid.classif.acc"]) == 2
    held_out.save(tmp_path / "lazy.pt")
    restored = mlrpy.load(tmp_path / "lazy.pt", trusted=[IrisNet])
    assert (restored.predict(task).response == held_out.predict(task).response).all()


def test_random_maps_repeat_under_random_state_with_worker_processes():
    task = tsk("lazy_iris")
    data = task.data()
    noisy = data.assign(x=data["x"].array.map(lambda x: x + 0.1 * torch.randn_like(x)))
    noisy_task = as_task_classif(noisy, target="class")

    def weights(workers: int) -> list[torch.Tensor]:
        learner = lrn("classif.module", module=IrisNet, epochs=2, batch_size=50, num_workers=workers, random_state=3)
        return [p.detach().clone() for p in learner.train(noisy_task).model.network.parameters()]

    first, again = weights(2), weights(2)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
