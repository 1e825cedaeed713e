"""``classif.torchvision`` and its fixed-architecture keys.

torchvision is optional and, where a wheel built for another torch is installed, fails to
import with a RuntimeError; so almost everything here runs against a tiny fake torchvision
put into ``sys.modules``, and the tests with the real package skip when it does not import.
"""

from __future__ import annotations

import importlib.abc
import sys
import types

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from sklearn.base import clone
from torch import nn

import mlrpy
from mlrpy import DataError, ParameterError, UnknownKeyError, lrn
from mlrpy.learners.vision import ImageClassifier, replace_head, torchvision_models

IMAGE = (3, 6, 6)


def real_torchvision_or_skip():
    """The real ``torchvision.models``; skips the test when torchvision does not import
    (``pytest.importorskip`` lets a RuntimeError from a mismatched build through)."""
    try:
        import torchvision
    except (ImportError, RuntimeError) as err:
        pytest.skip(f"torchvision does not import here ({type(err).__name__}: {err})")
    return torchvision.models


# -- a fake torchvision --------------------------------------------------------------------


class TinyResNet(nn.Module):
    """Conv stem, pooling and an ``fc`` head, like a ResNet; 3x3 convolution without
    padding, so a 2x2 image is too small."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, kernel_size=3)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(torch.relu(self.conv1(x))).flatten(1))


class TinyMobileNet(nn.Module):
    """A ``classifier`` Sequential whose last layer is the head, like a MobileNet."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1000))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class TinyViT(nn.Module):
    """A head neither ``fc`` nor ``classifier``: the last ``nn.Linear`` (``heads.head``)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.heads = nn.Sequential()
        self.heads.add_module("head", nn.Linear(4, 1000))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.heads(self.stem(x).mean(dim=(2, 3)))


FAKE_MODELS = {"resnet18": TinyResNet, "mobilenet_v3_small": TinyMobileNet, "vit_tiny": TinyViT}


@pytest.fixture
def fake_torchvision(monkeypatch):
    models = types.ModuleType("torchvision.models")

    def get_model(name, weights=None):
        assert weights is None, "mlrpy never asks torchvision for weights (no downloads)"
        return FAKE_MODELS[name]()

    models.get_model = get_model
    models.list_models = lambda module=None: sorted(FAKE_MODELS)
    package = types.ModuleType("torchvision")
    package.models = models
    monkeypatch.setitem(sys.modules, "torchvision", package)
    monkeypatch.setitem(sys.modules, "torchvision.models", models)
    return models


def images(n: int = 12, shape=IMAGE, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Flattened images whose class is visible in the mean brightness."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    X = rng.normal(size=(n, *shape)).astype(np.float32) + y[:, None, None, None]
    return X.reshape(n, -1), y


def vision(key: str = "classif.torchvision", **kw):
    kw = {"epochs": 1, "batch_size": 4, "random_state": 0, "device": "cpu", "image_shape": IMAGE, **kw}
    return lrn(key, **kw)


# -- head, training, prediction ------------------------------------------------------------


@pytest.mark.parametrize(
    ("architecture", "head"),
    [("resnet18", "fc"), ("mobilenet_v3_small", "classifier.2"), ("vit_tiny", "heads.head")],
)
def test_head_is_replaced_by_one_output_per_class(fake_torchvision, architecture, head):
    X, y = images()
    learner = vision(architecture=architecture).fit(X, y)
    backbone = learner.model.network.backbone
    assert backbone.get_submodule(head).out_features == 3
    assert sum(m.out_features == 1000 for m in backbone.modules() if isinstance(m, nn.Linear)) == 0
    assert learner.predict_proba(X).shape == (12, 3)
    assert set(learner.predict(X)) <= {0, 1, 2}


def test_fixed_architecture_keys_build_their_model_and_have_no_architecture_parameter(fake_torchvision):
    X, y = images()
    for key, cls in (("classif.resnet18", TinyResNet), ("classif.mobilenet_v3_small", TinyMobileNet)):
        learner = vision(key)
        assert "architecture" not in learner.get_params()
        with pytest.raises(UnknownKeyError, match="architecture"):
            learner.set_params(architecture="vit_tiny")
        assert isinstance(clone(learner).fit(X, y).model.network.backbone, cls)


def test_fixed_and_general_keys_train_the_same_model(fake_torchvision):
    X, y = images()
    fixed = vision("classif.resnet18").fit(X, y)
    general = vision(architecture="resnet18").fit(X, y)
    np.testing.assert_array_equal(fixed.predict_proba(X), general.predict_proba(X))


def test_unknown_architecture_names_the_available_ones(fake_torchvision):
    X, y = images()
    with pytest.raises(ParameterError, match=r"'resnet81' is not a torchvision .*resnet18"):
        vision(architecture="resnet81").fit(X, y)


def test_trained_learner_saves_and_loads(fake_torchvision, tmp_path):
    X, y = images()
    learner = vision("classif.resnet18").fit(X, y)
    learner.save(tmp_path / "m.mlrpy")
    loaded = mlrpy.load(tmp_path / "m.mlrpy")
    assert type(loaded) is type(learner)
    np.testing.assert_array_equal(loaded.predict_proba(X), learner.predict_proba(X))


# -- pretrained weights from a local file --------------------------------------------------


@pytest.mark.parametrize("fmt", ["torch", "safetensors"])
def test_pretrained_weights_are_loaded_and_the_head_starts_fresh(fake_torchvision, tmp_path, fmt):
    X, y = images()
    torch.manual_seed(7)
    state = TinyResNet().state_dict()  # an "ImageNet" model: 1000 outputs
    path = tmp_path / f"weights.{'pt' if fmt == 'torch' else 'safetensors'}"
    torch.save(state, path) if fmt == "torch" else save_file(state, str(path))
    learner = vision("classif.resnet18", pretrained=str(path), epochs=0).fit(X, y)
    backbone = learner.model.network.backbone
    torch.testing.assert_close(backbone.conv1.weight, state["conv1.weight"])
    assert backbone.fc.out_features == 3
    # the saved learner no longer needs the file
    learner.save(tmp_path / "m.mlrpy")
    path.unlink()
    np.testing.assert_array_equal(mlrpy.load(tmp_path / "m.mlrpy").predict_proba(X), learner.predict_proba(X))


def test_pretrained_weights_of_another_architecture_are_refused_naming_the_keys(fake_torchvision, tmp_path):
    X, y = images()
    path = tmp_path / "mobilenet.pt"
    torch.save(TinyMobileNet().state_dict(), path)
    learner = vision("classif.resnet18", pretrained=path)
    with pytest.raises(ParameterError, match=r"not hold weights of architecture 'resnet18'.*missing: conv1"):
        learner.fit(X, y)
    assert not hasattr(learner, "model_")  # a failed fit leaves the learner unfitted


def test_missing_pretrained_file_is_named(fake_torchvision, tmp_path):
    X, y = images()
    with pytest.raises(ParameterError, match="no such file"):
        vision(pretrained=str(tmp_path / "nope.pt")).fit(X, y)


# -- input checks --------------------------------------------------------------------------


def test_channel_mismatch_is_a_data_error(fake_torchvision):
    X, y = images(shape=(1, 6, 6))
    with pytest.raises(DataError, match=r"takes 3-channel images, but image_shape=\(1, 6, 6\) has 1"):
        vision(image_shape=(1, 6, 6)).fit(X, y)
    network = ImageClassifier(TinyResNet(), "resnet18", None)
    with pytest.raises(DataError, match=r"takes 3-channel images, got 1 channel\(s\)"):
        network(torch.zeros(2, 1, 6, 6))


def test_image_too_small_for_the_architecture_is_a_data_error(fake_torchvision):
    X, y = images(shape=(3, 2, 2))
    with pytest.raises(DataError, match=r"shape \(3, 2, 2\) .*too small"):
        vision(image_shape=(3, 2, 2)).fit(X, y)


@pytest.mark.parametrize("shape", [(3, 6), (3, 6, 0), (3.0, 6, 6), (True, 6, 6), 108])
def test_image_shape_must_be_three_positive_ints(fake_torchvision, shape):
    X, y = images()
    with pytest.raises(ParameterError, match=r"'image_shape' must be \(channels, height, width\)"):
        vision(image_shape=shape).fit(X, y)


def test_flat_rows_need_a_matching_image_shape(fake_torchvision):
    X, y = images()
    with pytest.raises(DataError, match="image_shape=.* has 75 values per image, but the rows have 108"):
        vision(image_shape=(3, 5, 5)).fit(X, y)
    with pytest.raises(DataError, match=r"set image_shape=\(channels, height, width\)"):
        lrn("classif.torchvision", epochs=1, device="cpu").fit(X, y)


def test_image_tensors_pass_through_unchanged():
    network = ImageClassifier(replace_head(TinyResNet(), 3), "resnet18", None)
    x = torch.randn(2, *IMAGE)
    torch.testing.assert_close(network(x), network.backbone(x))
    torch.testing.assert_close(network(x), network(x))  # the checked shape takes the fast path


# -- importing torchvision -----------------------------------------------------------------


class _BrokenTorchvision(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``torchvision`` as a CUDA wheel next to a CPU torch does."""

    def find_spec(self, name, path, target=None):
        if name == "torchvision":
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        raise RuntimeError("operator torchvision::nms does not exist")


def test_a_torchvision_build_for_another_torch_gives_an_install_hint(monkeypatch):
    monkeypatch.delitem(sys.modules, "torchvision", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_BrokenTorchvision(), *sys.meta_path])
    X, y = images()
    with pytest.raises(ImportError, match=r"pip install 'mlrpy\[vision\]'.*matches the installed torch.*nms"):
        vision().fit(X, y)


def test_missing_torchvision_gives_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)
    with pytest.raises(ImportError, match=r"pip install 'mlrpy\[vision\]'"):
        torchvision_models()


# -- the real torchvision, where it imports ------------------------------------------------


def test_real_resnet18_trains_on_small_images(tmp_path):
    models = real_torchvision_or_skip()
    assert {"resnet18", "mobilenet_v3_small"} <= set(models.list_models(module=models))
    X, y = images(n=8, shape=(3, 32, 32))
    path = tmp_path / "resnet18.pt"
    torch.save(models.get_model("resnet18", weights=None).state_dict(), path)
    learner = lrn("classif.resnet18", epochs=1, batch_size=4, random_state=0, device="cpu",
                  image_shape=(3, 32, 32), pretrained=str(path)).fit(X, y)
    assert learner.model.network.backbone.fc.out_features == 3
    assert learner.predict_proba(X).shape == (8, 3)
