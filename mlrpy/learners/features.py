"""How a table's columns reach the network: numeric values first, then categorical codes.

A table with categorical columns is still handed to the network as one float32 tensor (so the
in-memory batching stays one slice or gather per batch): the numeric columns come first, then
one column per categorical feature holding its integer level code. Code 0 is reserved for a
level not seen in training; a missing value is a level of its own. :class:`TabularInput` is the
first layer of every tabular network: it splits the tensor again and embeds each categorical
column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

__all__ = ["FeatureInfo", "TabularInput", "default_embedding_dim"]


@dataclass
class FeatureInfo:
    """The layout of the network's input tensor.

    Attributes:
        numeric: names of the numeric columns (numeric, integer and logical features), in the
            order of the tensor's first ``len(numeric)`` columns.
        categorical: names of the categorical columns (factor and ordered features), in the
            order of the remaining columns.
        cardinalities: for each categorical column, the number of codes, the reserved
            "unknown" code 0 included.

    Example:
        >>> from mlrpy.learners.features import FeatureInfo
        >>> info = FeatureInfo(["age"], ["colour"], [4])
        >>> info.n_numeric, info.n_features
        (1, 2)
    """

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    cardinalities: list[int] = field(default_factory=list)

    @property
    def n_numeric(self) -> int:
        return len(self.numeric)

    @property
    def n_features(self) -> int:
        return len(self.numeric) + len(self.categorical)

    @classmethod
    def all_numeric(cls, names: Sequence[str]) -> FeatureInfo:
        return cls(numeric=list(names))


def default_embedding_dim(cardinality: int) -> int:
    """A width that grows slowly with the number of levels: ``min(600, round(1.6 * n ** 0.56))``
    (fastai's rule of thumb), at least 1."""
    return max(1, min(600, round(1.6 * cardinality**0.56)))


class TabularInput(nn.Module):
    """Splits the input into numeric values and categorical codes and embeds the codes.

    The output is ``[numeric values, embedding of column 1, embedding of column 2, ...]``
    concatenated, ``out_features`` wide. Without categorical columns it returns its input
    unchanged, so a purely numeric table pays nothing.

    Args:
        info: the input layout.
        embedding_dim: width of every embedding, or ``None`` for
            :func:`default_embedding_dim` of each column's cardinality.

    Example:
        >>> import torch
        >>> from mlrpy.learners.features import FeatureInfo, TabularInput
        >>> layer = TabularInput(FeatureInfo(["a", "b"], ["c"], [5]), embedding_dim=3)
        >>> layer(torch.tensor([[0.5, 1.0, 2.0]])).shape
        torch.Size([1, 5])
    """

    def __init__(self, info: FeatureInfo, embedding_dim: int | None = None) -> None:
        super().__init__()
        self.n_numeric = info.n_numeric
        dims = [embedding_dim or default_embedding_dim(c) for c in info.cardinalities]
        self.embeddings = nn.ModuleList(nn.Embedding(c, d) for c, d in zip(info.cardinalities, dims))
        self.out_features = self.n_numeric + sum(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.embeddings:
            return x
        codes = x[:, self.n_numeric :].long()
        parts = [x[:, : self.n_numeric]]
        parts += [emb(codes[:, i]) for i, emb in enumerate(self.embeddings)]
        return torch.cat(parts, dim=1)
