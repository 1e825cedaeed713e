"""``learner.lr_find()``: the learning-rate range test on a copy of the learner.

A copy (:func:`sklearn.base.clone`) trains with the ``lr_finder`` callback alone, which raises
the learning rate exponentially from ``start_lr`` to ``end_lr`` over ``num_iter`` batches and
records the loss; the result holds the records and a suggested rate. The learner itself, its
parameters and any model it has, stays as it was.

How the rate is suggested
-------------------------
As Lightning and fastai do: the rate where the smoothed loss falls fastest, that is where its
gradient with respect to ``log10(lr)`` is most negative. The first records (``min(10, n //
10)`` of ``n``), while the moving average settles, and the last one, where the loss may have
diverged, are left out, as are NaN and infinite losses. With fewer than three records left
there is no suggestion (``None``). It is a starting point, usually a little below the rate
with the lowest loss; the plot shows the whole curve.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from mlrpy.callbacks import t_clbk
from mlrpy.errors import ParameterError

__all__ = ["LRFindResult", "lr_find", "suggest_lr"]

#: what the copy runs without: anything that validates, stops early, continues an earlier run
#: or turns a diverging loss into an error would distort the test or cost time for nothing
_RANGE_TEST_PARAMS = {
    "validate": None,
    "measures_train": None,
    "measures_valid": None,
    "patience": 0,
    "warm_start": False,
    "resume": None,
    "on_nonfinite": "ignore",
    # in this process: the range test is short, and starting worker processes would dominate it
    "strategy": None,
}


def suggest_lr(lrs: Any, losses: Any) -> float | None:
    """The rate where ``losses`` (smoothed) fall fastest over ``log10(lrs)``; see the module
    documentation for the records left out. ``None`` when too few remain.

    Example:
        >>> import numpy as np
        >>> from mlrpy.learners.lr_find import suggest_lr
        >>> lrs = np.logspace(-5, 0, 26)
        >>> losses = 1 / (1 + np.exp(3 * (np.log10(lrs) + 2)))  # falls fastest at 1e-2
        >>> round(float(np.log10(suggest_lr(lrs, losses))), 6)
        -2.0
    """
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    n = len(losses)
    keep = np.zeros(n, dtype=bool)
    keep[min(10, n // 10): n - 1] = True
    keep &= np.isfinite(losses)
    if keep.sum() < 3:
        return None
    gradient = np.gradient(losses[keep], np.log10(lrs[keep]))
    return float(lrs[keep][int(np.argmin(gradient))])


@dataclass(frozen=True)
class LRFindResult:
    """What :func:`lr_find` found.

    Attributes:
        frame: one row per batch: ``lr``, ``loss`` and ``smoothed_loss`` (the
            ``lr_finder`` callback's records).
        suggested_lr: the suggested learning rate (see :func:`suggest_lr`), or ``None``.
        axes: the matplotlib ``Axes`` drawn by ``lr_find(..., plot=True)``, else ``None``.
    """

    frame: pd.DataFrame
    suggested_lr: float | None
    axes: Any = field(default=None, compare=False)

    def plot(self, ax: Any = None) -> Any:
        """Draw the loss (raw and smoothed) over the learning rate on a log scale, with the
        suggested rate marked; returns the matplotlib ``Axes`` (its figure is ``ax.figure``).

        Args:
            ax: the ``Axes`` to draw on; ``None`` makes a new figure.

        Raises:
            ImportError: matplotlib is not installed (``pip install 'mlrpy[plot]'``).
        """
        if ax is None:
            try:
                from matplotlib.figure import Figure
            except ImportError as err:  # pragma: no cover - depends on the environment
                raise ImportError(
                    "LRFindResult.plot() needs matplotlib; install it with: pip install 'mlrpy[plot]'"
                ) from err
            ax = Figure().add_subplot()
        frame = self.frame
        ax.plot(frame["lr"], frame["loss"], alpha=0.3, label="loss")
        ax.plot(frame["lr"], frame["smoothed_loss"], label="smoothed loss")
        if self.suggested_lr is not None:
            ax.axvline(self.suggested_lr, color="red", linestyle="--",
                       label=f"suggested lr {self.suggested_lr:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.legend()
        return ax

    def __repr__(self) -> str:
        lrs = self.frame["lr"]
        span = f"{len(lrs)} rates from {lrs.iloc[0]:.3g} to {lrs.iloc[-1]:.3g}" if len(lrs) else "no rates"
        suggestion = "none" if self.suggested_lr is None else f"{self.suggested_lr:.3g}"
        return f"<LRFindResult> {span}, suggested lr: {suggestion}"


def lr_find(
    learner: Any,
    X: Any,
    y: Any = None,
    start_lr: float = 1e-7,
    end_lr: float = 1.0,
    num_iter: int = 100,
    plot: bool = False,
    smoothing: float = 0.98,
    diverge_threshold: float | None = 4.0,
) -> LRFindResult:
    """Run the learning-rate range test on a copy of ``learner`` (``learner.lr_find(...)``).

    The copy trains on ``X, y`` (or on a task given as ``X``) with the ``lr_finder``
    callback alone, for at most ``num_iter`` batches (as many epochs as that takes), without
    validation, early stopping, warm start or resume, and with ``on_nonfinite="ignore"``
    (a diverging loss ends the test instead of raising). The learner's own callbacks do not
    run: loggers and checkpoints would write files, schedules would fight over the rate.
    Every other parameter (network, optimizer, batch size, device, seed) is the learner's;
    the copy starts from freshly initialised weights, as a new fit would. ``learner`` itself
    is not changed, fitted or not.

    Args:
        learner: a torch learner.
        X: features, or a task (then ``y`` stays ``None``).
        y: targets for the features.
        start_lr, end_lr, num_iter, smoothing, diverge_threshold: the ``lr_finder``
            callback's parameters.
        plot: also draw the curve (see :meth:`LRFindResult.plot`); the ``Axes`` is
            ``result.axes``.

    Returns:
        An :class:`LRFindResult`: ``frame`` (``lr``, ``loss``, ``smoothed_loss``),
        ``suggested_lr`` and ``plot()``.

    Example:
        >>> from mlrpy import lrn, tsk
        >>> learner = lrn("classif.mlp", batch_size=16, optimizer="sgd", random_state=0)
        >>> result = learner.lr_find(tsk("iris"), start_lr=1e-4, end_lr=1, num_iter=40)
        >>> result.frame.columns.tolist()
        ['lr', 'loss', 'smoothed_loss']
        >>> 1e-4 <= result.suggested_lr <= 1
        True
        >>> hasattr(learner, "model_")  # the learner itself was not trained
        False
    """
    is_task = hasattr(X, "task_type") and hasattr(X, "feature_names")
    if is_task and y is not None:
        raise ParameterError(f"Learner '{learner.id}': lr_find(task) takes no y; the task holds the target")
    if not is_task and y is None:
        raise ParameterError(f"Learner '{learner.id}': lr_find(X, y) needs the targets y (or pass a task)")
    finder = t_clbk(
        "lr_finder", start_lr=start_lr, end_lr=end_lr, num_iter=num_iter, smoothing=smoothing,
        diverge_threshold=diverge_threshold,
    )
    copy = clone(learner)
    if copy.id != learner.id:  # errors name the learner as the user named it
        copy.id = learner.id
    own = copy.get_params(deep=False)
    # every epoch has a batch, so num_iter epochs always reach num_iter batches; the
    # callback stops the run there
    copy.set_params(
        callbacks=[finder], epochs=num_iter, **{k: v for k, v in _RANGE_TEST_PARAMS.items() if k in own}
    )
    if is_task:
        copy.train(X)
    else:
        copy.fit(X, y)
    frame = pd.DataFrame(copy.model.callbacks["lr_finder"])
    result = LRFindResult(frame, suggest_lr(frame["lr"], frame["smoothed_loss"]))
    if plot:
        result = LRFindResult(result.frame, result.suggested_lr, axes=result.plot())
    return result
