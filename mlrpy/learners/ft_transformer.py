"""``classif.ft_transformer`` / ``regr.ft_transformer``: the Feature Tokenizer + Transformer of
Gorishniy et al. (2021), "Revisiting Deep Learning Models for Tabular Data"."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import nn

from mlrpy.errors import ParameterError
from mlrpy.learners.base import LearnerTorch
from mlrpy.learners.classif import LearnerTorchClassif
from mlrpy.learners.common import COMMON_PARAMS_DOC, SHARED_CONSTRAINTS, store_params
from mlrpy.learners.constraints import Constraint, Interval, OneOf, Options
from mlrpy.learners.features import FeatureInfo
from mlrpy.learners.registry import register_learner
from mlrpy.learners.regr import LearnerTorchRegr
from mlrpy.learners.tabular import TABULAR_FEATURE_TYPES, exactly_one, input_layout

__all__ = [
    "FTTransformer",
    "FeatureTokenizer",
    "LearnerTorchClassifFTTransformer",
    "LearnerTorchRegrFTTransformer",
    "ReGLU",
    "TransformerLayer",
]

TOKEN_INITS = ("uniform", "normal")


def init_token_(tensor: torch.Tensor, d_token: int, init_token: str) -> None:
    """rtdl's token initialisation: uniform in ``±1/sqrt(d_token)`` or normal with that std."""
    bound = 1 / math.sqrt(d_token)
    if init_token == "uniform":
        nn.init.uniform_(tensor, -bound, bound)
    else:
        nn.init.normal_(tensor, std=bound)


class FeatureTokenizer(nn.Module):
    """One ``d_token`` wide token per feature, in the input's order, plus the [CLS] token last.

    Numeric feature ``j`` becomes ``x_j * W_j + b_j``; categorical feature ``j`` becomes the
    embedding of its level code plus a bias ``b_j`` of its own.

    Example:
        >>> import torch
        >>> from mlrpy.learners.features import FeatureInfo
        >>> from mlrpy.learners.ft_transformer import FeatureTokenizer
        >>> tokenizer = FeatureTokenizer(FeatureInfo(["a", "b"], ["c"], [4]), d_token=8)
        >>> tokenizer(torch.tensor([[0.5, -1.0, 3.0]])).shape  # 3 features + [CLS]
        torch.Size([1, 4, 8])
    """

    category_offsets: torch.Tensor

    def __init__(self, info: FeatureInfo, d_token: int, init_token: str = "uniform") -> None:
        super().__init__()
        self.n_numeric = info.n_numeric
        self.numeric_weight: nn.Parameter | None = None
        self.numeric_bias: nn.Parameter | None = None
        self.categorical_embeddings: nn.Embedding | None = None
        self.categorical_bias: nn.Parameter | None = None
        tensors: list[torch.Tensor] = []
        if info.n_numeric:
            self.numeric_weight = nn.Parameter(torch.empty(info.n_numeric, d_token))
            self.numeric_bias = nn.Parameter(torch.empty(info.n_numeric, d_token))
            tensors += [self.numeric_weight, self.numeric_bias]
        cardinalities = list(info.cardinalities)
        if cardinalities:
            self.categorical_embeddings = nn.Embedding(sum(cardinalities), d_token)
            self.categorical_bias = nn.Parameter(torch.empty(len(cardinalities), d_token))
            tensors += [self.categorical_embeddings.weight, self.categorical_bias]
            # one embedding table for all columns: column j's codes follow those of columns < j
            offsets = torch.tensor([0, *cardinalities[:-1]], dtype=torch.long).cumsum(0)
            self.register_buffer("category_offsets", offsets, persistent=False)
        self.cls_token = nn.Parameter(torch.empty(d_token))
        for tensor in [*tensors, self.cls_token]:
            init_token_(tensor, d_token, init_token)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = []
        if self.numeric_weight is not None and self.numeric_bias is not None:
            tokens.append(torch.addcmul(self.numeric_bias, self.numeric_weight, x[:, : self.n_numeric, None]))
        if self.categorical_embeddings is not None and self.categorical_bias is not None:
            codes = x[:, self.n_numeric :].long() + self.category_offsets
            tokens.append(self.categorical_embeddings(codes) + self.categorical_bias)
        tokens.append(self.cls_token.expand(x.shape[0], 1, -1))
        return torch.cat(tokens, dim=1)


class ReGLU(nn.Module):
    """``a * relu(b)`` for the two halves ``a``, ``b`` of the last dimension."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=-1)
        return a * torch.relu(b)


class TransformerLayer(nn.Module):
    """A pre-norm Transformer layer: attention and a ReGLU feed-forward net, each residual.

    ``first=True`` drops the attention's LayerNorm (the tokens come straight from the
    tokenizer); ``cls_only=True`` (the last layer) computes only the [CLS] token, the only
    one the head reads.
    """

    def __init__(
        self,
        d_token: int,
        attention_n_heads: int,
        attention_dropout: float,
        ffn_d_hidden: int,
        ffn_dropout: float,
        residual_dropout: float,
        first: bool = False,
        cls_only: bool = False,
    ) -> None:
        super().__init__()
        self.attention_normalization: nn.Module = nn.Identity() if first else nn.LayerNorm(d_token)
        # torch's attention initialises Q, K, V and the output projection as rtdl does
        self.attention = nn.MultiheadAttention(
            d_token, attention_n_heads, dropout=attention_dropout, batch_first=True
        )
        self.ffn_normalization = nn.LayerNorm(d_token)
        self.ffn = nn.Sequential(
            nn.Linear(d_token, 2 * ffn_d_hidden),
            ReGLU(),
            nn.Dropout(ffn_dropout),
            nn.Linear(ffn_d_hidden, d_token),
        )
        self.residual_dropout = nn.Dropout(residual_dropout)
        self.cls_only = cls_only

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.attention_normalization(x)
        query = z[:, -1:] if self.cls_only else z
        z, _ = self.attention(query, z, z, need_weights=False)
        if self.cls_only:
            x = x[:, -1:]
        x = x + self.residual_dropout(z)
        return x + self.residual_dropout(self.ffn(self.ffn_normalization(x)))


class FTTransformer(nn.Module):
    """Feature tokenizer, ``n_blocks`` Transformer layers, head ``Linear(ReLU(LayerNorm(cls)))``.

    Example:
        >>> import torch
        >>> from mlrpy.learners.features import FeatureInfo
        >>> from mlrpy.learners.ft_transformer import FTTransformer
        >>> net = FTTransformer(FeatureInfo(["a"], ["b"], [3]), n_outputs=2, n_blocks=1,
        ...                     d_token=8, attention_n_heads=2, attention_dropout=0.0,
        ...                     ffn_d_hidden=8, ffn_dropout=0.0, residual_dropout=0.0)
        >>> net(torch.tensor([[0.5, 2.0], [1.0, 1.0]])).shape
        torch.Size([2, 2])
    """

    def __init__(
        self,
        info: FeatureInfo,
        n_outputs: int,
        n_blocks: int,
        d_token: int,
        attention_n_heads: int,
        attention_dropout: float,
        ffn_d_hidden: int,
        ffn_dropout: float,
        residual_dropout: float,
        init_token: str = "uniform",
    ) -> None:
        super().__init__()
        self.tokenizer = FeatureTokenizer(info, d_token, init_token)
        self.layers = nn.Sequential(
            *(
                TransformerLayer(
                    d_token,
                    attention_n_heads,
                    attention_dropout,
                    ffn_d_hidden,
                    ffn_dropout,
                    residual_dropout,
                    first=i == 0,
                    cls_only=i == n_blocks - 1,
                )
                for i in range(n_blocks)
            )
        )
        self.head = nn.Sequential(nn.LayerNorm(d_token), nn.ReLU(), nn.Linear(d_token, n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.layers(self.tokenizer(x))[:, -1])


class LearnerTorchFTTransformer(LearnerTorch):
    feature_types: ClassVar[tuple[str, ...]] = TABULAR_FEATURE_TYPES
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        **SHARED_CONSTRAINTS,
        "n_blocks": Interval(int, 1),
        "d_token": Interval(int, 1),
        "attention_n_heads": Interval(int, 1),
        "attention_dropout": Interval(float, 0, 1, closed="left"),
        "ffn_d_hidden": OneOf([Interval(int, 1)], none_ok=True),
        "ffn_d_hidden_multiplier": OneOf([Interval(float, 0, closed="neither")], none_ok=True),
        "ffn_dropout": Interval(float, 0, 1, closed="left"),
        "residual_dropout": Interval(float, 0, 1, closed="left"),
        "init_token": Options(TOKEN_INITS),
    }
    __doc__ = f"""The FT-Transformer (Gorishniy et al. 2021, "Revisiting Deep Learning Models for
    Tabular Data").

    Every feature becomes a token (numeric ``x_j * W_j + b_j``, categorical: an embedding of
    its level plus a bias), a [CLS] token is appended, ``n_blocks`` pre-norm Transformer
    layers follow (the first without its first LayerNorm, as in the paper), each with
    multi-head attention and a ReGLU feed-forward net, and the head
    ``Linear(ReLU(LayerNorm(.)))`` reads the [CLS] token. The defaults are the paper's
    default configuration; the paper trains it with AdamW (``lr=1e-4``,
    ``weight_decay=1e-5``), e.g. ``optimizer=t_opt("adamw", lr=1e-4, weight_decay=1e-5)``.

    Architecture parameters:
        n_blocks: number of Transformer layers (default 3).
        d_token: width of every token (default 192); a multiple of ``attention_n_heads``.
        attention_n_heads: number of attention heads (default 8).
        attention_dropout: dropout on the attention probabilities (default 0.2).
        ffn_d_hidden: hidden width of the feed-forward net; exactly one of ``ffn_d_hidden``
            and ``ffn_d_hidden_multiplier`` must be set (default ``None``).
        ffn_d_hidden_multiplier: the hidden width as ``round(d_token * multiplier)``
            (default 4/3); set it to ``None`` to give ``ffn_d_hidden`` instead.
        ffn_dropout: dropout after the ReGLU of the feed-forward net (default 0.1).
        residual_dropout: dropout on each residual branch (default 0.0).
        init_token: initialisation of the tokenizer's weights, biases and the [CLS] token:
            ``"uniform"`` in ``±1/sqrt(d_token)`` (default) or ``"normal"`` with standard
            deviation ``1/sqrt(d_token)``.
{COMMON_PARAMS_DOC}
    Example:
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("classif.ft_transformer", epochs=10, n_blocks=1, d_token=8,
        ...               attention_n_heads=2, random_state=1, **{{"opt.lr": 0.01}})
        >>> prediction = learner.train(tsk("iris")).predict(tsk("iris"))
        >>> prediction.score("classif.acc")["classif.acc"] > 0.8
        True
    """

    def __init__(
        self,
        *,
        n_blocks: int = 3,
        d_token: int = 192,
        attention_n_heads: int = 8,
        attention_dropout: float = 0.2,
        ffn_d_hidden: int | None = None,
        ffn_d_hidden_multiplier: float | None = 4 / 3,
        ffn_dropout: float = 0.1,
        residual_dropout: float = 0.0,
        init_token: str = "uniform",
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
        """Validate the parameters, including the ones that depend on each other.

        Example:
            >>> from mlrpy import lrn
            >>> lrn("classif.ft_transformer", d_token=10, attention_n_heads=4).check_params()
            ... # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            mlrpy.errors.ParameterError: 'd_token' (10) must be divisible by 'attention_n_heads' (4): ...
        """
        super().check_params()
        if self.d_token % self.attention_n_heads:
            suggestion = math.ceil(self.d_token / self.attention_n_heads) * self.attention_n_heads
            raise ParameterError(
                f"'d_token' ({self.d_token}) must be divisible by 'attention_n_heads' "
                f"({self.attention_n_heads}): each head attends over d_token / attention_n_heads "
                f"dimensions; e.g. d_token={suggestion}"
            )
        exactly_one(
            ("ffn_d_hidden", self.ffn_d_hidden), ("ffn_d_hidden_multiplier", self.ffn_d_hidden_multiplier)
        )

    def ffn_hidden_width(self) -> int:
        """``ffn_d_hidden`` or ``round(d_token * ffn_d_hidden_multiplier)``.

        Example:
            >>> from mlrpy import lrn
            >>> lrn("regr.ft_transformer").ffn_hidden_width()
            256
        """
        exactly_one(
            ("ffn_d_hidden", self.ffn_d_hidden), ("ffn_d_hidden_multiplier", self.ffn_d_hidden_multiplier)
        )
        if self.ffn_d_hidden is not None:
            return int(self.ffn_d_hidden)
        return max(1, round(self.d_token * self.ffn_d_hidden_multiplier))

    def _build_network(self, n_features: int, n_outputs: int) -> torch.nn.Module:
        return FTTransformer(
            input_layout(self, n_features),
            n_outputs,
            n_blocks=self.n_blocks,
            d_token=self.d_token,
            attention_n_heads=self.attention_n_heads,
            attention_dropout=self.attention_dropout,
            ffn_d_hidden=self.ffn_hidden_width(),
            ffn_dropout=self.ffn_dropout,
            residual_dropout=self.residual_dropout,
            init_token=self.init_token,
        )


@register_learner
class LearnerTorchClassifFTTransformer(LearnerTorchClassif, LearnerTorchFTTransformer):
    __doc__ = LearnerTorchFTTransformer.__doc__  # type: ignore[assignment]
    _key: ClassVar[str] = "classif.ft_transformer"


@register_learner
class LearnerTorchRegrFTTransformer(LearnerTorchRegr, LearnerTorchFTTransformer):
    """``regr.ft_transformer``: the FT-Transformer for regression (parameters as
    ``classif.ft_transformer``).

    Example:
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("regr.ft_transformer", epochs=1, n_blocks=1, d_token=8,
        ...               attention_n_heads=2, random_state=1)
        >>> learner.train(tsk("diabetes")).predict(tsk("diabetes")).response.shape
        (442,)
    """

    _key: ClassVar[str] = "regr.ft_transformer"
