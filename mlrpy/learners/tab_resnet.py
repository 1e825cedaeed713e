"""``classif.tab_resnet`` / ``regr.tab_resnet``: the ResNet for tabular data of Gorishniy et al.
(2021), "Revisiting Deep Learning Models for Tabular Data"."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from mlrpy.learners.base import LearnerTorch
from mlrpy.learners.classif import LearnerTorchClassif
from mlrpy.learners.common import COMMON_PARAMS_DOC, SHARED_CONSTRAINTS, store_params
from mlrpy.learners.constraints import Constraint, Interval, OneOf
from mlrpy.learners.features import FeatureInfo, TabularInput
from mlrpy.learners.registry import register_learner
from mlrpy.learners.regr import LearnerTorchRegr
from mlrpy.learners.tabular import (
    EMBEDDING_DIM_CONSTRAINT,
    EMBEDDING_DIM_DOC,
    TABULAR_FEATURE_TYPES,
    BatchNorm1d,
    exactly_one,
    input_layout,
)

__all__ = ["LearnerTorchClassifTabResNet", "LearnerTorchRegrTabResNet", "ResNetBlock", "TabResNet"]


class ResNetBlock(nn.Module):
    """``x + Dropout2(Linear(Dropout1(ReLU(Linear(BatchNorm(x))))))``, ``d_block`` wide.

    Example:
        >>> import torch
        >>> from mlrpy.learners.tab_resnet import ResNetBlock
        >>> ResNetBlock(d_block=4, d_hidden=8, dropout1=0.1, dropout2=0.0)(torch.ones(3, 4)).shape
        torch.Size([3, 4])
    """

    def __init__(self, d_block: int, d_hidden: int, dropout1: float, dropout2: float) -> None:
        super().__init__()
        self.normalization = BatchNorm1d(d_block)
        self.linear_first = nn.Linear(d_block, d_hidden)
        self.activation = nn.ReLU()
        self.dropout_first = nn.Dropout(dropout1)
        self.linear_second = nn.Linear(d_hidden, d_block)
        self.dropout_second = nn.Dropout(dropout2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.dropout_first(self.activation(self.linear_first(self.normalization(x))))
        return x + self.dropout_second(self.linear_second(z))


class TabResNet(nn.Module):
    """The tabular ResNet: input layer, ``Linear(d_in, d_block)``, residual blocks, head.

    The head is ``Linear(ReLU(BatchNorm(x)))``. ``d_in`` is the width after
    :class:`~mlrpy.learners.features.TabularInput` (numeric values plus the categorical
    embeddings).

    Example:
        >>> import torch
        >>> from mlrpy.learners.features import FeatureInfo
        >>> from mlrpy.learners.tab_resnet import TabResNet
        >>> net = TabResNet(FeatureInfo(["a"], ["b"], [3]), n_outputs=2, n_blocks=2, d_block=8,
        ...                 d_hidden=16, dropout1=0.0, dropout2=0.0, embedding_dim=2)
        >>> net(torch.tensor([[0.5, 2.0], [1.0, 1.0]])).shape
        torch.Size([2, 2])
    """

    def __init__(
        self,
        info: FeatureInfo,
        n_outputs: int,
        n_blocks: int,
        d_block: int,
        d_hidden: int,
        dropout1: float,
        dropout2: float,
        embedding_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.input = TabularInput(info, embedding_dim)
        self.first_layer = nn.Linear(self.input.out_features, d_block)
        self.blocks = nn.Sequential(
            *(ResNetBlock(d_block, d_hidden, dropout1, dropout2) for _ in range(n_blocks))
        )
        self.head = nn.Sequential(BatchNorm1d(d_block), nn.ReLU(), nn.Linear(d_block, n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.first_layer(self.input(x))))


class LearnerTorchTabResNet(LearnerTorch):
    feature_types: ClassVar[tuple[str, ...]] = TABULAR_FEATURE_TYPES
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        **SHARED_CONSTRAINTS,
        "n_blocks": Interval(int, 1),
        "d_block": Interval(int, 1),
        "d_hidden": OneOf([Interval(int, 1)], none_ok=True),
        "d_hidden_multiplier": OneOf([Interval(float, 0, closed="neither")], none_ok=True),
        "dropout1": Interval(float, 0, 1, closed="left"),
        "dropout2": Interval(float, 0, 1, closed="left"),
        "embedding_dim": EMBEDDING_DIM_CONSTRAINT,
    }
    __doc__ = f"""The ResNet for tabular data (Gorishniy et al. 2021, "Revisiting Deep Learning
    Models for Tabular Data").

    ``Linear(d_in, d_block)``, then ``n_blocks`` residual blocks
    ``x + Dropout2(Linear(Dropout1(ReLU(Linear(BatchNorm(x))))))`` whose inner layer is
    ``d_hidden`` wide, then the head ``Linear(ReLU(BatchNorm(x)))``. Categorical columns are
    embedded first. The paper tunes every architecture parameter; the defaults here are a
    small, moderately regularised network from the middle of its search space (``n_blocks``
    1-8, ``d_block`` 64-512, multiplier 1-4, dropouts 0-0.5).

    Architecture parameters:
        n_blocks: number of residual blocks (default 2).
        d_block: width of the residual stream (default 128).
        d_hidden: width of the inner layer of each block; exactly one of ``d_hidden`` and
            ``d_hidden_multiplier`` must be set (default ``None``).
        d_hidden_multiplier: the inner width as ``round(d_block * d_hidden_multiplier)``
            (default 2.0); set it to ``None`` to give ``d_hidden`` instead.
        dropout1: dropout after the block's ReLU (default 0.2).
        dropout2: dropout on the block's output, before the residual sum (default 0.0).
{EMBEDDING_DIM_DOC}
{COMMON_PARAMS_DOC}
    Example:
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("classif.tab_resnet", epochs=10, n_blocks=1, d_block=16,
        ...               random_state=1, **{{"opt.lr": 0.01}})
        >>> prediction = learner.train(tsk("iris")).predict(tsk("iris"))
        >>> prediction.score("classif.acc")["classif.acc"] > 0.8
        True
    """

    def __init__(
        self,
        *,
        n_blocks: int = 2,
        d_block: int = 128,
        d_hidden: int | None = None,
        d_hidden_multiplier: float | None = 2.0,
        dropout1: float = 0.2,
        dropout2: float = 0.0,
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

    def check_params(self) -> None:
        """Validate the parameters, including that exactly one hidden width is given.

        Example:
            >>> from mlrpy import lrn
            >>> lrn("classif.tab_resnet", d_hidden=64).check_params()  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            mlrpy.errors.ParameterError: Set exactly one of 'd_hidden' and 'd_hidden_multiplier', ...
        """
        super().check_params()
        exactly_one(("d_hidden", self.d_hidden), ("d_hidden_multiplier", self.d_hidden_multiplier))

    def hidden_width(self) -> int:
        """The inner width of each block: ``d_hidden`` or ``round(d_block * d_hidden_multiplier)``.

        Example:
            >>> from mlrpy import lrn
            >>> lrn("regr.tab_resnet", d_block=10, d_hidden_multiplier=1.25).hidden_width()
            12
        """
        exactly_one(("d_hidden", self.d_hidden), ("d_hidden_multiplier", self.d_hidden_multiplier))
        if self.d_hidden is not None:
            return int(self.d_hidden)
        return max(1, round(self.d_block * self.d_hidden_multiplier))

    def _build_network(self, n_features: int, n_outputs: int) -> torch.nn.Module:
        return TabResNet(
            input_layout(self, n_features),
            n_outputs,
            n_blocks=self.n_blocks,
            d_block=self.d_block,
            d_hidden=self.hidden_width(),
            dropout1=self.dropout1,
            dropout2=self.dropout2,
            embedding_dim=self.embedding_dim,
        )


@register_learner
class LearnerTorchClassifTabResNet(LearnerTorchClassif, LearnerTorchTabResNet):
    __doc__ = LearnerTorchTabResNet.__doc__  # type: ignore[assignment]
    _key: ClassVar[str] = "classif.tab_resnet"


@register_learner
class LearnerTorchRegrTabResNet(LearnerTorchRegr, LearnerTorchTabResNet):
    """``regr.tab_resnet``: the tabular ResNet for regression (parameters as ``classif.tab_resnet``).

    Example:
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("regr.tab_resnet", epochs=2, d_block=8, random_state=1)
        >>> learner.train(tsk("diabetes")).predict(tsk("diabetes")).response.shape
        (442,)
    """

    _key: ClassVar[str] = "regr.tab_resnet"
