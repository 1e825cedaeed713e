"""``classif.torchvision``: fine-tune a torchvision classification model on images.

``classif.resnet18`` and ``classif.mobilenet_v3_small`` are the same learner with the
architecture fixed. torchvision is imported when a network is built, not with mlrpy
(``pip install 'mlrpy[vision]'``). The family builds on the module learner, so it takes the
inputs a module learner takes.
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
from typing import Any, ClassVar

import torch
from torch import nn

from mlrpy.dictionary import suggest
from mlrpy.errors import DataError, ParameterError
from mlrpy.learners.classif import LearnerTorchClassif
from mlrpy.learners.common import COMMON_PARAMS_DOC, SHARED_CONSTRAINTS, store_params
from mlrpy.learners.constraints import AnyValue, Constraint, Interval, OneOf, is_path
from mlrpy.learners.module import LearnerTorchModule
from mlrpy.learners.registry import register_learner

__all__ = [
    "ImageClassifier",
    "LearnerTorchClassifMobileNetV3Small",
    "LearnerTorchClassifResNet18",
    "LearnerTorchClassifVision",
    "head_name",
    "load_pretrained",
    "replace_head",
    "torchvision_models",
]


def torchvision_models() -> Any:
    """The ``torchvision.models`` module, or an ``ImportError`` saying what to install.

    A torchvision wheel built for another torch fails to import with a ``RuntimeError``
    (``operator torchvision::nms does not exist``), not an ``ImportError``: both mean the
    same thing to a user, so both get the same message.
    """
    try:
        return importlib.import_module("torchvision").models
    except (ImportError, RuntimeError, AttributeError) as err:
        raise ImportError(
            f"classif.torchvision needs torchvision: pip install 'mlrpy[vision]', with a "
            f"torchvision build that matches the installed torch {torch.__version__} "
            f"(importing torchvision failed: {type(err).__name__}: {err})"
        ) from err


def head_name(model: nn.Module) -> str:
    """The name of the classification layer: ``fc`` (ResNets), ``classifier.<last>``
    (MobileNets, EfficientNets, ...), else the last ``nn.Linear`` the model registers."""
    if isinstance(getattr(model, "fc", None), nn.Linear):
        return "fc"
    classifier = getattr(model, "classifier", None)
    if isinstance(classifier, nn.Sequential) and len(classifier) and isinstance(classifier[-1], nn.Linear):
        return f"classifier.{len(classifier) - 1}"
    linears = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ParameterError(
            f"{type(model).__name__} has no nn.Linear classification layer to replace; "
            f"choose an architecture with a linear head"
        )
    return linears[-1]


def replace_head(model: nn.Module, n_outputs: int) -> nn.Module:
    """Replace the classification layer (:func:`head_name`) by a fresh ``nn.Linear`` with
    ``n_outputs`` outputs; returns ``model``.

    Example:
        >>> from torch import nn
        >>> from mlrpy.learners.vision import replace_head
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(8, 1000))
        >>> replace_head(net, 3)[1]
        Linear(in_features=8, out_features=3, bias=True)
    """
    name = head_name(model)
    old = model.get_submodule(name)
    assert isinstance(old, nn.Linear)
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, attr, nn.Linear(old.in_features, n_outputs, bias=old.bias is not None))
    return model


def _stem_channels(model: nn.Module) -> int | None:
    """The input channels of the first convolution, if the model starts with one."""
    for m in model.modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            return int(m.in_channels)
    return None


class ImageClassifier(nn.Module):
    """A torchvision model behind an input check: ``(n, c, h, w)`` images, or flattened rows
    of ``image_shape`` reshaped to them.

    Wrong channels, too few dimensions or an image too small for the architecture are a
    :class:`DataError` naming the shape, instead of a convolution's error deep inside torch.
    """

    def __init__(self, backbone: nn.Module, architecture: str, image_shape: tuple[int, ...] | None):
        super().__init__()
        self.backbone = backbone
        self.architecture = architecture
        self.image_shape = image_shape
        self.channels = _stem_channels(backbone)
        self._checked: tuple[int, ...] | None = None  # the image shape that passed once

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2 and self.image_shape is not None:
            x = x.reshape(len(x), *self.image_shape)
        shape = tuple(x.shape[1:])
        if shape == self._checked:
            return self.backbone(x)
        self._check(x)
        try:
            out = self.backbone(x)
        except RuntimeError as err:
            if isinstance(err, torch.OutOfMemoryError):
                raise
            raise DataError(
                f"images of shape {shape} (channels, height, width) do not fit architecture "
                f"'{self.architecture}'; they are probably too small for it. torch said: {err}"
            ) from err
        self._checked = shape
        return out

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 4:
            raise DataError(
                f"architecture '{self.architecture}' takes images of shape (n, channels, height, "
                f"width), got input of shape {tuple(x.shape)}; for flattened rows set "
                f"image_shape=(channels, height, width)"
            )
        if self.channels is not None and x.shape[1] != self.channels:
            raise DataError(
                f"architecture '{self.architecture}' takes {self.channels}-channel images, got "
                f"{x.shape[1]} channel(s) (input shape {tuple(x.shape)}); convert the images "
                f"(e.g. repeat a grey channel {self.channels} times)"
            )


def _load_state(path: Any) -> dict[str, torch.Tensor]:
    """A state dict from a local file: safetensors, or torch.save output (tensors only)."""
    path = os.path.expanduser(os.fspath(path))
    if not os.path.isfile(path):
        raise ParameterError(f"pretrained={path!r}: no such file (a local state-dict file is expected)")
    try:
        if path.endswith(".safetensors"):
            from safetensors.torch import load_file

            return load_file(path)
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ParameterError(f"pretrained={path!r} is not a readable state dict: {err}") from err
    if not isinstance(state, dict):
        raise ParameterError(f"pretrained={path!r} holds a {type(state).__name__}, not a state dict")
    return state


def load_pretrained(backbone: nn.Module, path: Any, architecture: str) -> None:
    """Load the weights in ``path`` into ``backbone``, whose head is already replaced.

    Head weights of another shape (ImageNet's 1000 classes) are skipped, so the new head
    starts fresh; any other missing, extra or mis-shaped weight is an error naming it.
    """
    state = _load_state(path)
    own = backbone.state_dict()
    skipped = {k for k, v in state.items() if k in own and own[k].shape != v.shape}
    head = head_name(backbone)
    wrong = sorted(k for k in skipped if k.rpartition(".")[0] != head)
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    if wrong or missing or extra:
        parts = [f"{what}: {', '.join(keys[:5])}{' ...' if len(keys) > 5 else ''}"
                 for what, keys in (("wrong shape", wrong), ("missing", missing), ("unexpected", extra))
                 if keys]
        raise ParameterError(
            f"pretrained={os.fspath(path)!r} does not hold weights of architecture "
            f"'{architecture}' ({'; '.join(parts)})"
        )
    backbone.load_state_dict({k: v for k, v in state.items() if k not in skipped}, strict=False)


class LearnerTorchVision(LearnerTorchModule):
    """The family behind ``classif.torchvision``: a module learner whose module is a
    torchvision model chosen by name (see :class:`LearnerTorchClassifVision`)."""

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        **SHARED_CONSTRAINTS,
        "architecture": AnyValue("a torchvision classification model name, e.g. 'resnet18'"),
        "pretrained": OneOf([], description="None or a path to a local state-dict file", none_ok=True,
                            extra=is_path),
        "image_shape": AnyValue("None or (channels, height, width)"),
    }
    #: pixel values (flattened rows with ``image_shape``) or lazy image columns; a
    #: categorical column has no place in an image
    feature_types: ClassVar[tuple[str, ...]] = ("numeric", "integer", "lazy_tensor")
    #: the module learner's network parameter, unused here: the network is the torchvision model
    module: Any = None

    def __init__(
        self,
        *,
        architecture: str = "resnet18",
        pretrained: str | os.PathLike[str] | None = None,
        image_shape: tuple[int, int, int] | None = None,
        epochs: int = 20,
        batch_size: int = 32,
        optimizer: Any = "adam",
        loss: Any = None,
        callbacks: Any = None,
        device: str | torch.device = "auto",
        num_threads: int | None = None,
        random_state: Any = None,
        shuffle: bool = True,
        eval_freq: int = 1,
        predict_type: str = "response",
        validate: Any = None,
        measures_train: Any = None,
        measures_valid: Any = None,
        patience: int = 0,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
        warm_start: bool = False,
        resume: Any = None,
        on_nonfinite: str = "raise",
        num_workers: int = 0,
        pin_memory: bool = False,
        drop_last: bool = False,
        batch_size_predict: int | None = None,
        strategy: str | None = None,
        devices: int = 1,
        backend: str | None = None,
    ) -> None:
        store_params(self, locals())

    def deep_descriptors(self) -> dict[str, Any]:
        return super(LearnerTorchModule, self).deep_descriptors()  # no module.<arg> parameters

    def _image_shape(self, n_features: int | None) -> tuple[int, int, int] | None:
        shape = self.image_shape
        if shape is None or n_features is None:  # None: image tensors, used as they come
            return None
        positive = Interval(int, 1)
        if not isinstance(shape, (tuple, list)) or len(shape) != 3 or not all(map(positive.accepts, shape)):
            raise ParameterError(
                f"'image_shape' must be (channels, height, width) of positive ints, got {shape!r}"
            )
        if math.prod(shape) != n_features:
            raise DataError(
                f"Learner '{self.id}': image_shape={tuple(shape)} has {math.prod(shape)} values per "
                f"image, but the rows have {n_features} features"
            )
        return (int(shape[0]), int(shape[1]), int(shape[2]))

    def _build_network(self, n_features: int | None, n_outputs: int) -> nn.Module:
        models = torchvision_models()
        available = list(models.list_models(module=models))
        if self.architecture not in available:
            raise ParameterError(
                f"Learner '{self.id}': architecture={self.architecture!r} is not a torchvision "
                f"classification model.{suggest(str(self.architecture), available)} Available: "
                f"{', '.join(available)}"
            )
        backbone = replace_head(models.get_model(self.architecture, weights=None), n_outputs)
        network = ImageClassifier(backbone, self.architecture, self._image_shape(n_features))
        shape = network.image_shape
        if shape is not None and network.channels is not None and shape[0] != network.channels:
            raise DataError(
                f"Learner '{self.id}': architecture '{self.architecture}' takes "
                f"{network.channels}-channel images, but image_shape={shape} has {shape[0]}"
            )
        return network

    def _init_network(self, network: nn.Module, y_train: torch.Tensor) -> None:
        # here and not in _build_network: loading a saved learner rebuilds the network
        # and must not need the pretrained file any more
        if self.pretrained is not None:
            assert isinstance(network, ImageClassifier)
            load_pretrained(network.backbone, self.pretrained, self.architecture)


_DOC = """Fine-tune a torchvision classification model on images (``pip install 'mlrpy[vision]'``).

    The model is built without downloading anything; its classification layer is replaced by
    one with an output per class (ResNets: ``fc``; MobileNets: ``classifier[-1]``; otherwise the
    last ``nn.Linear``). Input: images of shape ``(n, channels, height, width)``, or flattened
    rows with ``image_shape``. Images with other channels than the architecture's first
    convolution takes, or too small for it, are a ``DataError``.

    Architecture parameters:
{architecture}        pretrained: ``None`` (random initialisation) or a path to a local state-dict file
            (``torch.save`` output or ``.safetensors``) of the same architecture; a head of
            another shape (ImageNet's 1000 classes) is skipped and trained afresh. Online,
            write one from torchvision's weights enums, e.g.
            ``torch.save(torchvision.models.ResNet18_Weights.DEFAULT.get_state_dict(), path)``.
        image_shape: ``(channels, height, width)`` of flattened rows; ``None`` for image
            tensors ``(n, channels, height, width)``.
{common}
    Example:
        >>> from mlrpy import lrn
        >>> learner = lrn("{key}", epochs=1, image_shape=(3, 32, 32))
        >>> learner.get_params()["{param}"]
        {value}
    """

_ARCHITECTURE_DOC = """        architecture: a torchvision classification model name, e.g. ``"resnet18"``,
            ``"mobilenet_v3_small"`` (all: ``torchvision.models.list_models(module=torchvision.models)``).
"""


@register_learner
class LearnerTorchClassifVision(LearnerTorchClassif, LearnerTorchVision):
    __doc__ = _DOC.format(architecture=_ARCHITECTURE_DOC, common=COMMON_PARAMS_DOC, key="classif.torchvision",
                          param="architecture", value="'resnet18'")
    _key: ClassVar[str] = "classif.torchvision"


def _fixed_architecture(architecture: str, key: str, name: str) -> type:
    """``classif.torchvision`` with ``architecture`` fixed: the same parameters without it."""
    base = inspect.signature(LearnerTorchVision.__init__)
    signature = base.replace(parameters=[p for n, p in base.parameters.items() if n != "architecture"])

    def __init__(self: Any, **params: Any) -> None:
        bound = signature.bind(self, **params)
        bound.apply_defaults()
        store_params(self, dict(bound.arguments))

    __init__.__signature__ = signature  # type: ignore[attr-defined]  # what sklearn and lrn() read
    doc = _DOC.format(architecture="", common=COMMON_PARAMS_DOC, key=key, param="image_shape",
                      value="(3, 32, 32)")
    namespace = {"__init__": __init__, "_key": key, "architecture": architecture, "__doc__": doc,
                 "__module__": __name__, "__qualname__": name}
    return register_learner(type(name, (LearnerTorchClassifVision,), namespace))


LearnerTorchClassifResNet18 = _fixed_architecture(
    "resnet18", "classif.resnet18", "LearnerTorchClassifResNet18"
)
LearnerTorchClassifMobileNetV3Small = _fixed_architecture(
    "mobilenet_v3_small", "classif.mobilenet_v3_small", "LearnerTorchClassifMobileNetV3Small"
)
