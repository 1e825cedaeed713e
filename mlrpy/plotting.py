"""Learning curves from the ``history`` callback (needs the ``plot`` extra: matplotlib)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlrpy.errors import ParameterError

__all__ = ["plot_history"]


def _matplotlib() -> Any:
    try:
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plot_history() needs matplotlib; install it with: pip install 'mlrpy[plot]'"
        ) from err
    return Figure


def _series(history: pd.DataFrame) -> dict[str, list[str]]:
    """Score name ('loss', measure ids) -> its history columns (train.<name>, valid.<name>)."""
    out: dict[str, list[str]] = {}
    for col in history.columns:
        for part in ("train.", "valid."):
            if isinstance(col, str) and col.startswith(part):
                out.setdefault(col[len(part):], []).append(col)
    if "loss" in out:  # loss first, then the measures in column order
        out = {"loss": out.pop("loss"), **out}
    return out


def plot_history(learner: Any, ax: Any = None) -> Any:
    """Plot the training and validation loss and measures per epoch.

    Reads ``learner.model.callbacks["history"]`` (its columns: name → 1-D array), which
    every training run records. Series are drawn over the
    epochs where they were evaluated (see ``eval_freq``).

    Args:
        learner: a trained learner.
        ax: a matplotlib ``Axes`` to draw every series on; ``None`` makes a new figure
            with one panel for the loss and one per measure.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ImportError: matplotlib is not installed (``pip install 'mlrpy[plot]'``).
        NotFittedError: the learner has not been trained.
        ParameterError: the model holds no history (a model whose history was removed).

    Example:
        >>> from mlrpy import lrn, tsk
        >>> from mlrpy.plotting import plot_history
        >>> learner = lrn("classif.mlp", epochs=3, validate=0.3,
        ...               measures_valid=["classif.acc"], random_state=0)
        >>> fig = plot_history(learner.train(tsk("iris")))
        >>> [a.get_title() for a in fig.axes]
        ['loss', 'classif.acc']
    """
    figure_class = _matplotlib()
    state = learner.model.callbacks.get("history")
    if not isinstance(state, (dict, pd.DataFrame)):
        raise ParameterError(
            f"Learner '{learner.id}' has no training history; retrain it (every run records "
            f"one as model.callbacks['history']; states held: "
            f"{', '.join(sorted(learner.model.callbacks)) or 'none with state'})"
        )
    history = pd.DataFrame(state)
    series = _series(history)
    if not series:
        raise ParameterError(f"Learner '{learner.id}': the history has no train.* or valid.* columns")
    if ax is not None:
        fig = ax.figure
        axes = [ax] * len(series)
    else:
        fig = figure_class(figsize=(5 * len(series), 3.5), layout="constrained")
        axes = list(fig.subplots(1, len(series), squeeze=False)[0])
    for (name, cols), a in zip(series.items(), axes):
        for col in cols:
            data = history[["epoch", col]].dropna()
            label = col if ax is not None else col.split(".", 1)[0]
            a.plot(data["epoch"], data[col], marker="o", markersize=3, label=label)
        if ax is None:
            a.set_title(name)
            a.set_ylabel(name)
        a.set_xlabel("epoch")
        a.legend()
    return fig
