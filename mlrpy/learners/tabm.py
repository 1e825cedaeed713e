"""``classif.tabm`` / ``regr.tabm``: TabM, an MLP run as ``k`` ensemble members at once
(Gorishniy et al. 2024, "TabM: Advancing Tabular Deep Learning with Parameter-Efficient
Ensembling").

In training mode the network returns every member's output, ``(n, k, d_out)``, and the learner
trains each member on its own loss; in evaluation mode it returns the ensemble's output,
``(n, d_out)``: the mean of the members' values (regression) or the log of the mean of their
class probabilities (classification), so that a softmax of it gives the mean probabilities.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.context import ContextTorch
from mlrpy.learners.base import LearnerTorch
from mlrpy.learners.classif import LearnerTorchClassif
from mlrpy.learners.common import COMMON_PARAMS_DOC, SHARED_CONSTRAINTS, store_params
from mlrpy.learners.constraints import Constraint, Interval, Options
from mlrpy.learners.features import FeatureInfo, TabularInput
from mlrpy.learners.registry import register_learner
from mlrpy.learners.regr import LearnerTorchRegr
from mlrpy.learners.tabular import (
    EMBEDDING_DIM_CONSTRAINT,
    EMBEDDING_DIM_DOC,
    TABULAR_FEATURE_TYPES,
    feature_widths,
    input_layout,
)

__all__ = [
    "ARCH_TYPES",
    "BatchEnsembleLinear",
    "EnsembleLinear",
    "LearnerTorchClassifTabM",
    "LearnerTorchRegrTabM",
    "MemberwiseLoss",
    "TabM",
    "ensemble_output",
]

ARCH_TYPES = ("tabm", "tabm-mini")


def init_random_signs_(tensor: torch.Tensor, chunks: Sequence[int] | None = None) -> None:
    """Fill the last dimension with random ±1; all entries of one chunk share a sign.

    The chunks are the features' widths, so every column of a feature's embedding gets the
    same sign, as TabM does.
    """
    chunks = list(chunks) if chunks is not None else [1] * tensor.shape[-1]
    with torch.no_grad():
        signs = torch.randint(0, 2, (*tensor.shape[:-1], len(chunks)), dtype=tensor.dtype) * 2 - 1
        repeats = torch.tensor(chunks, dtype=torch.long)
        tensor.copy_(signs.repeat_interleave(repeats, dim=-1))


class BatchEnsembleLinear(nn.Module):
    """A linear layer shared by ``k`` members, each with its own scalings and bias.

    Member ``i`` computes ``((x * r_i) @ W.T) * s_i + b_i`` (BatchEnsemble). ``W`` is
    uniform in ``±1/sqrt(in_features)``, every ``b_i`` starts as one such uniform draw, and
    ``r``, ``s`` start as ones unless ``first`` is set: then ``r`` gets random signs (per
    chunk of input columns), TabM's initialisation of its first layer.
    """

    def __init__(
        self, in_features: int, out_features: int, k: int, first: bool = False,
        chunks: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.r = nn.Parameter(torch.ones(k, in_features))
        self.s = nn.Parameter(torch.ones(k, out_features))
        self.bias = nn.Parameter(torch.empty(k, out_features))
        bound = 1 / math.sqrt(in_features)
        nn.init.uniform_(self.weight, -bound, bound)
        with torch.no_grad():
            self.bias.copy_(torch.empty(out_features).uniform_(-bound, bound).expand(k, -1))
        if first:
            init_random_signs_(self.r, chunks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x * self.r, self.weight) * self.s + self.bias


class EnsembleLinear(nn.Module):
    """``k`` independent linear layers, member ``i`` applied to ``x[:, i]``."""

    def __init__(self, in_features: int, out_features: int, k: int) -> None:
        super().__init__()
        bound = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(k, in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(k, out_features).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("nki,kio->nko", x, self.weight) + self.bias


def ensemble_output(member_outputs: torch.Tensor, classification: bool) -> torch.Tensor:
    """The ensemble's output from the members' ``(n, k, d_out)`` outputs.

    Regression: the mean value. Classification: the log of the mean class probability
    (computed as a log-sum-exp of log-probabilities, so it stays finite), whose softmax is
    the members' mean probability.

    Example:
        >>> import torch
        >>> from mlrpy.learners.tabm import ensemble_output
        >>> logits = torch.tensor([[[0.0, 0.0], [10.0, -10.0]]])  # 1 row, 2 members
        >>> torch.softmax(ensemble_output(logits, classification=True), dim=-1).round(decimals=3)
        tensor([[0.7500, 0.2500]])
    """
    if not classification:
        return member_outputs.mean(dim=1)
    k = member_outputs.shape[1]
    return torch.logsumexp(F.log_softmax(member_outputs, dim=-1), dim=1) - math.log(k)


class TabM(nn.Module):
    """The TabM network: an MLP of ``n_blocks`` blocks (Linear, ReLU, Dropout) run as ``k``
    members, with one output layer per member.

    ``arch_type="tabm"``: every hidden linear layer is a :class:`BatchEnsembleLinear`.
    ``"tabm-mini"``: the hidden layers are shared ``nn.Linear``; a member differs only by a
    scaling of its input (random signs at first) and by its output layer.

    Example:
        >>> import torch
        >>> from mlrpy.learners.features import FeatureInfo
        >>> from mlrpy.learners.tabm import TabM
        >>> net = TabM(FeatureInfo(["a"], ["b"], [3]), n_outputs=2, k=4, n_blocks=2, d_block=8,
        ...            dropout=0.1, embedding_dim=2)
        >>> x = torch.tensor([[0.5, 2.0], [1.0, 1.0]])
        >>> net.train()(x).shape, net.eval()(x).shape
        (torch.Size([2, 4, 2]), torch.Size([2, 2]))
    """

    def __init__(
        self,
        info: FeatureInfo,
        n_outputs: int,
        k: int,
        n_blocks: int,
        d_block: int,
        dropout: float,
        arch_type: str = "tabm",
        embedding_dim: int | None = None,
        classification: bool = True,
    ) -> None:
        super().__init__()
        self.k = k
        self.arch_type = arch_type
        self.classification = classification
        self.input = TabularInput(info, embedding_dim)
        d_in = self.input.out_features
        chunks = feature_widths(info, embedding_dim)
        self.scaling: nn.Parameter | None = None
        if arch_type == "tabm-mini":
            self.scaling = nn.Parameter(torch.empty(k, d_in))
            init_random_signs_(self.scaling, chunks)
        blocks = []
        for i in range(n_blocks):
            width = d_in if i == 0 else d_block
            linear: nn.Module
            if arch_type == "tabm":
                linear = BatchEnsembleLinear(width, d_block, k, first=i == 0, chunks=chunks)
            else:
                linear = nn.Linear(width, d_block)
            blocks.append(nn.Sequential(linear, nn.ReLU(), nn.Dropout(dropout)))
        self.blocks = nn.Sequential(*blocks)
        self.output = EnsembleLinear(d_block if n_blocks else d_in, n_outputs, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input(x)
        x = x.unsqueeze(1).expand(-1, self.k, -1)  # every member sees the same batch
        if self.scaling is not None:
            x = x * self.scaling
        y = self.output(self.blocks(x))
        return y if self.training else ensemble_output(y, self.classification)


class MemberwiseLoss(nn.Module):
    """Wraps a loss so that each ensemble member is trained on its own loss.

    On a members' output ``(n, k, d_out)`` it returns the mean over the members of the
    wrapped loss of each member (the members are folded into the batch and the targets
    repeated, as the TabM reference does); with ``reduction="none"`` it returns one loss per
    row, the mean over the members. On an ensemble output ``(n, d_out)`` (evaluation) it is
    the wrapped loss itself.

    Example:
        >>> import torch
        >>> from mlrpy.learners.tabm import MemberwiseLoss
        >>> loss = MemberwiseLoss(torch.nn.MSELoss())
        >>> y_hat = torch.tensor([[[1.0], [3.0]]])  # 1 row, 2 members
        >>> float(loss(y_hat, torch.tensor([[1.0]])))  # (0 + 4) / 2
        2.0
    """

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if y_hat.dim() != 3:
            return self.loss(y_hat, y)
        n, k = y_hat.shape[:2]
        value = self.loss(y_hat.reshape(n * k, -1), y.repeat_interleave(k, dim=0))
        if value.dim() == 0:
            return value / k if getattr(self.loss, "reduction", "mean") == "sum" else value
        return value.reshape(n, k, *value.shape[1:]).mean(dim=1)


class LearnerTorchTabM(LearnerTorch):
    feature_types: ClassVar[tuple[str, ...]] = TABULAR_FEATURE_TYPES
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        **SHARED_CONSTRAINTS,
        "arch_type": Options(ARCH_TYPES),
        "k": Interval(int, 1),
        "n_blocks": Interval(int, 1),
        "d_block": Interval(int, 1),
        "dropout": Interval(float, 0, 1, closed="left"),
        "embedding_dim": EMBEDDING_DIM_CONSTRAINT,
    }
    __doc__ = f"""TabM (Gorishniy et al. 2024, "TabM: Advancing Tabular Deep Learning with
    Parameter-Efficient Ensembling"): an MLP run as ``k`` ensemble members at once.

    The backbone has ``n_blocks`` blocks Linear -> ReLU -> Dropout of width ``d_block``,
    and each member has its own output layer. With ``arch_type="tabm"`` every hidden linear
    layer is a BatchEnsemble layer: one weight matrix shared by all members, with per-member
    input and output scalings and biases (the first layer's input scalings start as random
    signs, all other scalings as ones, every member's bias alike). With ``"tabm-mini"`` the
    members share the whole MLP and differ only by a scaling of their input (random signs
    at first) and their output layer. Categorical columns are embedded first (the
    embeddings are shared by the members; the paper one-hot encodes them); the optional
    embeddings of numeric features of the paper are not included. Defaults are those of the
    paper's ``TabM.make``.

    Training: all members see the same batches and each is trained on its own loss (the
    loss is the mean over the members of each member's loss, for whatever ``loss`` is
    set). Prediction averages the members: the mean probability (classification) or the
    mean value (regression). The validation loss is that of the averaged prediction, and
    callbacks that read ``ctx.y_hat`` during training see the members' outputs,
    ``(batch, k, d_out)``.

    Architecture parameters:
        arch_type: ``"tabm"`` (default) or ``"tabm-mini"``.
        k: number of ensemble members (default 32).
        n_blocks: number of blocks of the MLP (default 3).
        d_block: width of every block (default 512).
        dropout: dropout after every block's ReLU (default 0.1).
{EMBEDDING_DIM_DOC}
{COMMON_PARAMS_DOC}
    Example:
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("classif.tabm", epochs=10, k=4, d_block=16, random_state=1,
        ...               **{{"opt.lr": 0.01}})
        >>> prediction = learner.train(tsk("iris")).predict(tsk("iris"))
        >>> prediction.score("classif.acc")["classif.acc"] > 0.8
        True
    """

    def __init__(
        self,
        *,
        arch_type: str = "tabm",
        k: int = 32,
        n_blocks: int = 3,
        d_block: int = 512,
        dropout: float = 0.1,
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
        return TabM(
            input_layout(self, n_features),
            n_outputs,
            k=self.k,
            n_blocks=self.n_blocks,
            d_block=self.d_block,
            dropout=self.dropout,
            arch_type=self.arch_type,
            embedding_dim=self.embedding_dim,
            classification=self.task_type == "classif",
        )

    def _build_run(self, data: Any, setup: Any, parallel: Any) -> tuple[ContextTorch, list[CallbackSet]]:
        # the run's loss sees the members' outputs in training: each member gets its own loss
        ctx, callbacks = super()._build_run(data, setup, parallel)
        ctx.loss_fn = MemberwiseLoss(ctx.loss_fn)
        return ctx, callbacks

    def _score_outputs(
        self,
        ctx: ContextTorch,
        outputs: list[torch.Tensor],
        targets: list[torch.Tensor],
        measures: list[Any],
        weights: np.ndarray | None = None,
    ) -> dict[str, float]:
        # training measures are scored on the ensemble's prediction, as validation ones are
        classification = self.task_type == "classif"
        outputs = [ensemble_output(o, classification) if o.dim() == 3 else o for o in outputs]
        return super()._score_outputs(ctx, outputs, targets, measures, weights)


@register_learner
class LearnerTorchClassifTabM(LearnerTorchClassif, LearnerTorchTabM):
    __doc__ = LearnerTorchTabM.__doc__  # type: ignore[assignment]
    _key: ClassVar[str] = "classif.tabm"


@register_learner
class LearnerTorchRegrTabM(LearnerTorchRegr, LearnerTorchTabM):
    """``regr.tabm``: TabM for regression (parameters as ``classif.tabm``).

    Example:
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("regr.tabm", epochs=2, k=4, d_block=16, random_state=1)
        >>> learner.train(tsk("diabetes")).predict(tsk("diabetes")).response.shape
        (442,)
    """

    _key: ClassVar[str] = "regr.tabm"
