"""What the tabular network families (``mlp``, ``tab_resnet``, ``ft_transformer``, ``tabm``)
share: the feature types they accept, the ``embedding_dim`` parameter, the input layout they
are built from, and checks of parameters that depend on each other.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from mlrpy.errors import DataError, ParameterError
from mlrpy.learners.constraints import Interval, OneOf
from mlrpy.learners.features import FeatureInfo, default_embedding_dim

__all__ = [
    "EMBEDDING_DIM_CONSTRAINT",
    "EMBEDDING_DIM_DOC",
    "TABULAR_FEATURE_TYPES",
    "BatchNorm1d",
    "exactly_one",
    "feature_widths",
    "input_layout",
]

#: mlr3's names of the column types a tabular network takes (categorical ones are embedded)
TABULAR_FEATURE_TYPES = ("numeric", "integer", "logical", "factor", "ordered")

EMBEDDING_DIM_CONSTRAINT = OneOf([Interval(int, 1)], none_ok=True)

EMBEDDING_DIM_DOC = """\
        embedding_dim: width of the embedding of every categorical column; ``None`` (default)
            picks a width per column that grows slowly with its number of levels
            (``min(600, round(1.6 * n_levels ** 0.56))``). Numeric columns are not embedded."""


def input_layout(learner: Any, n_features: int) -> FeatureInfo:
    """The layout of the input tensor recorded by ``fit`` (``learner.feature_info_``).

    A learner without one (a network rebuilt from a file that did not store it) gets an
    all-numeric layout of ``n_features`` columns, which is what every such file holds.
    """
    info = getattr(learner, "feature_info_", None)
    if info is None:
        return FeatureInfo.all_numeric([f"x{i}" for i in range(n_features)])
    if info.n_features != n_features:
        raise DataError(
            f"Learner '{learner.id}': the input layout has {info.n_features} columns "
            f"({info.n_numeric} numeric, {len(info.categorical)} categorical) but the data has "
            f"{n_features}"
        )
    return info


def feature_widths(info: FeatureInfo, embedding_dim: int | None) -> list[int]:
    """How many columns each feature occupies after :class:`TabularInput`, in its order."""
    dims = [embedding_dim or default_embedding_dim(c) for c in info.cardinalities]
    return [1] * info.n_numeric + dims


def exactly_one(first: tuple[str, Any], second: tuple[str, Any]) -> None:
    """Raise :class:`ParameterError` unless exactly one of two alternative parameters is set.

    Example:
        >>> from mlrpy.learners.tabular import exactly_one
        >>> exactly_one(("d_hidden", 64), ("d_hidden_multiplier", 2.0))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        mlrpy.errors.ParameterError: Set exactly one of ... to use 'd_hidden', set d_hidden_multiplier=None
    """
    (name_a, a), (name_b, b) = first, second
    if (a is None) == (b is None):
        hint = f"; to use '{name_a}', set {name_b}=None" if a is not None else ""
        raise ParameterError(
            f"Set exactly one of '{name_a}' and '{name_b}', got {name_a}={a!r} and {name_b}={b!r}{hint}"
        )


class BatchNorm1d(nn.BatchNorm1d):
    """``torch.nn.BatchNorm1d`` that also trains on a batch of a single row.

    The last mini-batch of an epoch can hold one row, whose variance torch's batch norm
    cannot estimate (it raises). Such a batch is normalised with the running statistics
    instead, as in evaluation; the running statistics are left unchanged by it.
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if self.training and input.shape[0] == 1 and self.running_mean is not None:
            return F.batch_norm(
                input, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
            )
        return super().forward(input)
