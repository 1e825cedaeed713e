"""``mixup``: train on convex combinations of pairs of rows and of their losses."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import torch
from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks
from mlrpy.errors import ParameterError

__all__ = ["CallbackSetMixup", "mixup"]

EXAMPLE = 't_clbk("mixup", alpha=0.4)'


def _mix(x: Any, lam: float, perm: torch.Tensor, owner: str) -> Any:
    """``lam * x + (1 - lam) * x[perm]`` for a tensor, or for each tensor of a dict, list or tuple."""
    if isinstance(x, dict):
        return {k: _mix(v, lam, perm, owner) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_mix(v, lam, perm, owner) for v in x)
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        kind = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise ParameterError(
            f"Callback '{owner}' mixes the inputs of two rows, which must be floating-point "
            f"tensors; this batch holds {kind}"
        )
    return torch.lerp(x[perm], x, lam)  # a new tensor: the batch may be a view of the data


class CallbackSetMixup(CallbackSet):
    """Mixup (Zhang et al., 2018; luz's ``luz_callback_mixup``): each training batch is
    replaced by mixtures of pairs of its rows, and the loss by the same mixture of the losses
    against both rows' targets.

    At every training batch a weight ``lambda`` is drawn from ``Beta(alpha, alpha)`` and the
    rows are paired with a random permutation ``perm`` of the batch: ``on_batch_begin``
    replaces the inputs by ``lambda * x + (1 - lambda) * x[perm]`` and ``on_after_loss`` the
    loss by ``lambda * loss(y_hat, y) + (1 - lambda) * loss(y_hat, y[perm])``. This works for
    classification (class labels) and regression targets alike. Validation, ``evaluate()``
    and prediction see the data unchanged, so validation scores are those of clean inputs.
    Both draws come from torch's random number generator, so a run is reproducible under
    ``random_state`` (and resumes exactly from a checkpoint). A small ``alpha`` keeps
    ``lambda`` near 0 or 1 (little mixing); ``alpha=1`` draws it uniformly.

    Inputs are mixed as numbers, so they must be floating-point tensors (or dicts, lists or
    tuples of them), and a network with an ``nn.Embedding`` (categorical level codes, token
    ids) is refused. Sample weights are not supported.

    The last batch's ``lam`` and ``perm`` are kept as attributes (for inspection in tests).

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> learner = lrn("regr.mlp", epochs=2, random_state=0,
        ...               callbacks=[t_clbk("mixup", alpha=0.2)])
        >>> learner.train(tsk("diabetes")).model.epochs
        2
    """

    reads: ClassVar[tuple[str, ...]] = ("network", "batch", "y_hat", "loss", "loss_fn")
    writes: ClassVar[tuple[str, ...]] = ("batch", "loss")

    def __init__(
        self,
        alpha: Annotated[
            float, Field(gt=0, description="both parameters of the Beta distribution of the mixing weight")
        ] = 0.4,
    ) -> None:
        self.alpha = alpha
        self.lam: float | None = None
        self.perm: torch.Tensor | None = None
        self._beta: torch.distributions.Beta | None = None

    def on_begin(self) -> None:
        network = self.ctx.network
        assert network is not None
        if any(isinstance(m, torch.nn.Embedding) for m in network.modules()):
            raise ParameterError(
                f"Callback '{self.id}' mixes the inputs of two rows as numbers, but the network "
                f"embeds integer codes (nn.Embedding: categorical features or token ids), which "
                f"cannot be mixed; use mixup with numeric inputs only"
            )
        concentration = torch.tensor(float(self.alpha))
        self._beta = torch.distributions.Beta(concentration, concentration)

    def on_batch_begin(self) -> None:
        batch = self.ctx.batch
        assert batch is not None and self._beta is not None
        if batch.weight is not None:
            raise ParameterError(
                f"Callback '{self.id}' does not support sample weights; train without "
                f"sample_weight (or a weights column) or without mixup"
            )
        self.lam = float(self._beta.sample())
        self.perm = torch.randperm(len(batch.index)).to(batch.index.device)
        batch.x = _mix(batch.x, self.lam, self.perm, self.id)

    def on_after_loss(self) -> None:
        ctx = self.ctx
        assert ctx.batch is not None and ctx.batch.y is not None and ctx.loss is not None
        assert self.lam is not None and self.perm is not None
        other = ctx.loss_fn(ctx.y_hat, ctx.batch.y[self.perm])
        ctx.loss = self.lam * ctx.loss + (1.0 - self.lam) * other


mixup = TorchCallback(
    "mixup",
    CallbackSetMixup,
    label="Mixup",
    man=man_with_example(CallbackSetMixup, EXAMPLE),
)
mlr_callbacks.add(mixup)
