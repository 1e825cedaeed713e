"""``classif.mlp`` / ``regr.mlp``: a multi-layer perceptron."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from mlrpy.errors import ParameterError
from mlrpy.learners.base import LearnerTorch
from mlrpy.learners.classif import LearnerTorchClassif
from mlrpy.learners.common import COMMON_PARAMS_DOC, SHARED_CONSTRAINTS, store_params
from mlrpy.learners.constraints import AnyValue, Constraint, Interval, OneOf
from mlrpy.learners.features import FeatureInfo, TabularInput
from mlrpy.learners.registry import register_learner
from mlrpy.learners.regr import LearnerTorchRegr
from mlrpy.learners.tabular import EMBEDDING_DIM_CONSTRAINT, EMBEDDING_DIM_DOC, input_layout

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "selu": nn.SELU,
    "silu": nn.SiLU,
}


def hidden_sizes(neurons: Any, n_layers: Any) -> list[int]:
    """Hidden layer widths from ``neurons`` (int or sequence) and ``n_layers``."""
    if n_layers is not None:
        if not isinstance(n_layers, numbers.Integral) or isinstance(n_layers, bool) or n_layers < 0:
            raise ParameterError(f"'n_layers' must be an integer >= 0 or None, got {n_layers!r}")
        if not isinstance(neurons, numbers.Integral):
            raise ParameterError(
                f"with 'n_layers' set, 'neurons' must be a single integer, got {neurons!r}"
            )
        sizes = [int(neurons)] * int(n_layers)
    elif isinstance(neurons, numbers.Integral):
        sizes = [int(neurons)]
    elif isinstance(neurons, Sequence) and not isinstance(neurons, str):
        sizes = list(neurons)
    else:
        raise ParameterError(f"'neurons' must be an integer or a sequence of them, got {neurons!r}")
    for n in sizes:
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise ParameterError(f"'neurons' must contain integers >= 1, got {neurons!r}")
    return [int(n) for n in sizes]


def activation_class(activation: Any) -> type[nn.Module]:
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            from mlrpy.dictionary import suggest

            raise ParameterError(
                f"Unknown activation {activation!r}.{suggest(activation, ACTIVATIONS)} "
                f"Valid: {', '.join(ACTIVATIONS)} or an nn.Module class"
            )
        return ACTIVATIONS[activation]
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation
    raise ParameterError(
        f"'activation' must be a name ({', '.join(ACTIVATIONS)}) or an nn.Module class, "
        f"got {activation!r}"
    )


def build_mlp(
    n_features: int,
    n_outputs: int,
    neurons: Any,
    n_layers: Any,
    p: float,
    activation: Any,
    info: FeatureInfo | None = None,
    embedding_dim: int | None = None,
) -> nn.Sequential:
    """Linear → activation → dropout for each hidden layer, then a linear output layer.

    With categorical columns in ``info``, a :class:`TabularInput` that embeds them comes
    first. A purely numeric input goes straight to the first linear layer, so its network
    (and its ``state_dict`` names: ``0.weight`` is the first layer's) is the plain MLP.

    Example:
        >>> from mlrpy.learners.features import FeatureInfo
        >>> from mlrpy.learners.mlp import build_mlp
        >>> net = build_mlp(3, 2, 8, None, 0.0, "relu", FeatureInfo(["a", "b"], ["c"], [4]), 5)
        >>> type(net[0]).__name__, net[1].in_features
        ('TabularInput', 7)
    """
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p < 1:
        raise ParameterError(f"'p' (dropout probability) must be in [0, 1), got {p!r}")
    act = activation_class(activation)
    layers: list[nn.Module] = []
    width = n_features
    if info is not None and info.categorical:
        tabular_input = TabularInput(info, embedding_dim)
        layers.append(tabular_input)
        width = tabular_input.out_features
    for size in hidden_sizes(neurons, n_layers):
        layers += [nn.Linear(width, size), act()]
        if p > 0:
            layers.append(nn.Dropout(p))
        width = size
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


class LearnerTorchMLP(LearnerTorch):
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        **SHARED_CONSTRAINTS,
        "neurons": AnyValue("an integer >= 1 or a sequence of them"),
        "n_layers": OneOf([Interval(int, 0)], none_ok=True),
        "p": Interval(float, 0, 1, closed="left"),
        "activation": AnyValue(f"a name ({', '.join(ACTIVATIONS)}) or an nn.Module class"),
        "embedding_dim": EMBEDDING_DIM_CONSTRAINT,
    }
    __doc__ = f"""A multi-layer perceptron for tabular data.

    Architecture parameters:
        neurons: width of each hidden layer: an int (one layer, or ``n_layers`` layers) or a
            sequence of ints; ``()`` gives a linear model.
        n_layers: when set, ``neurons`` (an int) is repeated this many times.
        p: dropout probability after each hidden activation.
        activation: ``"relu"``, ``"tanh"``, ``"gelu"``, ... or an ``nn.Module`` class.
{EMBEDDING_DIM_DOC}
{COMMON_PARAMS_DOC}
    Example:
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("classif.mlp", epochs=30, neurons=(32,), random_state=1,
        ...               **{{"opt.lr": 0.01}})
        >>> prediction = learner.train(tsk("iris")).predict(tsk("iris"))
        >>> prediction.score("classif.acc")["classif.acc"] > 0.8
        True
    """

    def __init__(
        self,
        *,
        neurons: int | Sequence[int] = (64, 64),
        n_layers: int | None = None,
        p: float = 0.0,
        activation: str | type[nn.Module] = "relu",
        embedding_dim: int | None = None,
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

    def _build_network(self, n_features: int, n_outputs: int) -> torch.nn.Module:
        return build_mlp(
            n_features,
            n_outputs,
            self.neurons,
            self.n_layers,
            self.p,
            self.activation,
            info=input_layout(self, n_features),
            embedding_dim=self.embedding_dim,
        )


@register_learner
class LearnerTorchClassifMLP(LearnerTorchClassif, LearnerTorchMLP):
    __doc__ = LearnerTorchMLP.__doc__  # type: ignore[assignment]
    _key: ClassVar[str] = "classif.mlp"


@register_learner
class LearnerTorchRegrMLP(LearnerTorchRegr, LearnerTorchMLP):
    """``regr.mlp``: the multi-layer perceptron for regression (parameters as ``classif.mlp``).

    Example:
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("regr.mlp", epochs=2, random_state=1).train(tsk("diabetes"))
        >>> learner.predict(tsk("diabetes")).response.shape
        (442,)
    """

    _key: ClassVar[str] = "regr.mlp"
